"""Consultations between departments and agreement before submission (DESIGN.md §2 rules 6 and 7)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.audit_chain import chain_each_case
from cases.measures import latest_rounds
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    Consultation,
    ConsultationStatus,
    DeadlineMark,
    DisputeStatus,
    EventAction,
    Position,
    Reconciliation,
    RuleDispute,
    Status,
)
from cases.notifications import notify_assignment, notify_deemed_agreed, notify_withdrawal
from cases.services.common import (
    already_responsible,
    case_service,
    consultation_service,
    owner_id_of,
    record,
    save_case,
)
from core.bulk import unlocked
from core.refusals import RefusalCode, Refused
from departments.models import HANDLER_ROLES, Department, Staff
from departments.workdays import get_calendar, local_date

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def consultation_days(case: Case) -> int:
    """The rule's consultation days, else the case type's, else DEFAULT_CONSULTATION_DAYS (DESIGN.md §3)."""
    return (case.rule_snapshot.get("consultation_days") or case.case_type.consultation_days
            or settings.DEFAULT_CONSULTATION_DAYS)


def required_consultee_codes(case: Case) -> list[str]:
    return list(case.rule_snapshot.get("required_consultees", ()))


@case_service("consult", who=policy.OWNER_HANDLERS, statuses=[Status.IN_PROGRESS], verb=_("sent for consultation"),
              refuses=[RefusalCode.JUSTIFICATION_REQUIRED, RefusalCode.CONSULTATION_OPEN,
                       RefusalCode.MAX_ROUNDS_EXCEEDED])
def case_consult(*, case: Case, actor: User, departments: list[Department], question: str,
                 justification: str = "") -> list[Consultation]:
    """Ask departments for their opinion; each gets its own deadline while the case's own keeps running.

    The rule's required consultees come first; any other unit needs a written justification and is
    counted as non-required (`justification_required`). At most MAX_CONSULT_ROUNDS rounds per unit
    (`max_rounds_exceeded`), and one open request per unit at a time (`consultation_open`).
    """
    departments = list({unit.pk: unit for unit in departments}.values())
    if not departments:
        raise ValidationError({"departments": _("Choose at least one department to consult.")})
    if any(unit.pk == case.owner_id for unit in departments):
        raise ValidationError({"departments": _("A department does not consult itself.")})
    required = set(required_consultee_codes(case))
    extra = [unit for unit in departments if unit.code not in required]
    if extra and not justification.strip():
        raise Refused(RefusalCode.JUSTIFICATION_REQUIRED, _(
            "Not among the consultees the rule requires: %(units)s. Say in writing why this case needs "
            "their opinion.") % {"units": ", ".join(unit.name for unit in extra)},
            departments=[unit.code for unit in extra])
    unit_ids = [unit.pk for unit in departments]
    existing = Consultation.unscoped.filter(case=case, department_id__in=unit_ids)
    open_units = set(existing.filter(status=ConsultationStatus.OPEN).values_list("department_id", flat=True))
    if open_units:
        names = [unit.name for unit in departments if unit.pk in open_units]
        raise Refused(RefusalCode.CONSULTATION_OPEN, _(
            "Not yet answered the previous request: %(units)s. Ask a new round after the answer.")
            % {"units": ", ".join(names)}, departments=[u.code for u in departments if u.pk in open_units])
    rounds = dict(existing.values("department_id").annotate(last=Max("round")).values_list("department_id", "last"))
    exhausted = [unit for unit in departments if rounds.get(unit.pk, 0) >= settings.MAX_CONSULT_ROUNDS]
    if exhausted:
        raise Refused(RefusalCode.MAX_ROUNDS_EXCEEDED, _(
            "Already consulted %(rounds)s times on this case: %(units)s. Consultation must not drag the "
            "case out.") % {"units": ", ".join(u.name for u in exhausted), "rounds": settings.MAX_CONSULT_ROUNDS},
            departments=[unit.code for unit in exhausted])
    now = timezone.now()
    due = get_calendar().due_date(local_date(now), consultation_days(case))
    consultations = Consultation.unscoped.bulk_create([
        Consultation(case=case, department=unit, requesting_department_id=owner_id_of(case),
                     round=rounds.get(unit.pk, 0) + 1, required=unit.code in required, question=question,
                     justification="" if unit.code in required else justification,
                     requested_by=actor, requested_at=now, due_date=due)
        for unit in departments
    ])
    save_case(case)
    record(case, actor, EventAction.CONSULTED, from_status=case.status, note=question,
           consultations=[{"id": c.pk, "department": c.department.code, "round": c.round,
                           "required": c.required} for c in consultations], due_date=due.isoformat())
    return consultations


@consultation_service("assign_consultation", who=policy.CONSULTED_LEADS, refuses=[RefusalCode.INVALID_TRANSITION])
def consultation_assign(*, consultation: Consultation, actor: User, assignee: User) -> Consultation:
    """The consulted unit's head names the one person who prepares its answer."""
    if consultation.status != ConsultationStatus.OPEN:
        raise Refused(RefusalCode.INVALID_TRANSITION, _("This consultation is no longer open."),
                      consultation=consultation.pk)
    if not Staff.objects.filter(user=assignee, department_id=consultation.department_id,
                                role__in=HANDLER_ROLES).exists():
        raise ValidationError({"assignee": _("%(user)s does not handle cases in %(unit)s.")
                               % {"user": assignee.username, "unit": consultation.department.name}})
    previous = consultation.assignee
    if previous is not None and previous.pk == assignee.pk:
        raise ValidationError({"assignee": already_responsible(assignee)})
    consultation.assignee = assignee
    consultation.save(update_fields=["assignee"])
    event = record(consultation.case, actor, EventAction.CONSULTATION_ASSIGNED,
                   from_status=consultation.case.status, consultation=consultation.pk,
                   previous=previous.username if previous else None, assignee=assignee.username)
    notify_assignment(event=event, assignee=assignee, department_id=consultation.department_id, actor=actor,
                      consultation=consultation)
    # As for a case: the new assignee hears of a late request from the next sweep.
    DeadlineMark.objects.filter(consultation=consultation).delete()
    return consultation


