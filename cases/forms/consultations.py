"""The period of the consultation report: consultations requested between two dates, both included, both
optional (no default: the whole record)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.periods import date_field


class ConsultationPeriodForm(forms.Form):
    since = date_field(_("Requested from"), required=False, **{"class": "form-control"})
    until = date_field(_("Requested until"), required=False, **{"class": "form-control"})

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError(_("The period ends before it starts."))
        return cleaned
