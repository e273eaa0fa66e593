"""Forms of consultations (DESIGN.md §2 rules 6 and 7): asking, assigning, answering, reconciling; and the
period of the consultation report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.forms.actions import CaseActionForm, note_field
from cases.forms.units import UnitDirectory, consultable_units
from cases.models import Consultation, Position
from cases.services.consultations import required_consultee_codes
from departments.models import Department
from departments.workdays import local_date

DATE_INPUT = "%Y-%m-%d"
DATE_FORMATS = [DATE_INPUT, "%d/%m/%Y"]


def today() -> dt.date:
    return local_date(timezone.now())


def date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format=DATE_INPUT)


@dataclass(frozen=True)
class UnitChoice:
    """One unit the consult form offers, with what the case already asked of it."""

    unit: Department
    required: bool
    checked: bool
    latest: Consultation | None  # its latest round on this case


class ConsultForm(CaseActionForm):
    """The rule's required consultees first, pre-checked; any other unit needs a written justification,
    which the service judges (and records its refusal), so the form does not."""

    title = _("Ask for opinions")
    submit_label = _("Send the request")
    fields_template = "cases/_consult_fields.html"
    departments = forms.ModelMultipleChoiceField(
        label=_("Departments to consult"), queryset=Department.objects.none(), to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one department to consult.")})
    question = note_field(_("Question"), rows=3)
    justification = note_field(_("Why consult units the rule does not require"), required=False, help_text=_(
        "Needed when you ask a unit the rule does not require; such requests are counted as non-required."))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["departments"].queryset = consultable_units(case)

    def unit_choices(self) -> tuple[list[UnitChoice], list[UnitChoice]]:
        """(the rule's required consultees in the rule's order, every other unit)."""
        units = (self.units or UnitDirectory(self.fields["departments"].queryset)).consultable(self.case)
        latest = {}
        for consultation in sorted(self.case.consultations.all(), key=lambda c: c.round):
            latest[consultation.department_id] = consultation
        by_code = {unit.code: unit for unit in units}
        required = [by_code[code] for code in required_consultee_codes(self.case) if code in by_code]
        chosen = set(self["departments"].value() or ()) if self.is_bound else None

        def choice(unit, is_required):
            # Unbound, a required unit is pre-checked until it has been asked; a new round is a deliberate choice.
            checked = unit.code in chosen if chosen is not None else is_required and unit.pk not in latest
            return UnitChoice(unit, is_required, checked, latest.get(unit.pk))

        required_pks = {unit.pk for unit in required}
        return ([choice(unit, True) for unit in required],
                [choice(unit, False) for unit in units if unit.pk not in required_pks])

    def service_arguments(self) -> dict:
        arguments = super().service_arguments()
        arguments["departments"] = list(arguments["departments"])
        return arguments


class ReconcileForm(CaseActionForm):
    """How the owner's head settled one disagreement; the file, if any, is one already on the case."""

    title = _("Reconcile the disagreement")
    submit_label = _("Record the settlement")
    button_class = "btn-outline-primary"
    consultation = forms.ModelChoiceField(
        queryset=Consultation.objects.none(), widget=forms.HiddenInput,
        error_messages={"required": _("The page did not say which answer you reconcile; reload it."),
                        "invalid_choice": _("That answer is not one of this case's consultations.")})
    note = note_field(_("How the disagreement was settled"), rows=3)
    settled_on = forms.DateField(label=_("Settled on"), required=False, initial=today, input_formats=DATE_FORMATS,
                                 widget=date_input(), help_text=_("Empty: today."))
    attachment = forms.TypedChoiceField(label=_("Supporting file"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["consultation"].queryset = Consultation.objects.filter(case=case)
        self.fields["settled_on"].widget.attrs["max"] = today().strftime(DATE_INPUT)
        # The case page has the files already; a select built from them costs no query per form.
        self._attachments = {attachment.pk: attachment for attachment in case.attachments.all()}
        self.fields["attachment"].choices = [("", _("None")), *(
            (attachment.pk, attachment.original_name) for attachment in self._attachments.values())]

    def clean_attachment(self):
        pk = self.cleaned_data.get("attachment")
        return self._attachments[pk] if pk is not None else None


class ActionCardForm(forms.Form):
    """What the case page's actions card needs of a form that is not a case action."""

    title = ""
    submit_label = ""
    button_class = "btn-primary"
    fields_template = ""

    @property
    def has_visible_fields(self) -> bool:
        return bool(self.visible_fields())


class ConsultationRespondForm(ActionCardForm):
    title = _("Give your unit's opinion")
    submit_label = _("Send the answer")
    position = forms.ChoiceField(label=_("Position"), choices=Position.choices, widget=forms.RadioSelect)
    comment = note_field(_("Comments or reasons"), required=False, rows=3,
                         help_text=_("Required unless you simply agree."))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("position") not in (None, Position.AGREE) and not cleaned.get("comment"):
            self.add_error("comment", _("Give your comments or reasons."))
        return cleaned


class ConsultationAssignForm(forms.Form):
    """The consulted unit's head names who prepares the answer; `handlers` are read once for a whole page."""

    assignee = forms.ChoiceField(label=_("Assignee"),
                                 widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, data=None, *, handlers, **kwargs):
        super().__init__(data, **kwargs)
        self._handlers = {user.username: user for user in handlers}
        self.fields["assignee"].choices = [("", _("Choose a handler…")), *(
            (user.username, user.get_full_name() or user.username) for user in handlers)]

    def clean_assignee(self):
        return self._handlers[self.cleaned_data["assignee"]]


class ConsultationPeriodForm(forms.Form):
    """The report's period: consultations requested between the two dates, both included, both optional."""

    since = forms.DateField(label=_("Requested from"), required=False, input_formats=DATE_FORMATS,
                            widget=date_input(**{"class": "form-control"}))
    until = forms.DateField(label=_("Requested until"), required=False, input_formats=DATE_FORMATS,
                            widget=date_input(**{"class": "form-control"}))

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError(_("The period ends before it starts."))
        return cleaned
