"""Vietnamese working days and deadline arithmetic (DESIGN.md §3).

A working day is Monday–Friday, minus public holidays, plus swapped working Saturdays (both from the
`holidays` package, country VN), minus the admin's extra days off, plus the admin's extra working days.
Counting follows Civil Code 2015 art. 147–148: the day of receipt is not counted, and a receipt on a
non-working day is deemed made on the next working day.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import timezone

from core.clock import end_of_day, local_date, local_zone  # noqa: F401 - the calendar's callers read them here
from departments import generations

# Far enough to cover any deadline the rules can produce, short enough to stop a runaway loop.
MAX_SCAN_DAYS = 3660
# The longest period a rule or a case type may set: well inside the scan above, so that no period the admin or
# the API accepts can make a due date unreachable.
MAX_WORKING_DAYS = 1000


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> tuple[dict[dt.date, str], frozenset[dt.date]]:
    calendar = holidays.country_holidays("VN", years=year, language="vi")
    workdays = frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)
    return dict(calendar.items()), workdays


class WorkingCalendar:
    """The calendar with a fixed set of admin overrides; cheap to query, immutable once built."""

    def __init__(self, overrides: dict[dt.date, str] | None = None):
        # date -> "day_off" | "working_day"
        self.overrides = dict(overrides or {})
        # year -> working days from 1 January through each day of the year; filled as years are asked for.
        self._running_counts: dict[int, list[int]] = {}

    def holiday_name(self, day: dt.date) -> str | None:
        return _public_holidays(day.year)[0].get(day)

    def is_working_day(self, day: dt.date) -> bool:
        override = self.overrides.get(day)
        if override == "day_off":
            return False
        if override == "working_day":
            return True
        names, weekend_workdays = _public_holidays(day.year)
        if day in names:
            return False
        if day.weekday() >= 5:
            return day in weekend_workdays
        return True

    def working_day_on_or_after(self, day: dt.date) -> dt.date:
        for _ in range(MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError("no working day within ten years")

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (which itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        for _ in range(MAX_SCAN_DAYS):
            if count == 0:
                return day
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        raise ValueError("deadline beyond ten years")

    def due_date(self, received: dt.date, working_days: int) -> dt.date:
        """Due date of work received on `received` with `working_days` to do it (DESIGN.md §3)."""
        return self.add_working_days(self.working_day_on_or_after(received), working_days)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start).

        By running counts per year, not day by day: a list of overdue work asks this for every row, and
        work a year late would otherwise cost hundreds of steps a row.
        """
        if end <= start:
            return 0
        count = self._through(end) - self._through(start)
        for year in range(start.year, end.year):
            count += self._running_count(year)[-1]
        return count

    def _through(self, day: dt.date) -> int:
        """Working days from 1 January of `day`'s year through `day`."""
        return self._running_count(day.year)[day.timetuple().tm_yday - 1]

    def _running_count(self, year: int) -> list[int]:
        counts = self._running_counts.get(year)
        if counts is None:
            counts, count, day = [], 0, dt.date(year, 1, 1)
            while day.year == year:
                count += self.is_working_day(day)
                counts.append(count)
                day += dt.timedelta(days=1)
            self._running_counts[year] = counts
        return counts


def _build_calendar() -> WorkingCalendar:
    from departments.models import CalendarDay

    return WorkingCalendar(dict(CalendarDay.objects.values_list("date", "kind")))


_calendar = generations.GenerationCache(generations.CALENDAR, _build_calendar)


def get_calendar(tokens: dict[str, str] | None = None) -> WorkingCalendar:
    """The current calendar, rebuilt in this process only when an admin has changed an override."""
    return _calendar.get(tokens)


def handover_due(received_at: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
    """When intake must have handed a case to its owner (Decree 61/2018 art. 18, DESIGN.md §3).

    Same working day; a dossier received after the cut-off hour, or on a non-working day, is due by the
    end of the next working day.
    """
    local = timezone.localtime(received_at, local_zone())
    day = local.date()
    if calendar.is_working_day(day) and local.hour < settings.HANDOVER_CUTOFF_HOUR:
        return end_of_day(day)
    return end_of_day(calendar.add_working_days(day, 1) if calendar.is_working_day(day)
                      else calendar.working_day_on_or_after(day))
