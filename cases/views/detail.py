"""A case's page: its facts, the actions the signed-in user may take, and everything that happened to it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cases.models import Attachment, DisputeStatus, Return, RuleDispute, Submission
from cases.selectors import cases_visible_to, with_list_relations
from cases.views.actions import offered_actions
from departments.models import Department


def detail_relations() -> list[Prefetch]:
    """Everything the page lists beside the case, each in one query whatever the number of rows."""
    return [
        Prefetch("returns", queryset=Return.objects.select_related("department", "returned_by",
                                                                   "competent_department")),
        Prefetch("submissions", queryset=Submission.objects.select_related("department", "submitted_by",
                                                                           "decided_by")),
        Prefetch("disputes", to_attr="open_disputes",
                 queryset=RuleDispute.objects.filter(status=DisputeStatus.OPEN).select_related("department",
                                                                                               "filed_by")),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
    ]


def _snapshot_units(case) -> dict[str, Department]:
    codes = [*case.rule_snapshot.get("required_consultees", ()), case.rule_snapshot.get("owner")]
    codes = [code for code in codes if code]
    return {unit.code: unit for unit in Department.objects.filter(code__in=codes)} if codes else {}


@require_GET
@login_required
def case_detail(request, reference):
    cases = with_list_relations(cases_visible_to(request.user)).prefetch_related(*detail_relations())
    case = get_object_or_404(cases, reference=reference)
    units = _snapshot_units(case)
    snapshot = case.rule_snapshot
    return render(request, "cases/case_detail.html", {
        "case": case,
        "events": list(case.events.select_related("actor", "from_department", "to_department")),
        "snapshot": snapshot,
        "snapshot_owner": units.get(snapshot.get("owner")),
        "snapshot_consultees": [units.get(code, code) for code in snapshot.get("required_consultees", ())],
        "actions": offered_actions(case, request.user),
    })
