"""The overdue sweep (DESIGN.md §2 rule 9, §3): flag late and due-soon work, set-based, once per item.

Every step is one SQL statement over the whole table, so the sweep costs the same number of statements for
ten cases or a million, and no row is loaded into Python to decide anything:

- the UPDATEs take only rows no one else holds (SKIP LOCKED) and re-check their condition on each, so when
  two workers sweep at once the second finds the rows flagged or held and changes nothing, and a sweep never
  waits on an official's action (the next run takes what it passed by);
- each run stamps the rows it flagged with its own `now`, and inserts the notices for exactly those rows;
  the notices' unique constraints turn any repeat into a no-op.

The flags never touch `Case.version`: a sweep must not make an official's open page stale.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import BigIntegerField, F, Q, QuerySet, Value, When
from django.db.models import Case as When_
from django.utils import timezone

from cases.bulk import insert_from_select, unlocked
from cases.models import (
    NOT_FLAGGED_OVERDUE,
    RUNNING_STATUSES,
    Case,
    Consultation,
    ConsultationStatus,
    DeadlineFlag,
    MailState,
    Notification,
)
from cases.services.consultations import deem_silent_consultations_agreed
from departments.models import Role, Staff
from departments.workdays import WorkingCalendar, get_calendar, local_date

CASE_RUNNING = Q(status__in=RUNNING_STATUSES)
CONSULTATION_OPEN = Q(status=ConsultationStatus.OPEN)
NOTICE_FIELDS = ["recipient", "kind", "case", "consultation", "on_date", "created_at", "mail_state"]


@dataclass(frozen=True)
class Window:
    """Today (local) and the last due date that counts as due soon: one working day ahead."""

    today: dt.date
    soon: dt.date

    @classmethod
    def at(cls, moment: dt.datetime) -> Window:
        today = local_date(moment)
        return cls(today=today, soon=get_calendar().add_working_days(today, 1))

    def overdue(self) -> Q:
        return Q(due_date__lt=self.today)

    def due_soon(self) -> Q:
        return Q(due_date__gte=self.today, due_date__lte=self.soon)


@dataclass
class SweepResult:
    cases_overdue: int = 0
    cases_due_soon: int = 0
    consultations_overdue: int = 0
    consultations_due_soon: int = 0
    cleared: int = 0
    deemed_agreed: int = 0
    notices: int = 0

    def __str__(self) -> str:
        return (f"flagged {self.cases_overdue} cases overdue, {self.consultations_overdue} consultations overdue, "
                f"{self.cases_due_soon + self.consultations_due_soon} due soon "
                f"({self.cases_due_soon} cases, {self.consultations_due_soon} consultations); "
                f"cleared {self.cleared}; {self.deemed_agreed} consultations deemed agreed; "
                f"{self.notices} notifications")


def _flag(items: QuerySet, condition: Q, flag: str, now: dt.datetime) -> int:
    """Flag the items meeting `condition` that are not flagged so for their current due date."""
    not_yet = NOT_FLAGGED_OVERDUE if flag == DeadlineFlag.OVERDUE else ~Q(deadline_flag=flag,
                                                                         deadline_flag_due=F("due_date"))
    pending = items.filter(condition).filter(not_yet)
    return unlocked(pending).update(deadline_flag=flag, deadline_flag_due=F("due_date"), deadline_flagged_at=now)


def _clear(model, open_q: Q, window: Window) -> int:
    """Unflag work that is finished, or whose deadline moved beyond the due-soon window."""
    stale = model.objects.exclude(deadline_flag=DeadlineFlag.NONE).exclude(open_q & Q(due_date__lte=window.soon))
    # Found from the flagged rows' covering index alone, then locked: usually none, and no row read to say so.
    stale = model.objects.filter(pk__in=stale.values("pk"))
    return unlocked(stale).update(deadline_flag=DeadlineFlag.NONE, deadline_flag_due=None, deadline_flagged_at=None)


def _mail_state(email_path: str):
    return When_(When(**{email_path: ""}, then=Value(MailState.NONE)), default=Value(MailState.PENDING))


def _heads() -> QuerySet:
    return Staff.objects.filter(role=Role.HEAD, user__is_active=True)


def _notify_flagged(now: dt.datetime) -> int:
    """One notice per flagged item to its assignee and to the head of the unit that owes the work."""
    flagged = [DeadlineFlag.OVERDUE, DeadlineFlag.DUE_SOON]
    cases = Case.objects.filter(deadline_flagged_at=now, deadline_flag__in=flagged)
    consultations = Consultation.objects.filter(deadline_flagged_at=now, deadline_flag__in=flagged)
    null = Value(None, output_field=BigIntegerField())
    selects = [
        cases.filter(assignee__is_active=True).values_list(
            "assignee_id", "deadline_flag", "id", null, "due_date", Value(now), _mail_state("assignee__email")),
        _heads().filter(department__owned_cases__deadline_flagged_at=now,
                        department__owned_cases__deadline_flag__in=flagged).values_list(
            "user_id", "department__owned_cases__deadline_flag", "department__owned_cases__id", null,
            "department__owned_cases__due_date", Value(now), _mail_state("user__email")),
        consultations.filter(assignee__is_active=True).values_list(
            "assignee_id", "deadline_flag", "case_id", "id", "due_date", Value(now), _mail_state("assignee__email")),
        _heads().filter(department__consultations__deadline_flagged_at=now,
                        department__consultations__deadline_flag__in=flagged).values_list(
            "user_id", "department__consultations__deadline_flag", "department__consultations__case_id",
            "department__consultations__id", "department__consultations__due_date", Value(now),
            _mail_state("user__email")),
    ]
    return sum(insert_from_select(Notification, NOTICE_FIELDS, rows) for rows in selects)


def _plan_for_few_rows() -> None:
    """PostgreSQL, for this transaction only: look rows up by key, and compile nothing.

    The planner cannot estimate the "not yet flagged for this due date" test (a comparison of two columns),
    guesses a fifth of the table, and then hashes all of a million cases to update ten thousand (measured:
    1.1 s against 0.7 s). What a sweep touches is a day's worth of work by nature, so key lookups are right;
    and JIT compiling costs more than it saves on statements this short.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off")


