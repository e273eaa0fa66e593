"""The overdue sweep (DESIGN.md §2 rule 9, §3): flag late and due-soon work, set-based, once per item.

Every step is one SQL statement over the whole table, so the sweep costs the same number of statements for
ten cases or a million, and no row is loaded into Python to decide anything:

- flags are `DeadlineMark` rows beside the cases and consultations, one per item (a unique constraint), and
  notices are unique per person, item, kind and due date: a run repeated, or two runs at once, flag and
  notify each item once; two runs at once also take turns on an advisory lock (see `_one_sweep_at_a_time`);
- the UPDATEs and DELETEs take only marks no one else holds (SKIP LOCKED): a sweep never waits on an
  official's action that is dropping a mark;
- each run stamps the marks it wrote with its own `now`, and inserts the notices for exactly those.

A sweep never writes a case row: it neither locks the case an official is working on nor makes the page
they have open stale (`Case.version`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from cases.bulk import insert_from_select, unlocked
from cases.models import (
    RUNNING_STATUSES,
    Case,
    Consultation,
    ConsultationStatus,
    DeadlineFlag,
    DeadlineMark,
    Notification,
)
from cases.notifications import mail_state_for
from cases.services.consultations import deem_silent_consultations_agreed
from departments.models import Role
from departments.workdays import WorkingCalendar, get_calendar, local_date

CASE_RUNNING = Q(status__in=RUNNING_STATUSES)
CONSULTATION_OPEN = Q(status=ConsultationStatus.OPEN)
NOTICE_FIELDS = ["recipient", "kind", "case", "consultation", "violation", "on_date", "created_at", "mail_state"]


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
    violations_overdue: int = 0
    violations_due_soon: int = 0
    cleared: int = 0
    deemed_agreed: int = 0
    notices: int = 0

    def __str__(self) -> str:
        return (f"flagged {self.cases_overdue} cases overdue, {self.consultations_overdue} consultations overdue, "
                f"{self.cases_due_soon + self.consultations_due_soon} due soon "
                f"({self.cases_due_soon} cases, {self.consultations_due_soon} consultations); "
                f"{self.violations_overdue} violations' handling overdue, {self.violations_due_soon} due soon; "
                f"cleared {self.cleared}; {self.deemed_agreed} consultations deemed agreed; "
                f"{self.notices} notifications")


@dataclass(frozen=True)
class Item:
    """A kind of work the sweep flags: its model, the mark's field naming it, and when its clock runs."""

    model: type
    field: str
    running: Q


def items() -> tuple[Item, Item, Item]:
    """Cases and consultations, and the handling of violations (oversight), whose deadline is kept the same way."""
    from oversight.models import Violation, ViolationStatus

    return (Item(Case, "case", CASE_RUNNING & Q(due_date__isnull=False)),
            Item(Consultation, "consultation", CONSULTATION_OPEN),
            Item(Violation, "violation", Q(status=ViolationStatus.OPEN)))


def _clear(item: Item, window: Window) -> int:
    """Unmark work that is finished, or whose deadline moved beyond the window.

    What stays is the marks of running work due by the window's end. (A service that moves a due date
    deletes the mark itself, in `save_case`, so a mark is always for its item's current due date.) Written as
    NOT IN, which PostgreSQL answers with one hashed pass over the running-work index, never reading a case.
    """
    still_due = item.model.objects.filter(item.running, due_date__lte=window.soon).values("pk")
    stale = DeadlineMark.objects.filter(**{f"{item.field}__isnull": False}).exclude(**{f"{item.field}__in": still_due})
    # No signal and nothing refers to a mark, so Django deletes these in one statement, loading none.
    return unlocked(stale).delete()[0]


def _upgrade(item: Item, window: Window, now: dt.datetime) -> int:
    """Due soon yesterday, overdue today: after `_clear`, every such mark is of running work, so the marks
    table alone says which."""
    late = DeadlineMark.objects.filter(**{f"{item.field}__isnull": False}, flag=DeadlineFlag.DUE_SOON,
                                       due_date__lt=window.today)
    return unlocked(late).update(flag=DeadlineFlag.OVERDUE, flagged_at=now)


def _mark(item: Item, condition: Q, flag: str, now: dt.datetime) -> int:
    """Mark the running items meeting `condition` that have no mark: one INSERT … SELECT."""
    unmarked = item.model.objects.filter(item.running, condition).filter(
        ~Exists(DeadlineMark.objects.filter(**{item.field: OuterRef("pk")})))
    return insert_from_select(DeadlineMark, [item.field, "flag", "due_date", "flagged_at"],
                              unmarked.values_list("pk", Value(flag), "due_date", Value(now)))


