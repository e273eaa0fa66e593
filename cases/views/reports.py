"""Reports as pages: consultation figures per department (DESIGN.md §2 rules 6 and 7, §3 Silence)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases import policy
from cases.forms import ConsultationPeriodForm
from cases.reports import consultation_figures
from cases.views.common import page_guard
from core.replicas import reads_replica


def percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


@require_GET
@page_guard("reports")
@reads_replica
def consultation_report(request):
    scope = policy.report_scope(request.user)
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
