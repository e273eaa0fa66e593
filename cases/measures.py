"""The measures every list, report and job counts by, each defined once (DESIGN.md §2 rule 9, §3).

- overdue: work whose clock runs and whose due day has ended (local time); due soon: due today or on the
  next working day. A case's clock runs while it is routed, in progress or submitted (waiting for the
  applicant's supplement stops it); a consultation's while it is open. Each measure is a `Q` for querysets
  and a Python twin for one row, and a test holds the two to the same answer;
- on time: a case resolved on or before its due date, by the local day of its resolution (one settled at
  23:30 on its due day is on time, whatever the UTC date);
- a unit's latest consultation round on a case: the one that counts at the submission gate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate

from cases.models import RUNNING_STATUSES, Case, Consultation, ConsultationStatus, Status
from core.clock import local_date, local_zone
from core.periods import Period
from departments.workdays import WorkingCalendar, get_calendar


@dataclass(frozen=True)
class Window:
    """Today (local) and the last due date that counts as due soon: one working day ahead."""

    today: dt.date
    soon: dt.date

    @classmethod
    def at(cls, moment: dt.datetime) -> Window:
        today = local_date(moment)
        return cls(today=today, soon=get_calendar().add_working_days(today, 1))

    def overdue(self) -> Q:
        """By the due date alone, for work whose clock is known to run."""
        return Q(due_date__lt=self.today)

    def due_soon(self) -> Q:
        return Q(due_date__gte=self.today, due_date__lte=self.soon)

    def on_desk(self) -> Q:
        """Overdue or due soon: what the overdue desk lists."""
        return Q(due_date__lte=self.soon)

    def is_overdue(self, due_date: dt.date | None) -> bool:
        return due_date is not None and due_date < self.today

    def is_due_soon(self, due_date: dt.date | None) -> bool:
        return due_date is not None and self.today <= due_date <= self.soon


CASE_RUNNING = Q(status__in=RUNNING_STATUSES)
CONSULTATION_OPEN = Q(status=ConsultationStatus.OPEN)


def case_runs(case: Case) -> bool:
    return case.status in RUNNING_STATUSES and case.due_date is not None


def consultation_runs(consultation: Consultation) -> bool:
    return consultation.status == ConsultationStatus.OPEN


def cases_overdue(today: dt.date) -> Q:
    return CASE_RUNNING & Q(due_date__lt=today)


def consultations_overdue(today: dt.date) -> Q:
    return CONSULTATION_OPEN & Q(due_date__lt=today)


def case_is_overdue(case: Case, today: dt.date) -> bool:
    """The Python twin of `cases_overdue`."""
    # `case_runs` has checked the due date too; the second look is for the type checker.
    return case_runs(case) and case.due_date is not None and case.due_date < today


def consultation_is_overdue(consultation: Consultation, today: dt.date) -> bool:
    """The Python twin of `consultations_overdue`."""
    return consultation_runs(consultation) and consultation.due_date < today


def working_days_late(due_date: dt.date | None, today: dt.date, calendar: WorkingCalendar | None = None) -> int:
    """Working days past the due date (0 while it has not passed). Lists pass one `calendar` for all rows."""
    if due_date is None or due_date >= today:
        return 0
    return (calendar or get_calendar()).working_days_between(due_date, today)


# --- On time --------------------------------------------------------------------------------------------------


def with_resolution_day(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`resolved_on`: the local day of each case's resolution, which the on-time test compares."""
    return cases.alias(resolved_on=TruncDate("resolved_at", tzinfo=local_zone()))


def resolved_during(period: Period) -> Q:
    return Q(status=Status.RESOLVED) & period.during("resolved_at")


def resolutions(period: Period) -> QuerySet[Case]:
    """Cases resolved during the period, each with `resolved_on`."""
    return with_resolution_day(Case.unscoped.filter(resolved_during(period)))


def rated(among: Q | None = None) -> Count:
    """Resolutions that can be judged: those with a due date (of the rows `among` selects). Counted on the
    column, which the covering index `case_resolved_at` carries, so that PostgreSQL answers from the index."""
    return Count("due_date", filter=among)


def on_time(among: Q | None = None) -> Count:
    """Of the rated resolutions (of the rows `among` selects), those made by their due day; needs
    `with_resolution_day`."""
    made_in_time = Q(resolved_on__lte=F("due_date"))
    return Count("due_date", filter=made_in_time if among is None else among & made_in_time)


class OnTimeShare:
    """The share of rated work done by its due date, for figures with `rated` and `on_time` counts."""

    rated: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.rated if self.rated else None

    @property
    def on_time_percent(self) -> int | None:
        rate = self.on_time_rate
        return None if rate is None else round(rate * 100)


# --- Consultation rounds --------------------------------------------------------------------------------------


def latest_rounds(consultations: Iterable[Consultation]) -> dict[int, Consultation]:
    """Each consulted unit's latest round among `consultations` (of one case), by unit id."""
    latest: dict[int, Consultation] = {}
    for consultation in sorted(consultations, key=lambda c: (c.round, c.pk or 0)):
        latest[consultation.department_id] = consultation
    return latest