def _notify_flagged(now: dt.datetime) -> int:
    """One notice per item marked by this run to its assignee and to the head of the unit that owes the work;
    for a violation, to the official responsible for its handling and the head of that official's unit."""
    marks = DeadlineMark.objects.filter(flagged_at=now)
    null = Value(None, output_field=BigIntegerField())
    selects = [
        marks.filter(case__isnull=False, case__assignee__is_active=True).values_list(
            "case__assignee_id", "flag", "case_id", null, null, "due_date", Value(now),
            mail_state_for("case__assignee__email")),
        marks.filter(case__owner__staff__role=Role.HEAD, case__owner__staff__user__is_active=True).values_list(
            "case__owner__staff__user_id", "flag", "case_id", null, null, "due_date", Value(now),
            mail_state_for("case__owner__staff__user__email")),
        marks.filter(consultation__isnull=False, consultation__assignee__is_active=True).values_list(
            "consultation__assignee_id", "flag", "consultation__case_id", "consultation_id", null, "due_date",
            Value(now), mail_state_for("consultation__assignee__email")),
        marks.filter(consultation__department__staff__role=Role.HEAD,
                     consultation__department__staff__user__is_active=True).values_list(
            "consultation__department__staff__user_id", "flag", "consultation__case_id", "consultation_id", null,
            "due_date", Value(now), mail_state_for("consultation__department__staff__user__email")),
        marks.filter(violation__isnull=False, violation__handler__is_active=True).values_list(
            "violation__handler_id", "flag", null, null, "violation_id", "due_date", Value(now),
            mail_state_for("violation__handler__email")),
        # A handler who heads the unit is told once: the second insert meets the unique notice and skips it.
        marks.filter(violation__handler__staff__department__staff__role=Role.HEAD,
                     violation__handler__staff__department__staff__user__is_active=True).values_list(
            "violation__handler__staff__department__staff__user_id", "flag", null, null, "violation_id",
            "due_date", Value(now), mail_state_for("violation__handler__staff__department__staff__user__email")),
    ]
    return sum(insert_from_select(Notification, NOTICE_FIELDS, rows) for rows in selects)


# Any number will do, as long as nothing else in the database takes the same advisory lock.
SWEEP_LOCK = 966_2026


def _one_sweep_at_a_time() -> None:
    """PostgreSQL, for this transaction: a second sweep waits for the first to commit, then finds nothing new.

    Two sweeps inserting the same marks at once deadlocked now and then in tests (each waiting on a mark the
    other had just inserted); the unique constraints would still keep each item flagged and notified once.
    Also: JIT compiling costs more than it saves on statements this short.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s); SET LOCAL jit = off", [SWEEP_LOCK])


def flag_overdue(*, now: dt.datetime | None = None) -> SweepResult:
    """Flag overdue and due-soon cases and consultations, clear stale flags, notify; one transaction."""
    now = now or timezone.now()
    window = Window.at(now)
    result = SweepResult()
    with transaction.atomic():
        _one_sweep_at_a_time()
        result.deemed_agreed = deem_silent_consultations_agreed(today=window.today, now=now)
        case, consultation, violation = items()
        # Clearing first leaves only marks that are right for their item, so the rest reads the marks alone.
        result.cleared = _clear(case, window) + _clear(consultation, window) + _clear(violation, window)
        result.cases_overdue = (_upgrade(case, window, now)
                                + _mark(case, window.overdue(), DeadlineFlag.OVERDUE, now))
        result.cases_due_soon = _mark(case, window.due_soon(), DeadlineFlag.DUE_SOON, now)
        result.consultations_overdue = (_upgrade(consultation, window, now)
                                        + _mark(consultation, window.overdue(), DeadlineFlag.OVERDUE, now))
        result.consultations_due_soon = _mark(consultation, window.due_soon(), DeadlineFlag.DUE_SOON, now)
        result.violations_overdue = (_upgrade(violation, window, now)
                                     + _mark(violation, window.overdue(), DeadlineFlag.OVERDUE, now))
        result.violations_due_soon = _mark(violation, window.due_soon(), DeadlineFlag.DUE_SOON, now)
        if (result.cases_overdue + result.cases_due_soon + result.consultations_overdue + result.consultations_due_soon
                + result.violations_overdue + result.violations_due_soon):
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
