"""Dates on forms and the period a report is read for: from and until, both included, local days."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.clock import start_of_day, today

# What the browser's date picker sends, and the way officials write a date by hand; never the US month-first
# order, which would read 01/07 as 7 January.
DATE_INPUT = "%Y-%m-%d"
DATE_FORMATS = [DATE_INPUT, "%d/%m/%Y"]
# A report's default period: the last 90 days, today included.
DEFAULT_PERIOD_DAYS = 90

__all__ = ["DATE_FORMATS", "DATE_INPUT", "DEFAULT_PERIOD_DAYS", "Period", "PeriodForm", "date_field", "date_input",
           "today"]


def date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format=DATE_INPUT)


def date_field(label, *, required: bool = True, initial=None, help_text: str = "", **attrs) -> forms.DateField:
    return forms.DateField(label=label, required=required, initial=initial, input_formats=DATE_FORMATS,
                           widget=date_input(**attrs), help_text=help_text)


@dataclass(frozen=True)
class Period:
    since: dt.date
    until: dt.date

    @property
    def start(self) -> dt.datetime:
        """The first moment of `since`, local time: filters on it use the columns' indexes."""
        return start_of_day(self.since)

    @property
    def end(self) -> dt.datetime:
        """The first moment after `until`, local time."""
        return start_of_day(self.until + dt.timedelta(days=1))

    def during(self, name: str) -> Q:
        """`name` (a moment) falls on one of the period's local days."""
        return Q(**{f"{name}__gte": self.start, f"{name}__lt": self.end})


class PeriodForm(forms.Form):
    """`from` and `to`, both included, both optional: the last 90 days by default, never beyond today."""

    since_label = _("From")
    until_label = _("Until")

    def __init__(self, data=None, *, today: dt.date, **kwargs):
        self.today = today
        super().__init__(data, **kwargs)
        since = today - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        # `from` is a Python keyword, so the fields are named here rather than declared on the class.
        self.fields["from"] = date_field(self.since_label, required=False, initial=since, **{"class": "form-control"})
        self.fields["to"] = date_field(self.until_label, required=False, initial=today, **{"class": "form-control"})
        for field in self.fields.values():
            field.widget.attrs["max"] = today.strftime(DATE_INPUT)

    def clean(self) -> dict[str, Any]:
        # Form.clean returns cleaned_data; the stubs allow None, which an overriding clean() may return.
        cleaned = cast(dict[str, Any], super().clean())
        until = cleaned.get("to") or self.today
        since = cleaned.get("from") or until - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        if since > until:
            raise ValidationError(_("The period ends before it starts."))
        cleaned["from"], cleaned["to"] = since, until
        return cleaned

    def period(self) -> Period | None:
        """The chosen period (the default one when unbound), or None when the dates are wrong (the form
        says why)."""
        if not self.is_bound:
            return Period(self.fields["from"].initial, self.fields["to"].initial)
        if not self.is_valid():
            return None
        return Period(self.cleaned_data["from"], self.cleaned_data["to"])
