"""Forms of the oversight records: inspections with their files, violations and what is done about
them, commendations, and the filters of their lists.

The forms read and tidy the input; the services in oversight/services.py judge it (dates, the inspection a
source needs, active choices) and a ValidationError they raise is shown on the field it names.
"""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from cases import policy
from cases.measures import Window
from cases.models import Case
from core import periods
from core.files import accepted_suffixes, validate_upload
from core.forms import MAX_NOTE_LENGTH, note_field
from core.periods import DATE_INPUT, today
from departments.models import Department, Role
from oversight.models import (
    INSPECTION_SOURCES,
    ActionKind,
    CommendationLevel,
    Inspection,
    InspectionKind,
    Severity,
    Violation,
    ViolationKind,
    ViolationSource,
    ViolationStatus,
)

User = get_user_model()

# The staff whose conduct a violation record is about: the people who handle the public's cases.
CASEWORK_ROLES = (Role.CLERK, Role.SPECIALIST, Role.DEPUTY, Role.HEAD)
# A pasted list of references may be long, but not unbounded.
MAX_RELATED_CASES = 50
REFERENCE_SEPARATORS = re.compile(r"[\s,;]+")


def staff_members(roles=None) -> QuerySet:
    """Active users with a place in a unit (of the given roles), with the unit read in the same query."""
    users = User.objects.filter(is_active=True, staff__isnull=False)
    if roles is not None:
        users = users.filter(staff__role__in=roles)
    return users.select_related("staff__department").order_by("staff__department__name", "first_name", "last_name",
                                                              "username")


def overseers() -> QuerySet:
    """Who may answer for a violation's handling: those who keep the records (`may_oversee`), active."""
    return (User.objects.filter(is_active=True).filter(Q(is_superuser=True) | policy.OVERSEEING_STAFF)
            .select_related("staff__department").order_by("first_name", "last_name", "username"))


def active_units() -> QuerySet[Department]:
    return Department.objects.filter(active=True).order_by("name")


def person_label(user) -> str:
    """“Full name — unit (role)”, so that two officials of the same name are told apart."""
    name = user.get_full_name() or user.username
    staff = getattr(user, "staff", None)
    if staff is None:
        return f"{name} ({_('Administrator')})" if user.is_superuser else name
    return f"{name} — {staff.department.name} ({staff.get_role_display()})"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class InspectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.inspected_on:%d/%m/%Y} · {obj.get_kind_display()} · {obj.department.name}"


