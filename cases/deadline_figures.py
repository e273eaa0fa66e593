"""Deadline figures per owner department for the city's view (DESIGN.md §2 rule 9), aggregated in SQL.

One grouped query whatever the number of cases: every figure is a conditional count over the owner's
cases, so the city office reads a hundred units in the time of one. The on-time rate is the department
report's, counted by the same expressions (`cases.measures`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from cases import measures
from cases.measures import CASE_RUNNING, OnTimeShare, Window
from cases.models import OPEN_STATUSES, Case
from core.periods import Period


@dataclass(frozen=True)
class DeadlineFigures(OnTimeShare):
    code: str
    name: str
    open: int
    overdue: int
    due_soon: int
    rated: int  # resolved within the period, with a due date to be measured against
    on_time: int

    @property
    def on_schedule(self) -> int:
        """Open and neither overdue nor due soon: the rest of the stack in the chart."""
        return self.open - self.overdue - self.due_soon


def deadline_figures(*, window: Window, period: Period) -> list[DeadlineFigures]:
    """Per owner department with any case: open, overdue and due-soon cases as of `window`, and of the cases
    resolved in the period how many were resolved on or before their due date. Most overdue first."""
    resolved = measures.resolved_during(period)
    rows = (measures.with_resolution_day(Case.unscoped.filter(owner__isnull=False))
            .values("owner__code", "owner__name")
            .annotate(open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
                      # A case waiting for the applicant is open but its clock is stopped: never overdue.
                      overdue=Count("id", filter=CASE_RUNNING & window.overdue()),
                      due_soon=Count("id", filter=CASE_RUNNING & window.due_soon()),
                      rated=measures.rated(resolved), on_time=measures.on_time(resolved))
            .order_by("-overdue", "-due_soon", "owner__name", "owner__code"))
    return [DeadlineFigures(code=row.pop("owner__code"), name=row.pop("owner__name"), **row) for row in rows]