def check_position(position: str, comment: str) -> None:
    """`disagree` needs its reasons, and so do comments and a claim that the matter is not the unit's."""
    if position not in Position.values:
        raise ValidationError({"position": _("Choose agree, agree with comments, disagree or not competent.")})
    if position != Position.AGREE and not comment.strip():
        raise ValidationError({"comment": _("Give your comments or reasons.")})


@consultation_service("respond", who=policy.CONSULTED_HANDLERS, refuses=[RefusalCode.INVALID_TRANSITION])
def consultation_respond(*, consultation: Consultation, actor: User, position: str, comment: str = "") -> Consultation:
    """The consulted unit answers. `disagree` needs its reasons; `not_competent` opens a rule dispute."""
    check_position(position, comment)
    if consultation.status == ConsultationStatus.ANSWERED:
        raise Refused(RefusalCode.INVALID_TRANSITION, _("This consultation was already answered."),
                      consultation=consultation.pk)
    if consultation.status == ConsultationStatus.WITHDRAWN:
        raise Refused(RefusalCode.INVALID_TRANSITION, _(
            "This request was withdrawn when the case was settled; no opinion is needed any more."),
            consultation=consultation.pk)
    now = timezone.now()
    # A late answer still counts (it replaces the presumed agreement) but stays late in the figures.
    consultation.status, consultation.position, consultation.comment = ConsultationStatus.ANSWERED, position, comment
    consultation.answered_by, consultation.answered_at = actor, now
    consultation.answered_late = local_date(now) > consultation.due_date
    consultation.answer_working_days = get_calendar().working_days_between(
        local_date(consultation.requested_at), local_date(now))
    consultation.save(update_fields=["status", "position", "comment", "answered_by", "answered_at",
                                     "answered_late", "answer_working_days"])
    case = consultation.case
    if position == Position.NOT_COMPETENT and not RuleDispute.objects.filter(
            case=case, department_id=consultation.department_id, status=DisputeStatus.OPEN).exists():
        RuleDispute.objects.create(case=case, rule_id=case.rule_id, department_id=consultation.department_id,
                                   filed_by=actor, reason=comment)
    record(case, actor, EventAction.CONSULTATION_ANSWERED, from_status=case.status, note=comment,
           from_department_id=consultation.department_id, consultation=consultation.pk, position=position,
           late=consultation.answered_late)
    return consultation


