"""Consultation figures per department (issue: consultations report), aggregated in SQL.

Two views of each unit: as the one that consults (how much, how often beyond what the rules require, how
many rounds, how fast it gets answers) and as the one consulted (does it answer on time, or stay silent).
A fixed number of queries whatever the number of consultations; the median is taken in Python from a
histogram of answer times (one row per unit and number of days), because SQLite has no percentile aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from cases.models import Consultation, ConsultationStatus
from departments.models import Department
from departments.workdays import local_date, local_zone


def start_of_day(day: dt.date) -> dt.datetime:
    """The first moment of a local day."""
    return dt.datetime.combine(day, dt.time(), tzinfo=local_zone())


@dataclass
class ConsultationFigures:
    department: Department
    # As the unit that consults
    sent: int = 0
    non_required: int = 0
    later_rounds: int = 0
    max_round: int = 0
    answered_for_it: int = 0
    median_answer_days: float | None = None
    awaiting_overdue: int = 0
    # As the unit consulted
    received: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    silent: int = 0
    owed_overdue: int = 0

    @property
    def non_required_share(self) -> float | None:
        return self.non_required / self.sent if self.sent else None

    @property
    def on_time_rate(self) -> float | None:
        """Answered on time among requests whose deadline has come (silence and lateness count against)."""
        due = self.answered_on_time + self.answered_late + self.silent + self.owed_overdue
        return self.answered_on_time / due if due else None


def histogram_median(counts: Mapping[int, int]) -> float | None:
    """The median of values given as {value: how many}; the mean of the two middle ones for an even count."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(value for value, count in counts.items() if count)

    def value_at(position: int) -> int:
        seen = 0
        for value in ordered:
            seen += counts[value]
            if position < seen:
                return value
        raise IndexError(position)

    return (value_at((total - 1) // 2) + value_at(total // 2)) / 2


def consultation_figures(*, departments=None, since: dt.date | None = None, until: dt.date | None = None,
                         today: dt.date | None = None) -> list[ConsultationFigures]:
    """Figures per department for consultations requested between `since` and `until` (inclusive)."""
    today = today or local_date(timezone.now())
    consultations = Consultation.unscoped.all()
    # Local days as a range of moments, so the filter can use an index.
    if since:
        consultations = consultations.filter(requested_at__gte=start_of_day(since))
    if until:
        consultations = consultations.filter(requested_at__lt=start_of_day(until + dt.timedelta(days=1)))
    units = Department.objects.filter(active=True) if departments is None else departments
    figures = {unit.pk: ConsultationFigures(department=unit) for unit in units}

    overdue = Q(status=ConsultationStatus.OPEN, due_date__lt=today)
    answered = Q(status=ConsultationStatus.ANSWERED)
    for row in consultations.filter(requesting_department_id__in=figures).values("requesting_department_id").annotate(
        sent=Count("id"), non_required=Count("id", filter=Q(required=False)),
        later_rounds=Count("id", filter=Q(round__gt=1)), max_round=Max("round"),
        answered_for_it=Count("id", filter=answered), awaiting_overdue=Count("id", filter=overdue),
    ):
        unit = figures[row.pop("requesting_department_id")]
        for name, value in row.items():
            setattr(unit, name, value or 0)

    for row in consultations.filter(department_id__in=figures).values("department_id").annotate(
        received=Count("id"), answered_on_time=Count("id", filter=answered & Q(answered_late=False)),
        answered_late=Count("id", filter=answered & Q(answered_late=True)),
        silent=Count("id", filter=Q(status=ConsultationStatus.DEEMED_AGREED)), owed_overdue=Count("id", filter=overdue),
    ):
        unit = figures[row.pop("department_id")]
        for name, value in row.items():
            setattr(unit, name, value)

    answer_days: dict[int, dict[int, int]] = defaultdict(dict)
    for unit_id, days, count in consultations.filter(
            requesting_department_id__in=figures, status=ConsultationStatus.ANSWERED,
            answer_working_days__isnull=False).values("requesting_department_id", "answer_working_days").annotate(
            count=Count("id")).order_by().values_list("requesting_department_id", "answer_working_days", "count"):
        answer_days[unit_id][days] = count
    for unit_id, counts in answer_days.items():
        figures[unit_id].median_answer_days = histogram_median(counts)
    return sorted(figures.values(), key=lambda unit: (-(unit.sent + unit.received), unit.department.name))