def date_field(label, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return periods.date_field(label, required=required, initial=today, help_text=help_text)


def choice_field(model, label) -> forms.ModelChoiceField:
    """A field of an admin-kept list: only what is still offered, in the admins' order."""
    return forms.ModelChoiceField(label=label, queryset=model.objects.filter(active=True).order_by("position", "name"),
                                  to_field_name="code", empty_label=_("Choose…"))


def no_later_than_today(form: forms.Form) -> None:
    """A hint for the date pickers; the services refuse a date in the future whatever the browser sends."""
    latest = today().strftime(DATE_INPUT)
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget.attrs["max"] = latest


def files_help() -> str:
    return _("PDF, JPEG, PNG, Word (.docx), Excel (.xlsx) or OpenDocument; up to %(limit)s MB each.") % {
        "limit": f"{settings.ATTACHMENT_MAX_BYTES / 2**20:g}"}


def checked_upload(upload) -> None:
    """The service's own check of a file, told with the file's name: among several, the reader must know
    which one was refused. The service checks again before it stores anything."""
    try:
        validate_upload(upload)
    except ValidationError as error:
        reasons = " ".join(error.message_dict.get("file", error.messages))
        raise ValidationError(f"{upload.name}: {reasons}") from None


def form_helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(*layout)
    return helper


# --- Inspections ---------------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked as the service will check it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, (list, tuple)) else [data] if data else []
        cleaned = [super(MultipleFileField, self).clean(upload, initial) for upload in uploads]
        if self.required and not cleaned:
            raise ValidationError(self.error_messages["required"], code="required")
        errors = []
        for upload in cleaned:
            try:
                checked_upload(upload)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


class InspectionForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Inspected unit"), queryset=active_units(), to_field_name="code",
                                        empty_label=_("Choose a unit…"))
    kind = forms.ChoiceField(label=_("Kind"), choices=InspectionKind.choices, initial=InspectionKind.SURPRISE,
                             widget=forms.RadioSelect)
    inspected_on = date_field(_("Date of the inspection"))
    team = PeopleChoiceField(label=_("Inspection team"), queryset=staff_members().filter(policy.OVERSEEING_STAFF),
                             to_field_name="username", widget=forms.SelectMultiple(attrs={"size": 6}),
                             help_text=_("Inspectors and Home Affairs officials; hold Ctrl (⌘ on a Mac) to choose "
                                         "several."))
    findings = note_field(_("Findings"), required=False, rows=5)
    files = MultipleFileField(label=_("Files"), required=False, allow_empty_file=False,
                              help_text=_("Minutes, photos, reports: several at once if you like."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        no_later_than_today(self)
        files = self.fields["files"]
        files.widget.attrs["accept"] = ",".join(accepted_suffixes())
        files.help_text = f"{files.help_text} {files_help()}"
        staff = policy.membership(user)
        if not self.is_bound and staff is not None and policy.may_oversee(user):
            self.initial.setdefault("team", [user.username])
        self.helper = form_helper(
            Row(Column("department", css_class="col-md-8"), Column("inspected_on", css_class="col-md-4")),
            "kind", "team", "findings", "files")

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["uploads"] = data.pop("files")
        return data


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("Add a file"), allow_empty_file=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(accepted_suffixes())
        self.fields["file"].help_text = files_help()


class InspectionFilterForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Unit"), required=False, to_field_name="code",
                                        queryset=Department.objects.order_by("name"), empty_label=_("All units"))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any kind")), *InspectionKind.choices])

    def filter(self, inspections: QuerySet[Inspection]) -> QuerySet[Inspection]:
        # A field that failed validation is absent from cleaned_data: it filters nothing.
        self.is_valid()
        cleaned = self.cleaned_data
        if cleaned.get("department"):
            inspections = inspections.filter(department=cleaned["department"])
        if cleaned.get("kind"):
            inspections = inspections.filter(kind=cleaned["kind"])
        return inspections


# --- Violations ----------------------------------------------------------------------------------------------


class ViolationForm(forms.Form):
    person = PersonChoiceField(label=_("Person"), queryset=staff_members(CASEWORK_ROLES), to_field_name="username",
                               empty_label=_("Choose a staff member…"))
    discovered_on = date_field(_("Discovered on"))
    # "Source" alone is a case's source (a citizen, an agency…); here it is how the violation came to light.
    source = forms.ChoiceField(label=pgettext_lazy("violation", "Source"),
                               choices=[("", _("Choose…")), *ViolationSource.choices])
    inspection = InspectionChoiceField(
        label=_("Inspection"), required=False, empty_label=_("None"),
        queryset=Inspection.objects.select_related("department").order_by("-inspected_on", "-id"),
        help_text=_("Only for a violation an inspection found: a surprise inspection for that source, a "
                    "scheduled one for a periodic inspection."))
    kind = choice_field(ViolationKind, _("Kind"))
    severity = choice_field(Severity, _("Severity"))
    description = note_field(_("What happened"), rows=4)
    cases = forms.CharField(label=_("Related cases"), required=False, max_length=MAX_NOTE_LENGTH,
                            widget=forms.Textarea(attrs={"rows": 2}),
                            help_text=_("Case references, separated by commas, spaces or new lines."))
    handler = PersonChoiceField(label=_("Responsible official"), queryset=overseers(), to_field_name="username",
                                empty_label=None, help_text=_("The official answerable for following the handling "
                                                              "through to its end."))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.initial.setdefault("handler", user.username)
        no_later_than_today(self)
        self.helper = form_helper(
            Row(Column("person", css_class="col-md-8"), Column("discovered_on", css_class="col-md-4")),
            Row(Column("source", css_class="col-md-4"), Column("inspection", css_class="col-md-8")),
            Row(Column("kind", css_class="col-md-8"), Column("severity", css_class="col-md-4")),
            "description", "cases", "handler")

    @classmethod
    def prefilled(cls, query, *, user) -> ViolationForm:
        """The blank form, filled from the link that led here: an inspection's page (`inspection`), or the
        staff report (`person`, `source`, `case`)."""
        initial = {}
        inspection_id = query.get("inspection", "")
        inspection = Inspection.objects.filter(pk=inspection_id).first() if inspection_id.isdigit() else None
        if inspection is not None:
            source = {kind: source for source, kind in INSPECTION_SOURCES.items()}[inspection.kind]
            initial.update(inspection=inspection, source=source, discovered_on=inspection.inspected_on)
        if query.get("person"):
            initial["person"] = query["person"]
        if query.get("source") in ViolationSource.values and inspection is None:
            initial["source"] = query["source"]
        if query.get("case"):
            initial["cases"] = query["case"]
        return cls(user=user, initial=initial)

    def clean_cases(self) -> list[Case]:
        references = list(dict.fromkeys(ref for ref in REFERENCE_SEPARATORS.split(self.cleaned_data["cases"]) if ref))
        if len(references) > MAX_RELATED_CASES:
            raise ValidationError(_("Name at most %(count)d cases.") % {"count": MAX_RELATED_CASES})
        if not references:
            return []
        # References are written in capitals; one typed in small letters is read as meant.
        wanted = {ref.upper(): ref for ref in references}
        found = {case.reference.upper(): case for case in policy.cases_visible_to(self.user).filter(
            reference__in={*references, *wanted})}
        unknown = [ref for key, ref in wanted.items() if key not in found]
        if unknown:
            raise ValidationError(ngettext("No case has the reference %(references)s.",
                                           "No cases have the references %(references)s.", len(unknown))
                                  % {"references": ", ".join(unknown)})
        return list(dict.fromkeys(found[key] for key in wanted))


class ViolationActionForm(forms.Form):
    """A form of the violation page's actions; each knows the violation it acts on."""

    def __init__(self, *args, violation: Violation, **kwargs):
        super().__init__(*args, **kwargs)
        self.violation = violation


class ExtendForm(ViolationActionForm):
    title = _("Extend the handling deadline")
    submit_label = _("Extend")
    button_class = "btn-warning"
    reason = note_field(_("Reason for the extension"), rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("Once only, up to %(days)d days after discovery, and only before the "
                                            "current deadline has passed.") % {
            "days": settings.VIOLATION_HANDLING_MAX_DAYS}


class ActForm(ViolationActionForm):
    title = _("Record an action taken")
    submit_label = _("Record the action")
    button_class = "btn-primary"
    kind = choice_field(ActionKind, _("Action taken"))
    decided_on = date_field(_("Decided on"))
    decision_number = forms.CharField(label=_("Decision number"), max_length=100, required=False)
    note = note_field(_("Note"), required=False, rows=3)
    ends_handling = forms.BooleanField(label=_("This ends the handling"), required=False,
                                       help_text=_("The violation is then closed as handled, with this note as its "
                                                   "conclusion."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        no_later_than_today(self)
        self.fields["decided_on"].widget.attrs["min"] = self.violation.discovered_on.strftime(DATE_INPUT)


class DismissForm(ViolationActionForm):
    title = _("Not confirmed")
    submit_label = _("Close as not confirmed")
    button_class = "btn-outline-danger"
    reason = note_field(_("Why the violation was not confirmed"), rows=3)


DEADLINE_CHOICES = [("", _("Any")), ("overdue", _("Overdue")), ("due_soon", _("Due within a working day"))]


class ViolationFilterForm(forms.Form):
    q = forms.CharField(label=_("Person"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"placeholder": _("Name or username")}))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *ViolationStatus.choices])
    deadline = forms.ChoiceField(label=_("Handling deadline"), required=False, choices=DEADLINE_CHOICES)
    department = forms.ModelChoiceField(label=_("Unit"), required=False, to_field_name="code",
                                        queryset=Department.objects.order_by("name"), empty_label=_("All units"))
    kind = forms.ModelChoiceField(label=_("Kind"), required=False, to_field_name="code",
                                  queryset=ViolationKind.objects.order_by("position", "name"),
                                  empty_label=_("Any kind"))

    def filter(self, violations: QuerySet[Violation], window: Window) -> QuerySet[Violation]:
        self.is_valid()
        cleaned = self.cleaned_data
        if cleaned.get("status"):
            violations = violations.filter(status=cleaned["status"])
        deadline = cleaned.get("deadline")
        if deadline:
            late_or_soon = window.overdue() if deadline == "overdue" else window.due_soon()
            violations = violations.filter(late_or_soon, status=ViolationStatus.OPEN)
        if cleaned.get("department"):
            violations = violations.filter(department=cleaned["department"])
        if cleaned.get("kind"):
            violations = violations.filter(kind=cleaned["kind"])
        text = (cleaned.get("q") or "").strip()
        if text:
            violations = violations.alias(
                person_name=Concat("person__first_name", Value(" "), "person__last_name")).filter(
                Q(person_name__icontains=text) | Q(person__username__icontains=text))
        return violations


# --- Commendations -------------------------------------------------------------------------------------------


class CommendationForm(forms.Form):
    person = PersonChoiceField(label=_("Person"), required=False, queryset=staff_members(),
                               to_field_name="username", empty_label=_("—"))
    department = forms.ModelChoiceField(label=_("or a unit"), required=False, queryset=active_units(),
                                        to_field_name="code", empty_label=_("—"))
    level = choice_field(CommendationLevel, _("Level"))
    reason = note_field(_("Reason"), rows=4)
    awarded_on = date_field(_("Awarded on"))
    decision_number = forms.CharField(label=_("Decision number"), max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        no_later_than_today(self)
        self.helper = form_helper(
            Row(Column("person", css_class="col-md-6"), Column("department", css_class="col-md-6")),
            Row(Column("level", css_class="col-md-6"), Column("awarded_on", css_class="col-md-3"),
                Column("decision_number", css_class="col-md-3")),
            "reason")

    def clean(self):
        cleaned = super().clean()
        if self.errors.keys() & {"person", "department"}:
            return cleaned
        if (cleaned.get("person") is None) == (cleaned.get("department") is None):
            self.add_error("person", _("Commend either a person or a unit."))
        return cleaned