def deem_silent_consultations_agreed(*, cases=None, today: dt.date | None = None,
                                     now: dt.datetime | None = None) -> int:
    """Required consultations unanswered past their deadline become `deemed_agreed` (DESIGN.md §3, Silence).

    Three statements whatever the number of rows: one UPDATE that re-checks `status = open` itself (so a
    second run, or a concurrent one, changes nothing it changed), one SELECT of the rows this run stamped with
    its own `now` beside the last digest of each one's case, and one INSERT of their events, each linked to its
    case's hash chain. `cases` limits it to some cases (the submission gate, which locks them first); the
    periodic sweep passes none.
    """
    if not settings.CONSULTATION_SILENCE_MEANS_AGREEMENT:
        return 0
    now = now or timezone.now()
    today = today or local_date(now)
    silent = Consultation.unscoped.filter(status=ConsultationStatus.OPEN, required=True, due_date__lt=today)
    if cases is not None:
        silent = silent.filter(case__in=cases)
    with transaction.atomic():
        # An event follows its case's last one, so the case is locked as well. The sweep passes by a case that a
        # person's move holds right now, as it does a consultation, and the next run takes it; the submission
        # gate waits for its own case instead, or it would refuse for want of a silence it has not counted.
        if cases is not None:
            list(Case.unscoped.select_for_update().filter(pk__in=cases).order_by("pk").values_list("pk", flat=True))
        silent = silent.filter(case__in=unlocked(Case.unscoped.filter(pk__in=silent.values("case_id"))))
        deemed = unlocked(silent).update(status=ConsultationStatus.DEEMED_AGREED, deemed_agreed_at=now)
        if deemed:
            stamped = Consultation.unscoped.filter(status=ConsultationStatus.DEEMED_AGREED, deemed_agreed_at=now)
            last_digest = CaseEvent.objects.filter(case_id=OuterRef("case_id")).order_by("-id").values("digest")[:1]
            events: list[CaseEvent] = []
            last_digests: dict[int, str] = {}
            for consultation_id, case_id, status, department_id, due_date, digest in stamped.order_by(
                    "case_id", "id").values_list("id", "case_id", "case__status", "department_id", "due_date",
                                                 Subquery(last_digest)):
                events.append(CaseEvent(case_id=case_id, at=now, action=EventAction.DEEMED_AGREED, from_status=status,
                                        to_status=status, from_department_id=department_id,
                                        payload={"consultation": consultation_id, "due_date": due_date.isoformat()}))
                last_digests[case_id] = digest or ""
            chain_each_case(events, last_digests)
            CaseEvent.objects.bulk_create(events)
            notify_deemed_agreed(now)
    return deemed


def require_opinions(case: Case) -> dict[int, Consultation]:
    """The opinions the rule requires, each given or deemed given, before the case is submitted or resolved
    (DESIGN.md §2 rule 7). Run `deem_silent_consultations_agreed` first. Returns the latest round per unit."""
    latest = latest_rounds(case.consultations.select_related("department"))
    by_code = {c.department.code: c for c in latest.values()}
    pending = [code for code in required_consultee_codes(case)
               if code not in by_code or by_code[code].status == ConsultationStatus.OPEN]
    if pending:
        names = dict(Department.objects.filter(code__in=pending).values_list("code", "name"))
        raise Refused(RefusalCode.CONSULTATIONS_PENDING, _(
            "The rule requires opinions that have not been given yet (nor deemed given): %(units)s.")
            % {"units": ", ".join(names.get(code, code) for code in pending)}, departments=pending)
    return latest


