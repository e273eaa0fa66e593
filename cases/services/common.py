"""What every case service shares: the row lock, the version check, role checks and the event writer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, CaseEvent, DeadlineMark, Status
from cases.refusals import Refused
from cases.selectors import staff_of
from departments.models import Role, Staff

# Who handles a case inside its owner department; the intake desk logs and routes but does not handle.
HANDLER_ROLES = frozenset({Role.SPECIALIST, Role.DEPUTY, Role.HEAD})
# Who signs for the department (the head principle: a specialist proposes, the head or deputy decides).
LEAD_ROLES = frozenset({Role.DEPUTY, Role.HEAD})


@contextmanager
def locked_case(case: Case, *, expected_version: int | None = None) -> Iterator[Case]:
    """The case row, locked until the end of the transaction, so two people acting at once queue up.

    `expected_version` is the version the person saw: if someone changed the case since, acting on the
    old picture would silently undo or override their move, so it is refused instead.
    """
    with transaction.atomic():
        current = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and current.version != expected_version:
            raise Refused("case_changed", _("Someone changed this case since you opened it; reload it and try "
                                            "again."), expected_version=expected_version, version=current.version)
        yield current


def save_case(case: Case, *fields: str) -> None:
    case.version += 1
    case.save(update_fields=[*fields, "version"])
    if "due_date" in fields:
        # The sweep's mark was for the old date; the next sweep marks the new one afresh, and a new owner's
        # head (a handover sets the date too) hears of late work from it.
        DeadlineMark.objects.filter(case=case).delete()


def mark_resolved(case: Case, now) -> None:
    """Set the resolution moment and the working days it took from receipt, as the deadline counts them
    (a receipt on a day off counts from the next working day; the receipt day itself is not counted)."""
    from departments.workdays import get_calendar, local_date

    calendar = get_calendar()
    case.resolved_at = now
    case.working_days_taken = calendar.working_days_between(
        calendar.working_day_on_or_after(local_date(case.received_at)), local_date(now))


def record(case: Case, actor, action: str, *, from_status: str, note: str = "", from_department_id=None,
           to_department_id=None, **payload) -> CaseEvent:
    """Append the event of a change; `payload` keeps codes and old/new values, never display text."""
    return CaseEvent.objects.create(
        # Read now, not bound as the field's default when the model loaded: the same clock as the change's.
        at=timezone.now(), case=case, actor=actor, action=action, from_status=from_status, to_status=case.status,
        note=note, from_department_id=from_department_id, to_department_id=to_department_id, payload=payload,
    )


def require_status(case: Case, allowed: Iterable[str], attempted: str) -> None:
    allowed = tuple(allowed)
    if case.status not in allowed:
        raise Refused(
            "invalid_transition",
            _("A case that is “%(status)s” cannot be %(attempted)s; allowed from: %(allowed)s.") % {
                "status": Status(case.status).label, "attempted": attempted,
                "allowed": ", ".join(str(Status(s).label) for s in allowed),
            },
        )


def owner_member(case: Case, actor, *, roles: frozenset[str] = HANDLER_ROLES) -> Staff:
    """The actor's membership in the owner department, or the refusal of DESIGN.md §2 rule 4.

    Someone of another unit is refused with `not_owner` (the directive: don't settle others' work); someone
    of the owner unit without the needed role is told who may act (the head principle).
    """
    staff = staff_of(actor)
    if staff is None or case.owner_id is None or staff.department_id != case.owner_id:
        raise Refused("not_owner", _("Only the owner department may act on this case."))
    if staff.role not in roles:
        if roles == LEAD_ROLES:
            raise PermissionDenied(_("Only the head or a deputy head of the department may do this."))
        raise PermissionDenied(_("Your role does not handle cases."))
    return staff
