"""The deadline actions of a case's page: the one extension with its reason, and the key-task flag."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.forms.actions import STALE_PAGE, CaseActionForm, note_field
from cases.models import Case

# What the browser's date picker sends, and the way officials write a date by hand; never the US month-first
# order, which would read 01/07 as 7 January.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class ExtendForm(CaseActionForm):
    title = _("Extend the deadline")
    submit_label = _("Move the due date")
    button_class = "btn-warning"
    due_date = forms.DateField(label=_("New due date"), input_formats=DATE_INPUT_FORMATS,
                               widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    reason = note_field(_("Reason for the delay"), rows=3, help_text=_(
        "For a citizen's dossier it is written in the apology letter to the applicant."))

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        if case.due_date:
            field = self.fields["due_date"]
            # A hint for the date picker; the service judges the date (after the due date, a working day).
            field.widget.attrs["min"] = (case.due_date + dt.timedelta(days=1)).isoformat()
            field.help_text = _("Once only, and at least one working day before the current due date, "
                                "%(due)s; the new date must be a working day.") % {"due": f"{case.due_date:%d/%m/%Y}"}


class KeyTaskForm(CaseActionForm):
    """A toggle: the page posts the flag the case should have, the opposite of the one it showed."""

    title = _("Key task flag")
    button_class = "btn-outline-warning"
    key_task = forms.NullBooleanField(widget=forms.HiddenInput)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs["initial"] = {"key_task": not case.key_task, **kwargs.get("initial", {})}
        super().__init__(*args, case=case, **kwargs)
        self.submit_label = _("No longer a key task") if case.key_task else _("Mark as key task")

    def clean_key_task(self) -> bool:
        # Absent or garbled, it would read as "unmark": a page that did not say is a stale page.
        if self.cleaned_data["key_task"] is None:
            raise forms.ValidationError(STALE_PAGE)
        return self.cleaned_data["key_task"]