def flag_overdue(*, now: dt.datetime | None = None) -> SweepResult:
    """Flag overdue and due-soon cases and consultations, clear stale flags, notify; one transaction."""
    now = now or timezone.now()
    window = Window.at(now)
    result = SweepResult()
    with transaction.atomic():
        _plan_for_few_rows()
        result.deemed_agreed = deem_silent_consultations_agreed(today=window.today, now=now)
        cases = Case.objects.filter(CASE_RUNNING, due_date__isnull=False)
        consultations = Consultation.objects.filter(CONSULTATION_OPEN)
        result.cases_overdue = _flag(cases, window.overdue(), DeadlineFlag.OVERDUE, now)
        result.cases_due_soon = _flag(cases, window.due_soon(), DeadlineFlag.DUE_SOON, now)
        result.consultations_overdue = _flag(consultations, window.overdue(), DeadlineFlag.OVERDUE, now)
        result.consultations_due_soon = _flag(consultations, window.due_soon(), DeadlineFlag.DUE_SOON, now)
        result.cleared = _clear(Case, CASE_RUNNING, window) + _clear(Consultation, CONSULTATION_OPEN, window)
        if result.cases_overdue + result.cases_due_soon + result.consultations_overdue + result.consultations_due_soon:
            result.notices = _notify_flagged(now)
    return result



def desk_cases(department_id: int, window: Window) -> QuerySet[Case]:
    """A unit's open cases overdue or due soon: key tasks first, then the longest overdue (DESIGN.md §5)."""
    return (Case.objects.filter(CASE_RUNNING, owner_id=department_id, due_date__lte=window.soon)
            .order_by("-key_task", "due_date", "id"))


def desk_consultations(department_id: int, window: Window) -> QuerySet[Consultation]:
    """The opinions a unit owes that are overdue or due soon, in the same order."""
    return (Consultation.objects.filter(CONSULTATION_OPEN, department_id=department_id, due_date__lte=window.soon)
            .order_by("-case__key_task", "due_date", "id"))


def working_days_late(due_date: dt.date, today: dt.date, calendar: WorkingCalendar | None = None) -> int:
    """Working days past the due date (0 while it has not passed). Lists pass one `calendar` for all rows."""
    if due_date >= today:
        return 0
    return (calendar or get_calendar()).working_days_between(due_date, today)
