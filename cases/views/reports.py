"""Reports as pages: consultation figures per department (DESIGN.md §2 rules 6 and 7, §3 Silence)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases.forms import ConsultationPeriodForm
from cases.reports import consultation_figures
from cases.selectors import leads_city_committee, sees_whole_city, staff_of
from cases.services.common import LEAD_ROLES
from departments.models import Department


def report_scope(user):
    """None for the whole city (overseers, the city office, admins, and the City Committee's own leaders: the
    Chairman and the vice-chairmen), the user's own unit for any other head or deputy head; anyone else may
    not read the figures (403)."""
    if sees_whole_city(user) or leads_city_committee(user):
        return None
    staff = staff_of(user)
    if staff is not None and staff.role in LEAD_ROLES:
        return Department.objects.filter(pk=staff.department_id)
    raise PermissionDenied


def percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


@require_GET
@login_required
def consultation_report(request):
    scope = report_scope(request.user)
    form = ConsultationPeriodForm(request.GET or None)
    rows = None
    if not form.is_bound or form.is_valid():
        period = form.cleaned_data if form.is_bound else {}
        figures = consultation_figures(departments=scope, since=period.get("since"), until=period.get("until"))
        if scope is None:
            # A city has over a hundred units; those that neither asked nor were asked add nothing to read.
            figures = [unit for unit in figures if unit.sent or unit.received]
        rows = [{"figures": unit, "non_required_pct": percent(unit.non_required_share),
                 "on_time_pct": percent(unit.on_time_rate)} for unit in figures]
    return render(request, "reports/consultations.html", {"form": form, "rows": rows, "whole_city": scope is None})
