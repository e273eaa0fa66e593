"""Deadline moves: the one extension with its apology, and the key-task flag (DESIGN.md §2 rule 9, §3)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case, EventAction, Status
from cases.services.common import case_service, processing_days_of, record, save_case
from core.refusals import RefusalCode, Refused
from departments.workdays import get_calendar, local_date

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Work still being done by the owner; a case waiting for the applicant has its clock stopped instead.
EXTENDABLE = (Status.ROUTED, Status.IN_PROGRESS, Status.SUBMITTED)


@case_service("extend", who=policy.OWNER_LEADS, statuses=EXTENDABLE, verb=_("given more time"),
              refuses=[RefusalCode.ALREADY_EXTENDED, RefusalCode.EXTENSION_TOO_LATE, RefusalCode.EXTENSION_TOO_LONG])
def case_extend(*, case: Case, actor: User, due_date: dt.date, reason: str) -> Case:
    """The owner's head moves the deadline once, with a reason, at least one working day before it falls.

    Asking on the last day, or after it, is refused (`extension_too_late`): that is not planning, it is
    lateness. A second extension is refused (`already_extended`), and so is one that moves the date by more
    working days than the case was given in the first place (`extension_too_long`): a date years away would keep
    late work off every overdue list and out of the on-time figures. For a citizen's dossier the case page then
    offers the apology letter with the new date (Decree 61/2018 art. 19: phiếu xin lỗi và hẹn lại).
    """
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the work needs more time.")})
    if case.extended_at is not None:
        raise Refused(RefusalCode.ALREADY_EXTENDED, _(
            "The deadline of this case was already moved once, on %(date)s, to %(due)s; it cannot be moved "
            "again.") % {"date": f"{local_date(case.extended_at):%d/%m/%Y}", "due": f"{case.due_date:%d/%m/%Y}"})
    calendar = get_calendar()
    today = local_date(timezone.now())
    if case.due_date is None or calendar.working_days_between(today, case.due_date) < 1:
        raise Refused(RefusalCode.EXTENSION_TOO_LATE, _(
            "A deadline can be moved only until one working day before it falls; this one falls on "
            "%(due)s.") % {"due": f"{case.due_date:%d/%m/%Y}" if case.due_date else "—"},
            due_date=case.due_date.isoformat() if case.due_date else None)
    if due_date <= case.due_date:
        raise ValidationError({"due_date": _("The new date must come after the current due date, %(due)s.")
                               % {"due": f"{case.due_date:%d/%m/%Y}"}})
    if not calendar.is_working_day(due_date):
        raise ValidationError({"due_date": _("%(date)s is not a working day.") % {"date": f"{due_date:%d/%m/%Y}"}})
    days = processing_days_of(case)
    latest = calendar.add_working_days(case.due_date, days)
    if due_date > latest:
        raise Refused(RefusalCode.EXTENSION_TOO_LONG, _(
            "An extension moves the due date by at most the case's own processing time, %(days)s working days: "
            "no later than %(latest)s.") % {"days": days, "latest": f"{latest:%d/%m/%Y}"},
            due_date=due_date.isoformat(), latest=latest.isoformat())
    previous = case.due_date
    case.due_date_before_extension, case.due_date = previous, due_date
    case.extended_at, case.extended_by, case.extension_reason = timezone.now(), actor, reason
    save_case(case, "due_date_before_extension", "due_date", "extended_at", "extended_by", "extension_reason")
    record(case, actor, EventAction.EXTENDED, from_status=case.status, note=reason,
           previous_due_date=previous.isoformat(), due_date=due_date.isoformat())
    return case


# Marking a key task is open until the case is settled.
KEY_TASK_STATUSES = tuple(status for status in Status.values if status != Status.RESOLVED)


@case_service("set_key_task", who=policy.KEY_TASK_SETTERS, statuses=KEY_TASK_STATUSES,
              verb=_("marked as a key task"))
def case_set_key_task(*, case: Case, actor: User, key_task: bool) -> Case:
    """Mark or unmark a key task, which every list then shows first."""
    if case.key_task == key_task:
        return case
    case.key_task = key_task
    save_case(case, "key_task")
    record(case, actor, EventAction.KEY_TASK_SET if key_task else EventAction.KEY_TASK_CLEARED,
           from_status=case.status)
    return case
