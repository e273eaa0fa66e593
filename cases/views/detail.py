"""A case's page: its facts, the actions the signed-in user may take, and everything that happened to it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cases import panels, policy
from cases.history import history
from cases.inputs import PageContext, UnitDirectory
from cases.reads import ReadKind, record_outside_read
from cases.views.actions import offered_actions
from cases.views.consultations import consultation_rows, respond_actions


@require_GET
@login_required
def case_detail(request, reference):
    case = get_object_or_404(policy.case_details(request.user), reference=reference)
    record_outside_read(request, case, ReadKind.CASE_DETAIL)
    # One read of the units serves the rule panel and every form that lists units.
    page = PageContext(units=UnitDirectory())
    snapshot = case.rule_snapshot
    return render(request, "cases/case_detail.html", {
        "case": case,
        "events": case.events.all(),
        "history": history(case.events.all(), page.units),
        "snapshot": snapshot,
        "snapshot_owner": page.units.by_code.get(snapshot.get("owner")),
        "snapshot_consultees": [page.units.by_code.get(code, code)
                                for code in snapshot.get("required_consultees", ())],
        "actions": [*offered_actions(case, request.user, page=page), *respond_actions(case, request.user)],
        "consultations": consultation_rows(case, request.user),
        "panels": panels.case_panels(request.user, case),
    })
