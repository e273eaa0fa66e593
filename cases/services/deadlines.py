"""Deadline moves: the one extension with its apology, and the key-task flag (DESIGN.md §2 rule 9, §3)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, EventAction, Status
from cases.refusals import Refused, records_refusals
from cases.selectors import staff_of
from cases.services.common import LEAD_ROLES, locked_case, owner_member, record, require_status, save_case
from departments.models import Role
from departments.workdays import get_calendar, local_date

# Work still being done by the owner; a case waiting for the applicant has its clock stopped instead.
EXTENDABLE = (Status.ROUTED, Status.IN_PROGRESS, Status.SUBMITTED)


@records_refusals("extend")
def case_extend(*, case: Case, actor, due_date: dt.date, reason: str, expected_version: int | None = None) -> Case:
    """The owner's head moves the deadline once, with a reason, at least one working day before it falls.

    Asking on the last day, or after it, is refused (`extension_too_late`): that is not planning, it is
    lateness. A second extension is refused (`already_extended`). For a citizen's dossier the case page then
    offers the apology letter with the new date (Decree 61/2018 art. 19: phiếu xin lỗi và hẹn lại).
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the work needs more time.")})
    with locked_case(case, expected_version=expected_version) as case:
        owner_member(case, actor, roles=LEAD_ROLES)
        require_status(case, EXTENDABLE, _("given more time"))
        if case.extended_at is not None:
            raise Refused("already_extended", _(
                "The deadline of this case was already moved once, on %(date)s, to %(due)s; it cannot be moved "
                "again.") % {"date": f"{local_date(case.extended_at):%d/%m/%Y}", "due": f"{case.due_date:%d/%m/%Y}"})
        calendar = get_calendar()
        today = local_date(timezone.now())
        if case.due_date is None or calendar.working_days_between(today, case.due_date) < 1:
            raise Refused("extension_too_late", _(
                "A deadline can be moved only until one working day before it falls; this one falls on "
                "%(due)s.") % {"due": f"{case.due_date:%d/%m/%Y}" if case.due_date else "—"},
                due_date=case.due_date.isoformat() if case.due_date else None)
        if due_date <= case.due_date:
            raise ValidationError({"due_date": _("The new date must come after the current due date, %(due)s.")
                                   % {"due": f"{case.due_date:%d/%m/%Y}"}})
        if not calendar.is_working_day(due_date):
            raise ValidationError({"due_date": _("%(date)s is not a working day.") % {"date": f"{due_date:%d/%m/%Y}"}})
        previous = case.due_date
        case.due_date_before_extension, case.due_date = previous, due_date
        case.extended_at, case.extended_by, case.extension_reason = timezone.now(), actor, reason
        save_case(case, "due_date_before_extension", "due_date", "extended_at", "extended_by", "extension_reason")
        record(case, actor, EventAction.EXTENDED, from_status=case.status, note=reason,
               previous_due_date=previous.isoformat(), due_date=due_date.isoformat())
    return case


def may_set_key_task(case: Case, actor) -> bool:
    """Heads and deputies of the owner, and the city office (directive: nhiệm vụ trọng tâm)."""
    staff = staff_of(actor)
    if staff is None:
        return False
    return staff.role == Role.CITY_OFFICE or (staff.department_id == case.owner_id and staff.role in LEAD_ROLES)


@records_refusals("set_key_task")
def case_set_key_task(*, case: Case, actor, key_task: bool, expected_version: int | None = None) -> Case:
    """Mark or unmark a key task, which every list then shows first."""
    with locked_case(case, expected_version=expected_version) as case:
        if not may_set_key_task(case, actor):
            raise PermissionDenied(_("Only the owner's head or deputy, or the city office, may mark key tasks."))
        if case.status == Status.RESOLVED:
            require_status(case, [s for s in Status.values if s != Status.RESOLVED], _("marked as a key task"))
        if case.key_task == key_task:
            return case
        case.key_task = key_task
        save_case(case, "key_task")
        record(case, actor, EventAction.KEY_TASK_SET if key_task else EventAction.KEY_TASK_CLEARED,
               from_status=case.status)
    return case
