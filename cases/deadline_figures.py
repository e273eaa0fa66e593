"""Deadline figures per owner department for the city's view (DESIGN.md §2 rule 9), aggregated in SQL.

One grouped query whatever the number of cases: every figure is a conditional count over the owner's
cases, so the city office reads a hundred units in the time of one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate

from cases.deadlines import Window
from cases.models import OPEN_STATUSES, RUNNING_STATUSES, Case, Status
from departments.workdays import local_zone


@dataclass(frozen=True)
class DeadlineFigures:
    code: str
    name: str
    open: int
    overdue: int
    due_soon: int
    resolved: int  # resolved within the period, with a due date to be measured against
    resolved_on_time: int

    @property
    def on_schedule(self) -> int:
        """Open and neither overdue nor due soon: the rest of the stack in the chart."""
        return self.open - self.overdue - self.due_soon

    @property
    def on_time_rate(self) -> float | None:
        return self.resolved_on_time / self.resolved if self.resolved else None


def deadline_figures(*, window: Window, since: dt.date, until: dt.date) -> list[DeadlineFigures]:
    """Per owner department with any case: open, overdue and due-soon cases as of `window`, and of the cases
    resolved between `since` and `until` (local dates, both included) how many were resolved on or before
    their due date. Most overdue first."""
    is_open = Q(status__in=OPEN_STATUSES)
    # A case waiting for the applicant is open but its clock is stopped: never overdue nor due soon.
    running = Q(status__in=RUNNING_STATUSES)
    # Resolution is judged by its local calendar day, as the due date is: a case settled at 23:30 on its due
    # day is on time, whatever the UTC date of that moment.
    resolved = Q(status=Status.RESOLVED, due_date__isnull=False, resolved_on__gte=since, resolved_on__lte=until)
    rows = (Case.objects.filter(owner__isnull=False)
            .alias(resolved_on=TruncDate("resolved_at", tzinfo=local_zone()))
            .values("owner__code", "owner__name")
            .annotate(open=Count("id", filter=is_open),
                      overdue=Count("id", filter=running & window.overdue()),
                      due_soon=Count("id", filter=running & window.due_soon()),
                      resolved=Count("id", filter=resolved),
                      resolved_on_time=Count("id", filter=resolved & Q(resolved_on__lte=F("due_date"))))
            .order_by("-overdue", "-due_soon", "owner__name", "owner__code"))
    return [DeadlineFigures(code=row.pop("owner__code"), name=row.pop("owner__name"), **row) for row in rows]
