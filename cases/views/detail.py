"""A case's page: its facts, the actions the signed-in user may take, and everything that happened to it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from cases.forms.units import UnitDirectory
from cases.models import Attachment, Consultation, DisputeStatus, Return, RuleDispute, Submission
from cases.selectors import cases_visible_to, with_list_relations
from cases.views.actions import Viewer, offered_actions
from cases.views.common import staff_with_unit
from cases.views.consultations import consultation_rows, respond_actions
from oversight.access import may_oversee


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
        Prefetch("consultations", queryset=Consultation.objects.select_related(
            "department", "requested_by", "assignee", "answered_by", "reconciliation__recorded_by",
            "reconciliation__attachment").order_by("requested_at", "department__name", "id")),
    ]


@require_GET
@login_required
def case_detail(request, reference):
    staff_with_unit(request)  # read once for the access check, the actions and the navigation bar
    cases = (with_list_relations(cases_visible_to(request.user)).select_related("extended_by")
             .prefetch_related(*detail_relations()))
    case = get_object_or_404(cases, reference=reference)
    # One read of the units serves the rule panel and every form that lists units.
    units = UnitDirectory()
    snapshot = case.rule_snapshot
    viewer = Viewer.of(request.user, case)
    # Oversight records name cases; only those who keep them see them here (issue: oversight, access).
    violations = (list(case.violations.select_related("person", "kind", "severity").order_by("-discovered_on", "-id"))
                  if may_oversee(request.user) else [])
    return render(request, "cases/case_detail.html", {
        "case": case,
        "events": list(case.events.select_related("actor", "from_department", "to_department")),
        "snapshot": snapshot,
        "snapshot_owner": units.by_code.get(snapshot.get("owner")),
        "snapshot_consultees": [units.by_code.get(code, code) for code in snapshot.get("required_consultees", ())],
        "actions": [*offered_actions(case, request.user, viewer=viewer, units=units),
                    *respond_actions(case, request.user)],
        "consultations": consultation_rows(case, viewer),
        "violations": violations,
    })
