"""The owner department's moves: accept, assign, propose, resolve, return and transfer (DESIGN.md §2, §4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case, DeadlineMark, EventAction, Return, Status, TriageReason
from cases.notifications import notify_assignment
from cases.services.common import (
    already_responsible,
    case_service,
    due_date_of,
    mark_resolved,
    owner_id_of,
    record,
    save_case,
)
from cases.services.consultations import deem_silence, require_opinions, withdraw_open_consultations
from cases.services.intake import HANDED_OVER_FIELDS, hand_over, routing_decision
from core.refusals import RefusalCode, Refused
from departments.models import HANDLER_ROLES, DecisionLevel, Department, Staff
from departments.workdays import get_calendar, handover_due, local_date

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RETURNABLE = (Status.ROUTED, Status.IN_PROGRESS)
ASSIGNABLE = (Status.ROUTED, Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT)


@case_service("accept", who=policy.OWNER_HANDLERS, statuses=[Status.ROUTED], verb=_("accepted"))
def case_accept(*, case: Case, actor: User) -> Case:
    """The owner takes the case on; the one who accepts is its named handler until the head reassigns it."""
    case.status, case.assignee, case.accepted_at = Status.IN_PROGRESS, actor, timezone.now()
    save_case(case, "status", "assignee", "accepted_at")
    record(case, actor, EventAction.ACCEPTED, from_status=Status.ROUTED, assignee=actor.username)
    return case


@case_service("assign", who=policy.OWNER_LEADS, statuses=ASSIGNABLE, verb=_("assigned"))
def case_assign(*, case: Case, actor: User, assignee: User) -> Case:
    """The head names the one responsible person (directive: rõ người, rõ việc); a routed case is accepted too."""
    owner_id = owner_id_of(case)
    if not Staff.objects.filter(user=assignee, department_id=owner_id, role__in=HANDLER_ROLES).exists():
        raise ValidationError({"assignee": _("%(user)s does not handle cases in %(unit)s.")
                               % {"user": assignee.username, "unit": cast(Department, case.owner).name}})
    from_status, previous = case.status, case.assignee
    if previous is not None and previous.pk == assignee.pk:
        raise ValidationError({"assignee": already_responsible(assignee)})
    fields = ["assignee"]
    if case.status == Status.ROUTED:
        case.status, case.accepted_at = Status.IN_PROGRESS, timezone.now()
        fields += ["status", "accepted_at"]
    case.assignee = assignee
    save_case(case, *fields)
    event = record(case, actor, EventAction.ASSIGNED, from_status=from_status,
                   previous=previous.username if previous else None, assignee=assignee.username)
    notify_assignment(event=event, assignee=assignee, department_id=owner_id, actor=actor)
    # Late work changing hands is flagged afresh, so the new assignee hears of it from the next sweep (the
    # head, told already for this due date, is not told twice: the notices' unique constraint).
    DeadlineMark.objects.filter(case=case).delete()
    return case


@case_service("propose", who=policy.OWNER_HANDLERS, statuses=[Status.IN_PROGRESS],
              verb=_("proposed for resolution"))
def case_propose(*, case: Case, actor: User, note: str) -> Case:
    """A handler proposes how to settle the case; the head or deputy signs off by resolving or submitting."""
    save_case(case)
    record(case, actor, EventAction.PROPOSED, from_status=case.status, note=note)
    return case


def is_city_level(case: Case) -> bool:
    return case.decision_level in (DecisionLevel.CITY_COMMITTEE, DecisionLevel.CHAIRMAN)


@case_service("resolve", who=policy.OWNER_LEADS, statuses=[Status.IN_PROGRESS], verb=_("resolved"),
              before=deem_silence, refuses=[RefusalCode.CONSULTATIONS_PENDING])
def case_resolve(*, case: Case, actor: User, note: str) -> Case:
    """The owner's head or deputy settles a department-level matter (directive: decide within your authority).

    Not while an opinion the rule requires is still awaited (directive: consult the right units); requests for
    other opinions still open are withdrawn with the case.
    """
    if is_city_level(case):
        raise Refused(RefusalCode.INVALID_TRANSITION, _("This matter is decided by the City Committee; submit it "
                                                        "with a summary instead of resolving it."))
    require_opinions(case)
    case.status, case.resolution = Status.RESOLVED, note
    mark_resolved(case, timezone.now())
    save_case(case, "status", "resolved_at", "working_days_taken", "resolution")
    record(case, actor, EventAction.RESOLVED, from_status=Status.IN_PROGRESS, note=note)
    withdraw_open_consultations(case, actor)
    return case


@case_service("return", who=policy.OWNER_HANDLERS, statuses=RETURNABLE, verb=_("returned"),
              refuses=[RefusalCode.WITHIN_OWN_AUTHORITY])
def case_return(*, case: Case, actor: User, reason: str) -> Case:
    """Return a case the rules do not give the owner, at once (DESIGN.md §2 rule 5).

    A case the rules do give it is refused with `within_own_authority`: a unit that thinks the rule is
    wrong files a rule dispute instead. A return later than RETURN_WITHIN_WORKING_DAYS after arrival is
    allowed and counted as late.
    """
    decision = routing_decision(case)
    if decision.rule is not None and decision.rule.owner_id == case.owner_id:
        raise Refused(RefusalCode.WITHIN_OWN_AUTHORITY, _(
            "The authority rules give this case to your unit (%(basis)s). Settle it, or file a rule dispute "
            "if you believe the rule is wrong.") % {"basis": decision.rule.legal_basis or f"#{decision.rule.id}"})
    now = timezone.now()
    calendar = get_calendar()
    # Arrival on a day off counts from the next working day, like a receipt (DESIGN.md §3).
    arrived = calendar.working_day_on_or_after(local_date(case.handed_over_at or case.received_at))
    held = calendar.working_days_between(arrived, local_date(now))
    late = held > settings.RETURN_WITHIN_WORKING_DAYS
    competent_id = decision.rule.owner_id if decision.rule else None
    owner_id = owner_id_of(case)
    Return.objects.create(case=case, department_id=owner_id, returned_by=actor, returned_at=now, reason=reason,
                          late=late, working_days_held=held, competent_department_id=competent_id)
    from_status = case.status
    case.status, case.owner, case.assignee, case.accepted_at = Status.TRIAGE, None, None, None
    case.triage_reason = TriageReason.RETURNED
    case.triage_since, case.handover_due_at, case.handed_over_at, case.handover_late = (
        now, handover_due(now, calendar), None, None)
    save_case(case, "status", "owner", "assignee", "accepted_at", "triage_reason", "triage_since",
              "handover_due_at", "handed_over_at", "handover_late")
    record(case, actor, EventAction.RETURNED, from_status=from_status, note=reason, from_department_id=owner_id,
           late=late, working_days_held=held, competent=decision.rule.owner_code if decision.rule else None)
    return case


def competent_department(case: Case) -> Department | None:
    """The department the rules, applied today, name as owner of this case, if exactly one."""
    decision = routing_decision(case)
    return Department.objects.filter(pk=decision.rule.owner_id).first() if decision.rule else None


@case_service("transfer", who=policy.OWNER_LEADS, statuses=RETURNABLE, verb=_("transferred"),
              refuses=[RefusalCode.WITHIN_OWN_AUTHORITY, RefusalCode.TARGET_NOT_COMPETENT])
def case_transfer(*, case: Case, actor: User, to: Department, reason: str) -> Case:
    """Transfer a case to the department the rules name as its owner today (DESIGN.md §2 rule 3).

    Own-authority work is refused with `within_own_authority`; any target but the competent one with
    `target_not_competent`. The new owner gets the rule's terms; its deadline still counts from receipt.
    """
    decision = routing_decision(case)
    rule = decision.rule
    if rule is not None and rule.owner_id == case.owner_id:
        raise Refused(RefusalCode.WITHIN_OWN_AUTHORITY, _(
            "The authority rules give this case to your unit (%(basis)s); it cannot be passed to another "
            "unit.") % {"basis": rule.legal_basis or f"#{rule.id}"}, target=to.code)
    if rule is None or rule.owner_id != to.pk:
        competent = (_("the rules name %(owner)s") % {"owner": rule.owner_code} if rule
                     else _("no rule names a competent unit; return it to the intake desk instead"))
        raise Refused(RefusalCode.TARGET_NOT_COMPETENT, _("%(unit)s is not competent for this case: "
                                                          "%(competent)s.") % {"unit": to.name,
                                                                               "competent": competent},
                      target=to.code)
    from_status, now, from_unit = case.status, timezone.now(), case.owner_id
    hand_over(case, owner_id=to.pk, rule=rule, processing_days=rule.processing_days, now=now,
              calendar=get_calendar())
    # The handover to the new owner is the sender's act, not the intake desk's.
    case.handover_late = None
    case.assignee, case.accepted_at = None, None
    save_case(case, *HANDED_OVER_FIELDS, "assignee", "accepted_at")
    record(case, actor, EventAction.TRANSFERRED, from_status=from_status, note=reason, from_department_id=from_unit,
           to_department_id=to.pk, rule=rule.id, due_date=due_date_of(case).isoformat())
    return case


def handlers_of(department: Department | int):
    """People who may be named assignee in a department."""
    return get_user_model().objects.filter(staff__department=department, staff__role__in=HANDLER_ROLES,
                                           is_active=True).order_by("first_name", "last_name", "username")
