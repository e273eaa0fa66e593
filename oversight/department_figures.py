"""The department report's figures per owner unit, for the Chairman (DESIGN.md §2 rule 10).

For a chosen period (local dates, both included) and as of today, per unit:
- resolved: cases the unit owned that were resolved in the period; on time when the local day of resolution
  is on or before the due date (a case settled at 23:30 on its due day is on time, whatever the UTC date);
  cases without a due date are counted but not rated;
- the median of the working days those cases took (Case.working_days_taken, fixed at resolution);
- open cases and overdue now (clock running, past the due date today), whatever the period;
- returns the unit made in the period, on time and late;
- refused attempts by the unit's staff in the period, by refusal code (the actor's unit as it is now: a
  person who moved takes their record along), labelled from `core.refusals.RefusalCode`;
- consultations, from cases.reports.consultation_figures: as the unit asked (received, answered on time or
  late, silent, owed overdue) and as the one asking (sent).

A fixed number of queries whatever the number of cases: the units, one grouped query for the resolutions, one
each for open and overdue cases, returns and refusals, and those of consultation_figures. The median is exact
without a percentile aggregate (SQLite has none): the resolutions are grouped by unit and working days, a
histogram of a few hundred rows at most, and the median is read from it in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, Q
from django.db.models.fields.json import KT

from cases import measures
from cases.measures import OnTimeShare
from cases.models import Case, CaseEvent, EventAction, Return
from cases.reports import ConsultationFigures, consultation_figures, histogram_median
from core.periods import Period
from core.refusals import DIRECTIVE_CODES, refusal_label
from departments.models import Department


@dataclass
class DepartmentFigures(OnTimeShare):
    department: Department
    consultations: ConsultationFigures
    resolved: int = 0
    rated: int = 0  # resolved with a due date to be measured against
    on_time: int = 0
    median_working_days: float | None = None
    open: int = 0
    overdue: int = 0
    returns_on_time: int = 0
    returns_late: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # by refusal code

    @property
    def resolved_late(self) -> int:
        return self.rated - self.on_time

    @property
    def refusal_count(self) -> int:
        return sum(self.refusals.values())

    @property
    def refusals_by_code(self) -> list[tuple[str, str, int]]:
        """(code, label, count), the most frequent first."""
        return [(code, refusal_label(code), count)
                for code, count in sorted(self.refusals.items(), key=lambda item: (-item[1], item[0]))]

    @property
    def directive_refusals(self) -> list[tuple[str, str, int]]:
        """The attempts the directive forbids (core.refusals.DIRECTIVE_CODES), the most frequent first."""
        return [row for row in self.refusals_by_code if row[0] in DIRECTIVE_CODES]

    @property
    def slips(self) -> list[tuple[str, str, int]]:
        """Every other refused attempt: a stale view, a step out of order, a reason left out."""
        return [row for row in self.refusals_by_code if row[0] not in DIRECTIVE_CODES]

    @property
    def directive_refusal_count(self) -> int:
        return sum(count for _code, _label, count in self.directive_refusals)

    @property
    def slip_count(self) -> int:
        return self.refusal_count - self.directive_refusal_count

    @property
    def has_activity(self) -> bool:
        consultations = self.consultations
        return bool(self.resolved or self.open or self.returns_on_time or self.returns_late or self.refusals
                    or consultations.sent or consultations.received)


def department_figures(*, period: Period, today: dt.date,
                       departments: Iterable[Department] | None = None) -> list[DepartmentFigures]:
    """The figures of the units (every unit with any activity when None; the given ones even without), by
    name."""
    whole_city = departments is None
    units = list(Department.objects.all() if whole_city else departments)
    if not units:
        return []
    consulting = {figures.department.pk: figures for figures in consultation_figures(
        departments=units, since=period.since, until=period.until, today=today)}
    figures = {unit.pk: DepartmentFigures(department=unit, consultations=consulting[unit.pk]) for unit in units}

    def of_units(rows, unit_field: str):
        # The whole city reads every row; a unit's reader only its own, by the unit's index.
        return rows if whole_city else rows.filter(**{f"{unit_field}__in": list(figures)})

    # Resolutions by unit and working days taken: the counts add up over the days, the days give the median.
    # The counted columns are those of the case_resolved_at index, so PostgreSQL reads the index alone.
    resolved = measures.resolutions(period).filter(owner__isnull=False)
    days_taken: dict[int, dict[int, int]] = defaultdict(dict)
    for unit_id, days, count, rated, on_time in (
            of_units(resolved, "owner").order_by().values("owner", "working_days_taken")
            .annotate(count=Count("resolved_at"), rated=measures.rated(), on_time=measures.on_time())
            .values_list("owner", "working_days_taken", "count", "rated", "on_time")):
        if unit_id not in figures:
            continue
        unit = figures[unit_id]
        unit.resolved += count
        unit.rated += rated
        unit.on_time += on_time
        if days is not None:  # resolved before the days were recorded: counted, but no time to take
            days_taken[unit_id][days] = count
    for unit_id, counts in days_taken.items():
        figures[unit_id].median_working_days = histogram_median(counts)

    for name, cases in (("open", Case.unscoped.open()), ("overdue", Case.unscoped.overdue(today))):
        for unit_id, count in (of_units(cases, "owner").order_by().values("owner").annotate(count=Count("owner"))
                               .values_list("owner", "count")):
            if unit_id in figures:
                setattr(figures[unit_id], name, count)

    returns = Return.objects.filter(period.during("returned_at"))
    for unit_id, on_time, late in (
            of_units(returns, "department").order_by().values("department")
            .annotate(on_time=Count("id", filter=Q(late=False)), late=Count("id", filter=Q(late=True)))
            .values_list("department", "on_time", "late")):
        if unit_id in figures:
            figures[unit_id].returns_on_time, figures[unit_id].returns_late = on_time, late

    refusals = CaseEvent.objects.filter(period.during("at"), action=EventAction.REFUSED,
                                        actor__staff__isnull=False)
    for unit_id, code, count in (
            of_units(refusals, "actor__staff__department").order_by()
            .values(unit=F("actor__staff__department"), code=KT("payload__code")).annotate(count=Count("id"))
            .values_list("unit", "code", "count")):
        if unit_id in figures:
            figures[unit_id].refusals[code or "—"] = count

    rows = figures.values()
    if whole_city:
        # A city has over a hundred units; those with nothing to show add nothing to read.
        rows = [unit for unit in rows if unit.has_activity]
    return sorted(rows, key=lambda unit: (unit.department.name, unit.department.code))
