"""Submitting a matter to the City Committee and recording its decision (DESIGN.md §2 rules 2 and 7)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, EventAction, Outcome, Status, Submission
from cases.refusals import Refused, records_refusals
from cases.selectors import staff_of
from cases.services.common import (
    LEAD_ROLES,
    locked_case,
    mark_resolved,
    owner_member,
    record,
    require_status,
    save_case,
)
from cases.services.consultations import consultation_gates, deem_silent_consultations_agreed
from cases.services.handling import is_city_level
from departments.models import Role


def submission_gates(case: Case) -> None:
    """Checks that must pass before a matter goes up (DESIGN.md §2 rule 7)."""
    consultation_gates(case)


@records_refusals("submit")
def case_submit(*, case: Case, actor, summary: str, expected_version: int | None = None) -> Case:
    """The owner's head or deputy sends a city-level matter up with a summary.

    A department-level matter is refused with `within_own_authority` (directive: decide what is within
    your authority instead of pushing it up).
    """
    # Silence turns into agreement in its own transaction, so it stays recorded if the submission is refused.
    deem_silent_consultations_agreed(cases=[case.pk])
    with locked_case(case, expected_version=expected_version) as case:
        staff = owner_member(case, actor, roles=LEAD_ROLES)
        require_status(case, [Status.IN_PROGRESS], _("submitted"))
        if not is_city_level(case):
            raise Refused("within_own_authority", _(
                "This matter is within your department's authority (%(basis)s): decide it yourself instead of "
                "submitting it to the City Committee.") % {"basis": case.legal_basis or _("the case's rule")})
        submission_gates(case)
        now = timezone.now()
        Submission.objects.create(case=case, department_id=staff.department_id, submitted_by=actor,
                                  submitted_at=now, summary=summary)
        case.status = Status.SUBMITTED
        save_case(case, "status")
        record(case, actor, EventAction.SUBMITTED, from_status=Status.IN_PROGRESS, note=summary,
               from_department_id=staff.department_id)
    return case


def may_record_decisions(user) -> bool:
    staff = staff_of(user)
    return bool(user.is_authenticated and (user.is_superuser or (staff and staff.role == Role.CITY_OFFICE)))


@records_refusals("decide")
def case_decide(*, case: Case, actor, outcome: str, note: str = "", expected_version: int | None = None) -> Case:
    """The city office records the City Committee's decision: approved or rejected settles the case, rework
    sends it back to the owner."""
    if not may_record_decisions(actor):
        raise PermissionDenied(_("Only the city office records the City Committee's decisions."))
    if outcome not in Outcome.values:
        # Anything else would settle the case with a meaningless outcome, or leave its submission pending.
        raise ValidationError({"outcome": _("Choose approved, rejected or rework.")})
    with locked_case(case, expected_version=expected_version) as case:
        require_status(case, [Status.SUBMITTED], _("decided"))
        now = timezone.now()
        submission = Submission.objects.select_for_update().get(case=case, outcome="")
        submission.outcome, submission.decided_by, submission.decided_at, submission.decision_note = (
            outcome, actor, now, note)
        submission.save(update_fields=["outcome", "decided_by", "decided_at", "decision_note"])
        if outcome == Outcome.REWORK:
            case.status = Status.IN_PROGRESS
            save_case(case, "status")
        else:
            case.status, case.outcome, case.resolution = Status.RESOLVED, outcome, note
            mark_resolved(case, now)
            save_case(case, "status", "outcome", "resolved_at", "working_days_taken", "resolution")
        record(case, actor, EventAction.DECIDED, from_status=Status.SUBMITTED, note=note, outcome=outcome,
               submission=submission.pk)
    return case


def pending_submissions():
    """The city office's queue: matters waiting for the City Committee, key tasks first, then oldest first."""
    return (Submission.objects.filter(outcome="")
            .select_related("case", "case__case_type", "department", "submitted_by")
            .order_by("-case__key_task", "submitted_at", "id"))
