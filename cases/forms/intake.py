"""The intake desk's form: logging a case, with the routing preview (routing from triage is a case action)."""

from __future__ import annotations

import datetime as dt

from crispy_forms.bootstrap import AppendedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import DESCRIPTION_MAX_CHARS, Source
from cases.services import validate_received_at
from core.periods import within_calendar
from departments.forms import EARLIEST_RECEIPT, RoutingInputsForm, check_receipt_date
from departments.workdays import local_date

# What a datetime-local input sends and expects: local time to the minute.
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# A case's description on the intake form, the admin's correction and the API: the setting, held to what the
# database's constraint accepts.
MAX_DESCRIPTION_LENGTH = min(settings.MAX_DESCRIPTION_CHARS, DESCRIPTION_MAX_CHARS)


def description_field(*, widget: forms.Textarea | None = None) -> forms.CharField:
    """What an applicant asks, in their words; `maxlength` on the textarea stops the browser at the limit."""
    return forms.CharField(label=_("Description"), required=False, max_length=MAX_DESCRIPTION_LENGTH,
                           widget=widget or forms.Textarea(attrs={"rows": 3}))


def _now_to_the_minute() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class IntakeForm(RoutingInputsForm):
    """What the intake desk records; routing is decided by the service, never chosen here."""

    title = forms.CharField(label=_("Title"), max_length=settings.MAX_TITLE_LENGTH)
    description = description_field()
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.CITIZEN)
    applicant_name = forms.CharField(label=_("Applicant"), max_length=200, required=False)
    applicant_contact = forms.CharField(
        label=_("Applicant contact"), max_length=200, required=False, help_text=_("Phone, e-mail or address."),
    )
    # No initial value: a form left open for an hour would otherwise log the minute it was opened, not the one
    # the dossier was saved (the receipt's time is when the desk records it, unless the clerk says earlier).
    received_at = forms.DateTimeField(
        label=_("Received at"), required=False, validators=[within_calendar],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=_("Empty: now. Never in the future."),
    )
    key_task = forms.BooleanField(label=_("Key task"), required=False)

    field_order = ["title", "description", "case_type", "locality", "amount", "source", "applicant_name",
                   "applicant_contact", "received_at", "key_task"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A hint for the browser's picker; the server check below is what counts.
        self.fields["received_at"].widget.attrs.update({
            "min": f"{EARLIEST_RECEIPT:%Y-%m-%d}T00:00", "max": _now_to_the_minute().strftime(DATETIME_LOCAL_FORMAT)})
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Matter"),
                "title",
                "description",
                Row(Column("case_type", css_class="col-md-6"), Column("locality", css_class="col-md-6")),
                Row(Column(AppendedText("amount", "VND"), css_class="col-md-6"),
                    Column("received_at", css_class="col-md-6")),
                "key_task",
            ),
            Fieldset(
                _("Applicant"),
                Row(Column("source", css_class="col-md-4"), Column("applicant_name", css_class="col-md-4"),
                    Column("applicant_contact", css_class="col-md-4")),
            ),
        )

    def clean_received_at(self) -> dt.datetime:
        received_at = self.cleaned_data.get("received_at") or timezone.now()
        # The local calendar date, checked before any time-zone arithmetic that a year like 0001 would overflow.
        check_receipt_date(received_at.date(), latest=dt.date.max)
        try:
            validate_received_at(received_at)
        except ValidationError as error:
            raise ValidationError(error.message_dict["received_at"]) from None
        return received_at

    def receipt_date(self) -> dt.date:
        return local_date(self.cleaned_data["received_at"])
