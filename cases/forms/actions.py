"""The forms of a case's actions (DESIGN.md §5 `cases/{reference}/{action}/`, as pages).

Each carries the case `version` the page showed, so that acting on a stale page is refused with
`case_changed` instead of silently overriding someone else's move; the rest are the service's own fields.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cases.forms.intake import routable_departments
from cases.forms.units import UnitDirectory
from cases.models import Case, Outcome
from cases.services import handlers_of
from cases.services.attachments import ALLOWED_TYPES

# Long enough for a reasoned note or a list of missing documents; a bound keeps a runaway post out.
MAX_NOTE_LENGTH = 10_000
STALE_PAGE = _("The page did not say which version of the case it showed; reload it and try again.")


def note_field(label, *, required: bool = True, rows: int = 2, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, max_length=MAX_NOTE_LENGTH, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class CaseActionForm(forms.Form):
    """One action on one case; `title`, `submit_label` and `button_class` dress its card on the page."""

    title = ""
    submit_label = ""
    button_class = "btn-primary"
    fields_template = ""  # a template that lays the fields out by hand, when crispy's plain layout will not do
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1,
                                 error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE})

    def __init__(self, data=None, files=None, *, case: Case, units: UnitDirectory | None = None, **kwargs):
        self.case = case
        # Given by the case page, which shows many forms: their unit lists come from it, not from more queries.
        self.units = units
        kwargs["initial"] = {"version": case.version, **kwargs.get("initial", {})}
        super().__init__(data, files, **kwargs)

    def service_arguments(self) -> dict:
        """The service's keyword arguments, the version becoming the one it expects to find."""
        arguments = dict(self.cleaned_data)
        arguments["expected_version"] = arguments.pop("version")
        return arguments

    @property
    def has_visible_fields(self) -> bool:
        return bool(self.visible_fields())


class AcceptForm(CaseActionForm):
    title = _("Accept")
    submit_label = _("Accept the case")


class AssignForm(CaseActionForm):
    title = _("Assign")
    submit_label = _("Assign")
    assignee = PersonChoiceField(label=_("Assignee"), queryset=get_user_model().objects.none(),
                                 to_field_name="username", empty_label=_("Choose a handler…"))

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        if case.owner_id:
            self.fields["assignee"].queryset = handlers_of(case.owner)
        if case.assignee_id and "assignee" not in self.initial:
            self.initial["assignee"] = case.assignee


class ProposeForm(CaseActionForm):
    title = _("Propose a resolution")
    submit_label = _("Propose")
    button_class = "btn-outline-primary"
    note = note_field(_("Proposed resolution"), rows=3)


class ResolveForm(CaseActionForm):
    title = _("Resolve")
    submit_label = _("Resolve the case")
    button_class = "btn-success"
    note = note_field(_("Resolution"), rows=3)


class SubmitForm(CaseActionForm):
    title = _("Submit to the City Committee")
    submit_label = _("Submit")
    summary = note_field(_("Summary for the City Committee"), rows=4)


class ReturnForm(CaseActionForm):
    title = _("Return the case")
    submit_label = _("Return")
    button_class = "btn-outline-danger"
    reason = note_field(_("Why it is outside your unit's functions"))


class TransferForm(CaseActionForm):
    title = _("Transfer to the competent unit")
    submit_label = _("Transfer")
    button_class = "btn-outline-danger"
    to = forms.ModelChoiceField(label=_("Transfer to"), queryset=routable_departments(), to_field_name="code",
                                empty_label=_("Choose a unit…"))
    reason = note_field(_("Reason"))

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["to"].queryset = routable_departments().exclude(pk=case.owner_id)
        if self.units is not None:
            units = self.units.routable(exclude_pk=case.owner_id)
            self.fields["to"].choices = [("", self.fields["to"].empty_label), *((u.code, u.name) for u in units)]


class RequestSupplementForm(CaseActionForm):
    title = _("Ask the applicant for a supplement")
    submit_label = _("Request the supplement")
    button_class = "btn-outline-primary"
    items = note_field(_("Documents missing"), rows=4, help_text=_(
        "List everything missing, one item per line: the applicant may be asked only once."))


class CompleteSupplementForm(CaseActionForm):
    title = _("Supplement received")
    submit_label = _("Mark the dossier complete")
    note = note_field(_("Note"), required=False)


class DisputeForm(CaseActionForm):
    title = _("Dispute the authority rule")
    submit_label = _("File a rule dispute")
    button_class = "btn-outline-secondary"
    reason = note_field(_("Why the rule is wrong"), rows=3)


class DecideForm(CaseActionForm):
    title = _("Record the City Committee's decision")
    submit_label = _("Record the decision")
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", _("Choose…")), *Outcome.choices])
    note = note_field(_("Decision note"), required=False)


def accepted_suffixes() -> list[str]:
    return sorted({suffix for suffixes in ALLOWED_TYPES.values() for suffix in suffixes})


class AttachmentForm(CaseActionForm):
    """A file for the case; adding one changes nothing another person could be overriding, so no version."""

    title = _("Add a file")
    submit_label = _("Upload")
    button_class = "btn-outline-primary"
    version = None
    file = forms.FileField(label=_("File"), allow_empty_file=False)

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        field = self.fields["file"]
        # A hint for the browser's file picker; the service judges the file by its content.
        field.widget.attrs["accept"] = ",".join(accepted_suffixes())
        field.help_text = _("PDF, JPEG, PNG, Word (.docx), Excel (.xlsx) or OpenDocument; up to %(limit)s MB.") % {
            "limit": f"{settings.ATTACHMENT_MAX_BYTES / 2**20:g}"}

    def service_arguments(self) -> dict:
        return {"upload": self.cleaned_data["file"]}
