"""The department report for the Chairman: each unit's figures for a period as a table, a
chart, a printable page and CSV / XLSX files.

The whole city for the inspectors, Home Affairs, the city office, the admins and the City Committee's own
leaders; a unit's head or deputy head reads their own unit only, whatever the query names; anyone else 403
(cases.policy.report_scope). The page and the files read the same figures with the same form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cases import policy
from cases.views.common import page_guard
from core.exports import TABLE_WRITERS, Table
from core.periods import Period
from core.reads import records_export
from core.refusals import RefusalCode, refusal_label
from core.replicas import reads_replica
from departments.models import Department
from departments.workdays import local_date
from oversight.department_figures import DepartmentFigures, department_figures
from oversight.report_forms import ReportPeriodForm


@dataclass(frozen=True)
class Reading:
    """What the reader asked for and may read."""

    form: ReportPeriodForm
    period: Period | None  # None when the form has errors
    whole_city: bool  # the reader may read every unit (and choose one)
    departments: Iterable[Department] | None  # what department_figures reads: None for every unit
    today: dt.date


def read_request(request) -> Reading:
    scope = policy.report_scope(request.user)
    whole_city = scope is None
    today = local_date(timezone.now())
    # Only a reader of the whole city gets the choice of unit: a head's `?department=` is not even read.
    form = ReportPeriodForm(request.GET or None, today=today,
                            units=Department.objects.order_by("name", "code") if whole_city else None)
    period = form.period()
    chosen = form.department() if whole_city else None
    departments = scope if not whole_city else ([chosen] if chosen else None)
    return Reading(form, period, whole_city, departments, today)


def chart_data(figures: list[DepartmentFigures]) -> dict:
    """What static/js/department-chart.js draws: per unit, a bar of its on-time rate and one of its cases
    overdue now, each on its own scale."""
    return {
        "labels": [unit.department.name for unit in figures],
        "on_time": {"label": _("On-time rate (%)"), "data": [unit.on_time_percent for unit in figures]},
        "overdue": {"label": _("Overdue now"), "data": [unit.overdue for unit in figures]},
    }


@require_GET
@page_guard("reports")
@reads_replica
def department_report(request):
    reading = read_request(request)
    figures = None
    if reading.period is not None:
        figures = department_figures(period=reading.period, today=reading.today, departments=reading.departments)
    return render(request, "reports/departments.html", {
        "form": reading.form, "period": reading.period, "whole_city": reading.whole_city, "figures": figures,
        "chart": chart_data(figures or []), "today": reading.today, "generated_at": timezone.now(),
        "export_query": request.GET.urlencode(),
    })


# --- Files ---------------------------------------------------------------------------------------------------

LEADING_COLUMNS = [
    gettext_lazy("Unit code"), gettext_lazy("Unit"), gettext_lazy("Resolved"), gettext_lazy("Resolved on time"),
    gettext_lazy("Resolved late"), gettext_lazy("On-time rate (%)"), gettext_lazy("Median working days"),
    gettext_lazy("Open"), gettext_lazy("Overdue now"), gettext_lazy("Returns on time"), gettext_lazy("Late returns"),
    gettext_lazy("Refused attempts"),
]
CONSULTATION_COLUMNS = [
    gettext_lazy("Consultations sent"), gettext_lazy("Consultations received"), gettext_lazy("Answered on time"),
    gettext_lazy("Answered late"), gettext_lazy("Silent (deemed to agree)"), gettext_lazy("Owed, overdue"),
]


def refusal_codes(figures: list[DepartmentFigures]) -> list[str]:
    """The refusal codes any unit has, in the order they are listed in, unknown ones last."""
    found = {code for unit in figures for code in unit.refusals}
    known = [code for code in RefusalCode.values if code in found]
    return known + sorted(found.difference(known))


def plain(number: float | None) -> float | int | None:
    """A whole number without its ".0", which a CSV would otherwise show."""
    return int(number) if number is not None and number == int(number) else number


def department_table(figures: list[DepartmentFigures]) -> Table:
    """The report as a file: the table's figures with the counts behind the rates, one column per refusal code."""
    codes = refusal_codes(figures)
    columns = [*LEADING_COLUMNS, *(refusal_label(code) for code in codes), *CONSULTATION_COLUMNS]

    def cells(unit: DepartmentFigures) -> list:
        consulted = unit.consultations
        return [unit.department.code, unit.department.name, unit.resolved, unit.on_time, unit.resolved_late,
                unit.on_time_percent, plain(unit.median_working_days), unit.open, unit.overdue, unit.returns_on_time,
                unit.returns_late, unit.refusal_count, *(unit.refusals.get(code, 0) for code in codes),
                consulted.sent, consulted.received, consulted.answered_on_time, consulted.answered_late,
                consulted.silent, consulted.owed_overdue]

    widths = [14, 40, *([12] * (len(columns) - 2))]
    return Table(columns, [cells(unit) for unit in figures], gettext_lazy("Units' performance"), widths)


@require_GET
@page_guard("reports")
@records_export
def department_report_export(request, fmt: str):
    """The report as a CSV or XLSX file, for the same readers, units and period as the page."""
    reading = read_request(request)
    if fmt not in TABLE_WRITERS:
        raise Http404
    if reading.period is None:
        # The page tells what is wrong with the dates.
        return redirect(f"{reverse('report-departments')}?{request.GET.urlencode()}")
    figures = department_figures(period=reading.period, today=reading.today, departments=reading.departments)
    scope = "city" if reading.departments is None else "-".join(unit.department.code for unit in figures) or "unit"
    filename = f"departments-{scope}-{reading.period.since.isoformat()}-{reading.period.until.isoformat()}.{fmt}"
    return TABLE_WRITERS[fmt](department_table(figures), filename)
