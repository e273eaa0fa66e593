"""The period (and, for readers of the whole city, the unit) that the oversight reports are read for."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from core.periods import PeriodForm


class ReportPeriodForm(PeriodForm):
    """From and until, both included, the last 90 days by default; `units` adds an optional choice of unit
    (by code), for the readers who may read any."""

    def __init__(self, data=None, *, today: dt.date, units=None, **kwargs):
        super().__init__(data, today=today, **kwargs)
        if units is not None:
            self.fields["department"] = forms.ModelChoiceField(
                units, required=False, to_field_name="code", label=_("Unit"), empty_label=_("All units"),
                widget=forms.Select(attrs={"class": "form-select"}))

    def department(self):
        """The unit chosen, or None for all of them (or when the form is unbound or wrong)."""
        if not self.is_bound or not self.is_valid():
            return None
        return self.cleaned_data.get("department")
