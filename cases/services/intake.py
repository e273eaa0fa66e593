"""Intake: logging a case and routing it to its owner (DESIGN.md §2 rule 1, §3)."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.audit_chain import chain
from cases.models import Case, CaseEvent, EventAction, ReferenceCounter, Source, Status, TriageReason
from cases.notifications import notify_handoff
from cases.services.common import case_service, due_date_of, record, save_case
from core.refusals import RefusalCode, Refused, records_refusals, write_unattached_refusal
from departments import generations
from departments.models import CaseType, Department, DepartmentKind
from departments.routing import AMBIGUOUS_RULE, Decision, RoutingIndex, RuleEntry, get_index
from departments.workdays import WorkingCalendar, get_calendar, handover_due, local_date

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def next_reference(*, prefix: str, day: dt.date) -> str:
    """The next dossier code `<unit>-<YYMMDD>-<NNNN>` for a unit and day.

    Must run inside the transaction that saves the case: the counter row stays locked until commit, so
    concurrent intakes queue on it, and a rolled-back intake gives its number back (no gaps). One statement
    makes the day's row or takes its next number, so that the lock is held from as late as possible.
    """
    table = ReferenceCounter._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (prefix, day, last) VALUES (%s, %s, 1) "  # noqa: S608 - the model's own table
            f"ON CONFLICT (prefix, day) DO UPDATE SET last = {table}.last + 1 RETURNING last", [prefix, day])
        (number,) = cursor.fetchone()
    return f"{prefix}-{day:%y%m%d}-{number:04d}"


def _receiving_prefix(receiving_unit: Department | None) -> str:
    return receiving_unit.reference_prefix if receiving_unit else settings.CITY_CODE


def _new_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def validate_received_at(received_at: dt.datetime) -> None:
    if received_at > timezone.now():
        raise ValidationError({"received_at": _("The receipt time cannot be in the future.")})


def check_backdating(actor: User, received_at: dt.datetime, now: dt.datetime) -> None:
    """A receipt older than MAX_BACKDATE_DAYS is an admin's to log: the deadline runs from receipt, and a desk
    that could date a dossier years back could make any unit late, or log late work as received on time."""
    earliest = now - dt.timedelta(days=settings.MAX_BACKDATE_DAYS)
    if received_at < earliest and not actor.is_superuser:
        raise Refused(RefusalCode.BACKDATED_RECEIPT, _(
            "A dossier received more than %(days)s days ago (%(received)s) can be logged only by an administrator, "
            "with the receipt slip; ask one.") % {"days": settings.MAX_BACKDATE_DAYS,
                                                  "received": f"{timezone.localtime(received_at):%d/%m/%Y %H:%M}"},
            received_at=received_at.isoformat(), earliest=earliest.isoformat())


# What `hand_over` changes, for the caller's save.
HANDED_OVER_FIELDS = ("owner", "status", "triage_reason", "rule", "rule_snapshot", "decision_level", "due_date",
                      "handed_over_at", "handover_late")


def hand_over(case: Case, *, owner_id: int, rule: RuleEntry | None, processing_days: int, now: dt.datetime,
               calendar: WorkingCalendar):
    """Name the owner and the deadline; the handover is late if the intake desk missed its day."""
    case.owner_id = owner_id
    case.status = Status.ROUTED
    case.triage_reason = TriageReason.NONE
    case.rule_id = rule.id if rule else None
    case.rule_snapshot = rule.snapshot() if rule else {"rule_id": None, "processing_days": processing_days}
    case.decision_level = rule.decision_level if rule else ""
    case.due_date = calendar.due_date(local_date(case.received_at), processing_days)
    case.handed_over_at = now
    case.handover_late = case.handover_due_at is not None and now > case.handover_due_at


@records_refusals("create", on="actor", write=write_unattached_refusal)
def case_create(
    *,
    actor: User,
    title: str,
    case_type: CaseType,
    description: str = "",
    locality: Department | None = None,
    amount: Decimal | None = None,
    source: str = Source.CITIZEN,
    applicant_name: str = "",
    applicant_contact: str = "",
    received_at: dt.datetime | None = None,
    key_task: bool = False,
) -> Case:
    """Log a case at the intake desk and route it to its owner by the rules (DESIGN.md §2 rule 1).

    No rule, or a tie between owners, leaves it in the triage queue with the reason.
    """
    policy.require(actor, policy.INTAKE_CLERKS, None)
    now = timezone.now()
    received_at = received_at or now
    validate_received_at(received_at)
    check_backdating(actor, received_at, now)
    if amount is not None and amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})

    staff = policy.membership(actor)
    receiving_unit = staff.department if staff else None
    received_on = local_date(received_at)
    # One query for both tokens when the caches must read them; none while pub/sub vouches for the caches.
    tokens = generations.tokens_if_needed(generations.RULES, generations.CALENDAR)
    decision = get_index(tokens).decide(
        case_type_id=case_type.pk, locality_id=locality.pk if locality else None, amount=amount, on=received_on
    )
    calendar = get_calendar(tokens)
    # Read before the counter's lock is taken, which the day's other intakes at the desk wait on.
    owner = Department.objects.get(pk=decision.rule.owner_id) if decision.rule is not None else None
    with transaction.atomic():
        case = Case(
            reference=next_reference(prefix=_receiving_prefix(receiving_unit), day=received_on),
            pin=_new_pin(), title=title, description=description, case_type=case_type, locality=locality,
            amount=amount, source=source, applicant_name=applicant_name, applicant_contact=applicant_contact,
            received_at=received_at, receiving_unit=receiving_unit, created_by=actor, created_at=now,
            key_task=key_task, triage_since=now, handover_due_at=handover_due(received_at, calendar),
        )
        if decision.rule is not None and owner is not None:
            hand_over(case, owner_id=owner.pk, rule=decision.rule, processing_days=decision.rule.processing_days,
                       now=now, calendar=calendar)
            case.owner = owner
        else:
            case.status = Status.TRIAGE
            case.triage_reason = decision.reason
        case.save()
        events = [CaseEvent(case=case, actor=actor, at=now, action=EventAction.CREATED, to_status=Status.TRIAGE,
                            payload={"received_at": received_at.isoformat()})]
        if decision.rule is not None:
            events.append(CaseEvent(
                case=case, actor=actor, at=now, action=EventAction.ROUTED, from_status=Status.TRIAGE,
                to_status=Status.ROUTED, to_department=owner,
                payload={"rule": decision.rule.id, "due_date": due_date_of(case).isoformat(),
                         "handover_late": case.handover_late},
            ))
        else:
            events.append(CaseEvent(
                case=case, actor=actor, at=now, action=EventAction.TRIAGED, from_status=Status.TRIAGE,
                to_status=Status.TRIAGE, note=str(TriageReason(decision.reason).label),
                payload={"reason": decision.reason, "conflicting_rules": [e.id for e in decision.conflicting]},
            ))
        # The case is new, in this transaction: nobody else can append to its trail, which starts here.
        chain(events, previous="")
        CaseEvent.objects.bulk_create(events)
        notify_handoff(events[-1], case)
    return policy.with_first_details(case, events)


def routing_decision(case: Case, *, index: RoutingIndex | None = None) -> Decision:
    """What the rules, applied today, say about this case (for manual routing, returns and transfers).

    Pass `index` when deciding for many cases at once, to check the rules' generation only once.
    """
    return (index or get_index()).decide(
        case_type_id=case.case_type_id, locality_id=case.locality_id, amount=case.amount,
        on=local_date(case.received_at),
    )


@case_service("route", who=policy.TRIAGE_ROUTERS,
              refuses=[RefusalCode.INVALID_TRANSITION, RefusalCode.TARGET_NOT_COMPETENT])
def case_route(*, case: Case, actor: User, to: Department, note: str = "") -> Case:
    """A clerk routes a case from the triage queue by hand (DESIGN.md §2 rule 1).

    Where a rule names the owner, only that owner is accepted; where rules tie, one of the tied owners;
    where no rule applies, any active unit that handles cases, and the admin sees the rule gap.
    """
    if case.status != Status.TRIAGE:
        raise Refused(RefusalCode.INVALID_TRANSITION, _("Only a case in the triage queue can be routed."),
                      target=to.code)
    if not to.active or to.kind == DepartmentKind.CITY_COMMITTEE:
        raise Refused(RefusalCode.TARGET_NOT_COMPETENT, _("%(unit)s does not take cases.") % {"unit": to.name},
                      target=to.code)
    decision = routing_decision(case)
    rule = decision.rule
    if rule is not None and to.pk != rule.owner_id:
        raise Refused(RefusalCode.TARGET_NOT_COMPETENT,
                      _("The authority rules give this case to %(owner)s, not to %(unit)s.")
                      % {"owner": rule.owner_code, "unit": to.name}, target=to.code)
    if decision.reason == AMBIGUOUS_RULE:
        tied = [e for e in decision.conflicting if e.owner_id == to.pk]
        if not tied:
            raise Refused(RefusalCode.TARGET_NOT_COMPETENT,
                          _("The tied rules name other units; %(unit)s is not one of them.") % {"unit": to.name},
                          target=to.code)
        # The chosen owner's rule carries the terms: days, consultees, legal basis.
        rule = max(tied, key=lambda e: e.id)
    now = timezone.now()
    from_status = case.status
    processing_days = rule.processing_days if rule else case.case_type.processing_days
    hand_over(case, owner_id=to.pk, rule=rule, processing_days=processing_days, now=now, calendar=get_calendar())
    save_case(case, *HANDED_OVER_FIELDS)
    record(case, actor, EventAction.ROUTED_MANUALLY, from_status=from_status, to_department_id=to.pk, note=note,
           rule=rule.id if rule else None, due_date=due_date_of(case).isoformat(), handover_late=case.handover_late)
    return case
