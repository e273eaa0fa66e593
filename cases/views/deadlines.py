"""The heads' overdue desk and the city's deadline view (DESIGN.md §2 rule 9: finish overdue work).

The desk lists what a unit owes that is late or due within a working day, key tasks first and then the
longest overdue, with a reassign form on each row; the city view sets the units side by side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cases import policy
from cases.deadline_figures import deadline_figures
from cases.desk import DeskRow, desk_cases, desk_consultations, desk_table
from cases.desk_filters import PAGE_SIZES, DeskFilterForm
from cases.measures import Window, working_days_late
from cases.models import ConsultationStatus, Status
from cases.services import handlers_of
from cases.services.handling import ASSIGNABLE
from cases.views.common import page_guard
from core.exports import TABLE_WRITERS
from core.periods import PeriodForm
from core.reads import records_export
from core.replicas import reads_replica
from departments.models import Department
from departments.workdays import get_calendar

CASE_RELATIONS = ("case_type", "assignee", "owner")
CONSULTATION_RELATIONS = ("case", "case__case_type", "assignee", "department", "requesting_department")


def desk_access(request) -> policy.DeskAccess:
    try:
        return policy.desk_access(request.user, request.GET.get("department", "").strip())
    except Department.DoesNotExist:
        raise Http404 from None


class DaysLate:
    """`working_days_late` for many rows, the calendar read once per page (each read costs a query)."""

    def __init__(self, today: dt.date):
        self.today = today
        self.calendar = get_calendar()

    def __call__(self, due_date: dt.date) -> int | None:
        """Working days late, or None while the item is not yet overdue (due today or on the next working day)."""
        if due_date >= self.today:
            return None
        return working_days_late(due_date, self.today, self.calendar)


def filtered_work(request, department: Department, window: Window):
    """The desk's form, read with the unit's handlers, and its two querysets narrowed by it."""
    handlers = list(handlers_of(department))
    form = DeskFilterForm(request.GET, handlers=handlers)
    cases = form.filter_cases(desk_cases(department.pk, window), window).select_related(*CASE_RELATIONS)
    consultations = form.filter_consultations(desk_consultations(department.pk, window), window).select_related(
        *CONSULTATION_RELATIONS)
    return form, handlers, cases, consultations


@require_GET
@page_guard("overdue_desk")
def overdue_desk(request):
    access = desk_access(request)
    if access.department is None:
        return render(request, "deadlines/choose_unit.html", {
            "units": Department.objects.filter(active=True).order_by("name")})
    department = access.department
    window = Window.at(timezone.now())
    form, handlers, cases, consultations = filtered_work(request, department, window)
    case_page = Paginator(cases, form.rows_per_page).get_page(request.GET.get("page"))
    consultation_page = Paginator(consultations, form.rows_per_page).get_page(request.GET.get("cpage"))
    days_late = DaysLate(window.today)
    case_rows = [{"case": case, "days_late": days_late(case.due_date),
                  "reassign": access.reassigns and case.status in ASSIGNABLE} for case in case_page]
    consultation_rows = [{"consultation": consultation, "case": consultation.case,
                          "days_late": days_late(consultation.due_date), "reassign": access.reassigns}
                         for consultation in consultation_page]
    return render(request, "deadlines/overdue_desk.html", {
        "department": department, "form": form, "window": window,
        # Rendered once: a 100-row page would otherwise render the same form fields a hundred times.
        "reassign_fields": render_to_string("deadlines/_reassign_fields.html",
                                            {"handlers": handlers, "next": request.get_full_path()}, request=request),
        "page": case_page, "case_rows": case_rows, "consultation_page": consultation_page,
        "consultation_rows": consultation_rows, "reassigns": access.reassigns,
        "whole_city": access.whole_city, "export_query": request.GET.urlencode(), "page_sizes": PAGE_SIZES,
    })


def export_rows(cases, consultations, window: Window) -> Iterator[DeskRow]:
    """Every matching row, cases first, read from the database in chunks as the file is written."""
    days_late = DaysLate(window.today)
    section = _("Case")
    for case in cases.iterator(chunk_size=1000):
        yield DeskRow(section=section, reference=case.reference, title=case.title, key_task=case.key_task,
                      status=Status(case.status).label, assignee=person(case.assignee),
                      due_date=case.due_date, days_late=days_late(case.due_date), legal_basis=case.legal_basis,
                      department=case.owner.name)
    section = _("Consultation owed")
    for consultation in consultations.iterator(chunk_size=1000):
        case = consultation.case
        yield DeskRow(section=section, reference=case.reference, title=case.title, key_task=case.key_task,
                      status=ConsultationStatus(consultation.status).label, assignee=person(consultation.assignee),
                      due_date=consultation.due_date, days_late=days_late(consultation.due_date),
                      legal_basis=case.legal_basis, department=consultation.department.name)


def person(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


@require_GET
@page_guard("overdue_desk")
@records_export
def overdue_desk_export(request, fmt: str):
    """The desk with the same filters as a CSV or XLSX file: every matching row, not one page."""
    if fmt not in TABLE_WRITERS:
        raise Http404
    access = desk_access(request)
    if access.department is None:
        return redirect("overdue-desk")
    window = Window.at(timezone.now())
    _form, _handlers, cases, consultations = filtered_work(request, access.department, window)
    filename = f"overdue-{access.department.code}-{window.today.isoformat()}.{fmt}"
    return TABLE_WRITERS[fmt](desk_table(export_rows(cases, consultations, window)), filename)


def chart_data(figures) -> dict:
    """What static/js/deadline-chart.js draws: one stacked bar per unit, its open cases split three ways."""
    return {
        "labels": [unit.name for unit in figures],
        "datasets": [
            {"key": "overdue", "label": _("Overdue"), "data": [unit.overdue for unit in figures]},
            {"key": "due_soon", "label": _("Due soon"), "data": [unit.due_soon for unit in figures]},
            {"key": "on_schedule", "label": _("Open, on schedule"), "data": [unit.on_schedule for unit in figures]},
        ],
    }


class DeadlinePeriodForm(PeriodForm):
    """The period whose resolved cases the on-time rate measures."""

    since_label = gettext_lazy("Resolved from")
    until_label = gettext_lazy("Resolved until")


@require_GET
@page_guard("deadline_view")
@reads_replica
def city_deadlines(request):
    """Per owner unit: open, overdue and due-soon cases now, and the on-time rate of the period's resolutions;
    for the city office, the inspectors, Home Affairs, the City Committee's leaders and admins."""
    window = Window.at(timezone.now())
    form = DeadlinePeriodForm(request.GET or None, today=window.today)
    period = form.period()
    figures = deadline_figures(window=window, period=period) if period is not None else None
    rows = [{"figures": unit, "on_time_pct": unit.on_time_percent} for unit in figures or []]
    return render(request, "deadlines/city_deadlines.html", {
        "form": form, "period": period, "rows": rows, "figures": figures, "window": window,
        "chart": chart_data(figures or []),
    })
