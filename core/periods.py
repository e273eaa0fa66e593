"""Dates on forms and the period a report is read for: from and until, both included, local days.

Every date a person or a client gives is in one of the years the working-day calendar covers
(`within_calendar`): beyond them the calendar knows no public holiday, so every weekday would pass for a
working day, and a date near the limits of Python's dates (9999-12-31, 0001-01-01) overflowed the first time a
day was added to it, a 500 where the person should have read which years are accepted.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, cast

import holidays
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.clock import start_of_day, today
from core.forms import DAY_INPUT_FORMATS, DayField, DayInput, day_field

# A date the way machines write it: the `min` and `max` of the date inputs, and the links a page makes.
DATE_INPUT = "%Y-%m-%d"
# What a date field reads: dd/mm/yyyy as officials write it, ISO as links and scripts do (core/forms.py); never the
# US month-first order, which would read 01/07 as 7 January.
DATE_FORMATS = DAY_INPUT_FORMATS
# A report's default period: the last 90 days, today included.
DEFAULT_PERIOD_DAYS = 90

# The country whose public holidays the working-day calendar keeps (departments/workdays.py).
CALENDAR_COUNTRY = "VN"

__all__ = ["DATE_FORMATS", "DATE_INPUT", "DEFAULT_PERIOD_DAYS", "Period", "PeriodForm", "calendar_years",
           "date_field", "date_input", "today", "within_calendar"]


@functools.cache
def calendar_years() -> tuple[int, int]:
    """The first and the last year whose public holidays the working-day calendar knows."""
    calendar = holidays.country_holidays(CALENDAR_COUNTRY)
    return calendar.start_year, calendar.end_year


def within_calendar(value: dt.date | None) -> None:
    """The validator of every date field, on the pages and in the API: a date (or a moment) in one of the
    calendar's years. A moment is judged by the year it is given in, which is the local one on the pages."""
    if value is None:
        return
    first, last = calendar_years()
    if not first <= value.year <= last:
        raise ValidationError(_("The date must fall within the years the working-day calendar covers "
                                "(%(first)s–%(last)s)."), code="outside_calendar",
                              params={"first": first, "last": last})


def _calendar_bounds() -> dict[str, str]:
    # The calendar's years on the input, for whoever reads the page; `within_calendar` is what counts.
    first, last = calendar_years()
    return {"min": f"{first:04d}-01-01", "max": f"{last:04d}-12-31"}


def date_input(**attrs) -> DayInput:
    """The shared day-first date input (core/forms.py), within the calendar's years."""
    return DayInput(attrs={**_calendar_bounds(), **attrs})


def date_field(label, *, required: bool = True, initial=None, help_text: str = "", **attrs) -> DayField:
    return day_field(label, required=required, initial=initial, help_text=help_text, validators=[within_calendar],
                     **{**_calendar_bounds(), **attrs})


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
