"""Submitting a matter to the City Committee and recording its decision (DESIGN.md §2 rules 2 and 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case, EventAction, Outcome, Status, Submission
from cases.services.common import case_service, mark_resolved, owner_id_of, record, save_case
from cases.services.consultations import consultation_gates, deem_silence, withdraw_open_consultations
from cases.services.handling import is_city_level
from core.refusals import RefusalCode, Refused

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from cases.policy import AnyUser


def submission_gates(case: Case) -> None:
    """Checks that must pass before a matter goes up (DESIGN.md §2 rule 7)."""
    consultation_gates(case)


@case_service("submit", who=policy.OWNER_LEADS, statuses=[Status.IN_PROGRESS], verb=_("submitted"),
              before=deem_silence, refuses=[RefusalCode.WITHIN_OWN_AUTHORITY, RefusalCode.CONSULTATIONS_PENDING,
                                             RefusalCode.UNRESOLVED_DISAGREEMENT])
def case_submit(*, case: Case, actor: User, summary: str) -> Case:
    """The owner's head or deputy sends a city-level matter up with a summary.

    A department-level matter is refused with `within_own_authority` (directive: decide what is within
    your authority instead of pushing it up).
    """
    if not is_city_level(case):
        raise Refused(RefusalCode.WITHIN_OWN_AUTHORITY, _(
            "This matter is within your department's authority (%(basis)s): decide it yourself instead of "
            "submitting it to the City Committee.") % {"basis": case.legal_basis or _("the case's rule")})
    submission_gates(case)
    now = timezone.now()
    Submission.objects.create(case=case, department_id=owner_id_of(case), submitted_by=actor, submitted_at=now,
                              summary=summary)
    case.status = Status.SUBMITTED
    save_case(case, "status")
    record(case, actor, EventAction.SUBMITTED, from_status=Status.IN_PROGRESS, note=summary,
           from_department_id=case.owner_id)
    return case


@case_service("decide", who=policy.DECISION_RECORDERS, statuses=[Status.SUBMITTED], verb=_("decided"))
def case_decide(*, case: Case, actor: User, outcome: str, note: str = "") -> Case:
    """The city office records the City Committee's decision: approved or rejected settles the case, rework
    sends it back to the owner."""
    if outcome not in Outcome.values:
        # Anything else would settle the case with a meaningless outcome, or leave its submission pending.
        raise ValidationError({"outcome": _("Choose approved, rejected or rework.")})
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
    if case.status == Status.RESOLVED:
        withdraw_open_consultations(case, actor)
    return case


def pending_submissions(user: AnyUser) -> QuerySet[Submission]:
    """The city office's queue: matters waiting for the City Committee, key tasks first, then oldest first."""
    return (policy.submissions_visible_to(user).filter(outcome="")
            .select_related("case", "case__case_type", "department", "submitted_by")
            .order_by("-case__key_task", "submitted_at", "id"))
