"""The one request to the applicant to complete the dossier (DESIGN.md §3; Decree 61/2018 art. 15, 19)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case, EventAction, Status
from cases.services.common import case_service, due_date_of, processing_days_of, record, save_case
from core.refusals import RefusalCode, Refused
from departments.workdays import get_calendar, local_date

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@case_service("request_supplement", who=policy.OWNER_HANDLERS, statuses=[Status.IN_PROGRESS],
              verb=_("sent to the applicant for a supplement"),
              refuses=[RefusalCode.SUPPLEMENT_ALREADY_REQUESTED, RefusalCode.SUPPLEMENT_TOO_LATE])
def case_request_supplement(*, case: Case, actor: User, items: str) -> Case:
    """Ask the applicant, once and within SUPPLEMENT_WITHIN_WORKING_DAYS of receipt, for everything missing.

    The case waits in `awaiting_supplement` with its clock stopped.
    """
    if case.supplement_requested_at is not None:
        asked_on = local_date(case.supplement_requested_at)
        raise Refused(RefusalCode.SUPPLEMENT_ALREADY_REQUESTED, _(
            "The applicant was already asked to complete this dossier on %(date)s; the law allows one "
            "request listing everything missing.") % {"date": f"{asked_on:%d/%m/%Y}"})
    now = timezone.now()
    calendar = get_calendar()
    # A dossier received on a day off is deemed received the next working day, which is not counted.
    received = calendar.working_day_on_or_after(local_date(case.received_at))
    elapsed = calendar.working_days_between(received, local_date(now))
    if elapsed > settings.SUPPLEMENT_WITHIN_WORKING_DAYS:
        raise Refused(RefusalCode.SUPPLEMENT_TOO_LATE, _(
            "A supplement must be asked within %(days)s working days of receipt; %(elapsed)s have passed.")
            % {"days": settings.SUPPLEMENT_WITHIN_WORKING_DAYS, "elapsed": elapsed})
    case.status, case.supplement_requested_at, case.supplement_items = Status.AWAITING_SUPPLEMENT, now, items
    save_case(case, "status", "supplement_requested_at", "supplement_items")
    record(case, actor, EventAction.SUPPLEMENT_REQUESTED, from_status=Status.IN_PROGRESS, note=items)
    return case


@case_service("complete_supplement", who=policy.OWNER_HANDLERS, statuses=[Status.AWAITING_SUPPLEMENT],
              verb=_("marked complete"))
def case_complete_supplement(*, case: Case, actor: User, note: str = "") -> Case:
    """The dossier is complete: the clock restarts (SUPPLEMENT_CLOCK `reset`: all the days again from today;
    `pause`: the old due date moved by the working days the case waited)."""
    now = timezone.now()
    calendar = get_calendar()
    today = local_date(now)
    old_due = case.due_date
    if settings.SUPPLEMENT_CLOCK == "reset":
        case.due_date = calendar.due_date(today, processing_days_of(case))
    else:
        # A case awaiting a supplement was asked for it (`case_request_supplement` stamps the moment).
        asked_at = cast(dt.datetime, case.supplement_requested_at)
        waited = calendar.working_days_between(local_date(asked_at), today)
        case.due_date = calendar.add_working_days(due_date_of(case), waited)
    case.status, case.supplement_completed_at = Status.IN_PROGRESS, now
    save_case(case, "status", "supplement_completed_at", "due_date")
    record(case, actor, EventAction.SUPPLEMENT_COMPLETED, from_status=Status.AWAITING_SUPPLEMENT, note=note,
           old_due_date=old_due.isoformat() if old_due else None, due_date=case.due_date.isoformat(),
           clock=settings.SUPPLEMENT_CLOCK)
    return case
