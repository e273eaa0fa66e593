"""What every case service shares: the move's declaration, the row lock, the version check, the event writer.

A service is one function per move, declared with `case_service` (or `consultation_service`): the decorator
locks the row, refuses an action based on an older view of the case (`case_changed`), checks who may make the
move through the access policy and the statuses it starts from, and records any refusal on the case. The
function itself checks the move's own rules and writes the change and its event, all in that one transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.audit_chain import case_lock_held
from cases.models import Case, CaseEvent, Consultation, DeadlineMark, EventAction, Status
from cases.notifications import notify_handoff
from core.refusals import RefusalCode, Refused, records_refusals

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from cases.policy import AnyUser


@contextmanager
def locked_case(case: Case, *, expected_version: int | None = None) -> Iterator[Case]:
    """The case row, locked until the end of the transaction, so two people acting at once queue up.

    `expected_version` is the version the person saw: if someone changed the case since, acting on the
    old picture would silently undo or override their move, so it is refused instead.
    """
    with transaction.atomic():
        current = Case.unscoped.select_for_update().get(pk=case.pk)
        if expected_version is not None and current.version != expected_version:
            raise stale_refusal(expected_version, current.version)
        # The move's events follow the case's last one without locking the row again (cases.audit_chain).
        with case_lock_held(current.pk):
            yield current


def stale_refusal(expected_version: int, version: int) -> Refused:
    return Refused(RefusalCode.CASE_CHANGED, _("Someone changed this case since you opened it; reload it and try "
                                               "again."), expected_version=expected_version, version=version)


def refuse_stale(case: Case, *, actor: AnyUser, expected_version: int, attempted: str) -> None:
    """Refuse, and record, a move asked on an older version of the case than the one stored, before its input is
    read; the service refuses the same under its lock when the case changes while the move is on its way."""
    refusal = stale_refusal(expected_version, case.version)
    with transaction.atomic():
        write_case_refusal(case, actor=actor, refusal=refusal, attempted=attempted)
    raise refusal


def save_case(case: Case, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])
    if "due_date" in fields:
        # The sweep's mark was for the old date; the next sweep marks the new one afresh, and a new owner's
        # head (a handover sets the date too) hears of late work from it.
        DeadlineMark.objects.filter(case=case).delete()


def owner_id_of(case: Case) -> int:
    """The owner of a case out of triage: the constraint `case_owner_unless_triage` guarantees one."""
    return cast(int, case.owner_id)


def processing_days_of(case: Case) -> int:
    """The working days the case was given when its owner received it: its rule's, or its type's."""
    return int(case.rule_snapshot.get("processing_days") or case.case_type.processing_days)


def due_date_of(case: Case) -> dt.date:
    """The due date of a case handed to its owner: `hand_over` sets it, and nothing clears it."""
    return cast(dt.date, case.due_date)


def mark_resolved(case: Case, now: dt.datetime) -> None:
    """Set the resolution moment and the working days it took from receipt, as the deadline counts them
    (a receipt on a day off counts from the next working day; the receipt day itself is not counted)."""
    from departments.workdays import get_calendar, local_date

    calendar = get_calendar()
    case.resolved_at = now
    case.working_days_taken = calendar.working_days_between(
        calendar.working_day_on_or_after(local_date(case.received_at)), local_date(now))


def record(case: Case, actor: User | None, action: str, *, from_status: str, note: str = "",
           from_department_id: int | None = None, to_department_id: int | None = None, **payload: Any) -> CaseEvent:
    """Append the event of a change, and its notices if it hands the case on (cases.notifications.HANDOFFS);
    `payload` keeps codes and old/new values, never display text.

    Saving it links it to the case's hash chain, under the case's row lock (`CaseEvent.save`).
    """
    event = CaseEvent.objects.create(
        # Read now, not bound as the field's default when the model loaded: the same clock as the change's.
        at=timezone.now(), case=case, actor=actor, action=action, from_status=from_status, to_status=case.status,
        note=note, from_department_id=from_department_id, to_department_id=to_department_id, payload=payload,
    )
    # A hand-off is news to whoever must act next, in the same transaction as the move.
    notify_handoff(event, case)
    return event


def already_responsible(assignee) -> str:
    # Naming the person already named changes nothing: no event, no notice, and the form says so.
    return _("%(user)s is already the person responsible; nothing was changed.") % {
        "user": assignee.get_full_name() or assignee.username}


def require_status(case: Case, allowed: Iterable[str], attempted: str) -> None:
    allowed = tuple(allowed)
    if case.status not in allowed:
        raise Refused(
            RefusalCode.INVALID_TRANSITION,
            _("A case that is “%(status)s” cannot be %(attempted)s; allowed from: %(allowed)s.") % {
                "status": Status(case.status).label, "attempted": attempted,
                "allowed": ", ".join(str(Status(s).label) for s in allowed),
            },
        )


def write_case_refusal(case: Case, *, actor: AnyUser | None, refusal: Refused, attempted: str) -> None:
    """A `refused` event on the case: who tried what, and why not (DESIGN.md §2: refusals are recorded)."""
    # The caller's copy may be stale (that can be why it was refused): record the state as stored. Read locked,
    # in the one query: the refusal is chained after the case's last event, and a move may be appending one.
    with transaction.atomic(savepoint=False):
        status = Case.unscoped.select_for_update().filter(pk=case.pk).values_list("status", flat=True).get()
        with case_lock_held(case.pk):
            CaseEvent.objects.create(
                at=timezone.now(), case_id=case.pk, actor=actor if actor and actor.is_authenticated else None,
                action=EventAction.REFUSED, from_status=status, to_status=status, note=refusal.detail,
                payload={"code": refusal.code, "attempted": attempted, **refusal.payload},
            )


def write_refusal_on_its_case(record_with_case: Any, *, actor: AnyUser | None, refusal: Refused,
                              attempted: str) -> None:
    """For a move on a consultation or a dispute: the refusal goes on the trail of its case."""
    write_case_refusal(record_with_case.case, actor=actor, refusal=refusal, attempted=attempted)


@dataclass(frozen=True)
class Move:
    """What a service declares about its move, read by the action registry and the role tests."""

    attempted: str  # the code its refusals record as what was tried
    who: policy.Rule
    statuses: tuple[str, ...] | None
    refuses: tuple[RefusalCode, ...]  # every code it may refuse with, the common ones included
    versioned: bool


def _declared(attempted: str, who: policy.Rule, statuses: Iterable[str] | None, refuses: Iterable[RefusalCode],
              versioned: bool) -> Move:
    codes = list(refuses)
    if who.refuses_outsiders:
        codes.append(RefusalCode.NOT_OWNER)
    if statuses is not None:
        codes.append(RefusalCode.INVALID_TRANSITION)
    if versioned:
        codes.append(RefusalCode.CASE_CHANGED)
    return Move(attempted, who, tuple(statuses) if statuses is not None else None, tuple(dict.fromkeys(codes)),
                versioned)


def case_service(attempted: str, *, who: policy.Rule, statuses: Iterable[str] | None = None, verb: str = "",
                 refuses: Iterable[RefusalCode] = (), before: Callable[[Case], object] | None = None,
                 lock: bool = True) -> Callable:
    """Declare a move on one case (DESIGN.md §2): who may make it, from which statuses, what it may refuse.

    The decorated function is called with the case locked (its current row), after the version the person saw
    (`expected_version`), the policy's rule and the statuses have been checked; a refusal anywhere, the
    function's own included, is recorded on the case once the change has rolled back. `before` runs first,
    in a transaction of its own, for work that must stand even if the move is refused. `verb` says what the
    case cannot be in a status outside `statuses` (“… cannot be accepted”). A move that changes nothing
    another person could override (adding a file) takes no lock and no version: `lock=False`.
    """
    move = _declared(attempted, who, statuses, refuses, versioned=lock)

    def decorate(body: Callable) -> Callable:
        @records_refusals(attempted, on="case", write=write_case_refusal)
        # The actor may be anyone the caller had: the policy refuses a visitor (and the refusal is recorded).
        def run(*, case: Case, actor: AnyUser, **inputs: Any) -> Any:
            if before is not None:
                before(case)
            if not lock:
                policy.require(actor, who, case)
                return body(case=case, actor=actor, **inputs)
            with locked_case(case, expected_version=inputs.pop("expected_version", None)) as current:
                policy.require(actor, who, current)
                if move.statuses is not None:
                    require_status(current, move.statuses, verb)
                return body(case=current, actor=actor, **inputs)

        service = functools.wraps(body)(run)
        service.move = move  # type: ignore[attr-defined]
        return service

    return decorate


def consultation_service(attempted: str, *, who: policy.Rule, refuses: Iterable[RefusalCode] = ()) -> Callable:
    """Declare a move on one consultation: the consultation row is locked (with its case read beside it) and
    the policy's rule checked; refusals are recorded on the trail of the case."""
    move = _declared(attempted, who, None, refuses, versioned=False)

    def decorate(body: Callable) -> Callable:
        @records_refusals(attempted, on="consultation", write=write_refusal_on_its_case)
        def run(*, consultation: Consultation, actor: AnyUser, **inputs: Any) -> Any:
            with transaction.atomic():
                current = Consultation.unscoped.select_for_update().select_related("case").get(pk=consultation.pk)
                policy.require(actor, who, current)
                return body(consultation=current, actor=actor, **inputs)

        service = functools.wraps(body)(run)
        service.move = move  # type: ignore[attr-defined]
        return service

    return decorate