def deem_silence(case: Case) -> None:
    """Before a move that needs the required opinions: silence turns into agreement in its own transaction, so
    it stays recorded if the move is refused."""
    deem_silent_consultations_agreed(cases=[case.pk])


def consultation_gates(case: Case) -> None:
    """Agree before you submit (DESIGN.md §2 rule 7). Run `deem_silent_consultations_agreed` first."""
    latest = require_opinions(case)
    unreconciled = [c for c in latest.values() if c.position == Position.DISAGREE
                    and not Reconciliation.objects.filter(consultation=c).exists()]
    if unreconciled:
        raise Refused(RefusalCode.UNRESOLVED_DISAGREEMENT, _(
            "Disagreements without a recorded settlement by your department's head: %(units)s.")
            % {"units": ", ".join(c.department.name for c in unreconciled)},
            consultations=[c.pk for c in unreconciled])


def withdraw_open_consultations(case: Case, actor: User) -> list[Consultation]:
    """The requests still open when a case is settled are withdrawn: the consulted unit has nothing left to give
    an opinion on, and can no longer answer. Each gets an event on the case and a notice to the consulted unit.
    Runs in the settling move's transaction, with the case locked."""
    # Locked first: an answer on its way waits, and then finds the request withdrawn instead of being overwritten.
    withdrawn = list(case.consultations.select_for_update(of=("self",)).filter(status=ConsultationStatus.OPEN)
                     .select_related("assignee").order_by("id"))
    if not withdrawn:
        return []
    Consultation.unscoped.filter(pk__in=[c.pk for c in withdrawn]).update(status=ConsultationStatus.WITHDRAWN)
    for consultation in withdrawn:
        consultation.status = ConsultationStatus.WITHDRAWN
        event = record(case, actor, EventAction.CONSULTATION_WITHDRAWN, from_status=case.status,
                       from_department_id=consultation.department_id, consultation=consultation.pk)
        notify_withdrawal(event=event, consultation=consultation, actor=actor)
    return withdrawn


@case_service("reconcile", who=policy.OWNER_LEADS, statuses=[Status.IN_PROGRESS], verb=_("reconciled"))
def case_reconcile(*, case: Case, actor: User, consultation: Consultation, note: str, settled_on: dt.date | None = None,
                   attachment: Attachment | None = None) -> Reconciliation:
    """The owner's head or deputy records how a disagreement was settled (note, date, optional attachment)."""
    # The caller's copy may predate the answer; judge the answer as stored.
    consultation = Consultation.unscoped.get(pk=consultation.pk)
    if consultation.case_id != case.pk:
        raise ValidationError({"consultation": _("This consultation belongs to another case.")})
    if consultation.position != Position.DISAGREE:
        raise ValidationError({"consultation": _("Only a disagreement needs a reconciliation.")})
    if Reconciliation.objects.filter(consultation=consultation).exists():
        raise ValidationError({"consultation": _("This disagreement was already reconciled.")})
    if attachment is not None and attachment.case_id != case.pk:
        raise ValidationError({"attachment": _("The attachment belongs to another case.")})
    today = local_date(timezone.now())
    settled_on = settled_on or today
    if settled_on > today:
        raise ValidationError({"settled_on": _("The settlement date cannot be in the future.")})
    reconciliation = Reconciliation.objects.create(consultation=consultation, note=note, settled_on=settled_on,
                                                   attachment=attachment, recorded_by=actor)
    save_case(case)
    record(case, actor, EventAction.RECONCILED, from_status=case.status, note=note, consultation=consultation.pk,
           settled_on=settled_on.isoformat(), attachment=attachment.pk if attachment else None)
    return reconciliation
