"""The overdue sweep (DESIGN.md §2 rule 9, §3): flag late and due-soon work, set-based, once per item.

What the sweep flags comes from a registry each app fills (`register_deadline_item`): cases and consultations
here, the handling of violations from oversight, each with its own table of marks and of notices. Every step
is one SQL statement over a whole table, so the sweep costs the same number of statements for ten cases or a
million, and no row is loaded into Python to decide anything:

- flags are mark rows beside the items, one per item (a unique constraint), and notices are unique per
  person, item, kind and due date: a run repeated, or two runs at once, flag and notify each item once; two
  runs at once also take turns on an advisory lock (see `_one_sweep_at_a_time`);
- the UPDATEs and DELETEs take only marks no one else holds (SKIP LOCKED): a sweep never waits on an
  official's action that is dropping a mark;
- each run stamps the marks it wrote with its own `now`, and inserts the notices for exactly those.

A sweep never writes a case row: it neither locks the case an official is working on nor makes the page
they have open stale (`Case.version`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import BigIntegerField, Exists, Model, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from cases.measures import CASE_RUNNING, CONSULTATION_OPEN, Window
from cases.models import Case, Consultation, DeadlineFlag, DeadlineMark, Notification
from cases.services.consultations import deem_silent_consultations_agreed
from core.bulk import insert_from_select, unlocked
from core.notices import mail_state_for
from departments.models import Role


@dataclass(frozen=True)
class DeadlineItem:
    """A kind of work the sweep flags: its model and when its clock runs, its marks table and the mark's field
    naming it, and the notices to write for the marks a run stamped (a list of INSERT … SELECT: the notice
    table, its columns, and the rows)."""

    name: str  # how the sweep's result names it: "cases", "consultations", "violations"
    model: type[Model]
    running: Q
    marks: type[Model]
    field: str
    notices: Callable[[QuerySet, dt.datetime], Iterable[tuple[type[Model], list[str], QuerySet]]]
    # How one line of the sweep's summary reads, for kinds beyond cases and consultations.
    summary: Callable[[int, int], str] | None = None

    def items(self) -> QuerySet:
        return self.model._default_manager.all()

    def mark_rows(self) -> QuerySet:
        return self.marks._default_manager.filter(**{f"{self.field}__isnull": False})


_items: list[DeadlineItem] = []


def register_deadline_item(item: DeadlineItem) -> None:
    """Called by an app's `ready()` for each kind of deadline-bearing work it keeps."""
    if all(existing.name != item.name for existing in _items):
        _items.append(item)


def deadline_items() -> tuple[DeadlineItem, ...]:
    return tuple(_items)


@dataclass
class SweepResult:
    overdue: dict[str, int] = field(default_factory=dict)  # newly flagged overdue, per kind of work
    due_soon: dict[str, int] = field(default_factory=dict)
    cleared: int = 0
    deemed_agreed: int = 0
    notices: int = 0

    @property
    def cases_overdue(self) -> int:
        return self.overdue.get("cases", 0)

    @property
    def cases_due_soon(self) -> int:
        return self.due_soon.get("cases", 0)

    @property
    def consultations_overdue(self) -> int:
        return self.overdue.get("consultations", 0)

    @property
    def consultations_due_soon(self) -> int:
        return self.due_soon.get("consultations", 0)

    @property
    def flagged(self) -> int:
        return sum(self.overdue.values()) + sum(self.due_soon.values())

    def __str__(self) -> str:
        others = "".join(f"; {item.summary(self.overdue.get(item.name, 0), self.due_soon.get(item.name, 0))}"
                         for item in deadline_items() if item.summary is not None)
        return (f"flagged {self.cases_overdue} cases overdue, {self.consultations_overdue} consultations overdue, "
                f"{self.cases_due_soon + self.consultations_due_soon} due soon "
                f"({self.cases_due_soon} cases, {self.consultations_due_soon} consultations){others}; "
                f"cleared {self.cleared}; {self.deemed_agreed} consultations deemed agreed; "
                f"{self.notices} notifications")


def _clear(item: DeadlineItem, window: Window) -> int:
    """Unmark work that is finished, or whose deadline moved beyond the window.

    What stays is the marks of running work due by the window's end. (A service that moves a due date
    deletes the mark itself, so a mark is always for its item's current due date.) Written as NOT IN, which
    PostgreSQL answers with one hashed pass over the running-work index, never reading a case.
    """
    still_due = item.items().filter(item.running, due_date__lte=window.soon).values("pk")
    stale = item.mark_rows().exclude(**{f"{item.field}__in": still_due})
    # No signal and nothing refers to a mark, so Django deletes these in one statement, loading none.
    return unlocked(stale).delete()[0]


def _upgrade(item: DeadlineItem, window: Window, now: dt.datetime) -> int:
    """Due soon yesterday, overdue today: after `_clear`, every such mark is of running work, so the marks
    table alone says which."""
    late = item.mark_rows().filter(flag=DeadlineFlag.DUE_SOON, due_date__lt=window.today)
    return unlocked(late).update(flag=DeadlineFlag.OVERDUE, flagged_at=now)


def _mark(item: DeadlineItem, condition: Q, flag: str, now: dt.datetime) -> int:
    """Mark the running items meeting `condition` that have no mark: one INSERT … SELECT."""
    unmarked = item.items().filter(item.running, condition).filter(
        ~Exists(item.marks._default_manager.filter(**{item.field: OuterRef("pk")})))
    return insert_from_select(item.marks, [item.field, "flag", "due_date", "flagged_at"],
                              unmarked.values_list("pk", Value(flag), "due_date", Value(now)))


# --- Cases and consultations ----------------------------------------------------------------------------------

NOTICE_FIELDS = ["recipient", "kind", "case", "consultation", "on_date", "created_at", "mail_state"]


def case_notices(marks: QuerySet, now: dt.datetime):
    """One notice per case marked by this run to its assignee and to the head of the unit that owes it."""
    null = Value(None, output_field=BigIntegerField())
    yield Notification, NOTICE_FIELDS, marks.filter(case__assignee__is_active=True).values_list(
        "case__assignee_id", "flag", "case_id", null, "due_date", Value(now), mail_state_for("case__assignee__email"))
    yield Notification, NOTICE_FIELDS, marks.filter(
        case__owner__staff__role=Role.HEAD, case__owner__staff__user__is_active=True).values_list(
        "case__owner__staff__user_id", "flag", "case_id", null, "due_date", Value(now),
        mail_state_for("case__owner__staff__user__email"))


def consultation_notices(marks: QuerySet, now: dt.datetime):
    """One notice per consultation marked by this run to its assignee and to the head of the consulted unit."""
    yield Notification, NOTICE_FIELDS, marks.filter(consultation__assignee__is_active=True).values_list(
        "consultation__assignee_id", "flag", "consultation__case_id", "consultation_id", "due_date", Value(now),
        mail_state_for("consultation__assignee__email"))
    yield Notification, NOTICE_FIELDS, marks.filter(
        consultation__department__staff__role=Role.HEAD,
        consultation__department__staff__user__is_active=True).values_list(
        "consultation__department__staff__user_id", "flag", "consultation__case_id", "consultation_id", "due_date",
        Value(now), mail_state_for("consultation__department__staff__user__email"))


register_deadline_item(DeadlineItem("cases", Case, CASE_RUNNING & Q(due_date__isnull=False), DeadlineMark, "case",
                                    case_notices))
register_deadline_item(DeadlineItem("consultations", Consultation, CONSULTATION_OPEN, DeadlineMark, "consultation",
                                    consultation_notices))


def _notify_flagged(now: dt.datetime) -> int:
    """The notices of every mark this run stamped."""
    inserted = 0
    for item in deadline_items():
        marks = item.mark_rows().filter(flagged_at=now)
        for notice_model, fields, rows in item.notices(marks, now):
            inserted += insert_from_select(notice_model, fields, rows)
    return inserted


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
    """Flag overdue and due-soon work of every registered kind, clear stale flags, notify; one transaction."""
    now = now or timezone.now()
    window = Window.at(now)
    result = SweepResult()
    items = deadline_items()
    with transaction.atomic():
        _one_sweep_at_a_time()
        result.deemed_agreed = deem_silent_consultations_agreed(today=window.today, now=now)
        # Clearing first leaves only marks that are right for their item, so the rest reads the marks alone.
        result.cleared = sum(_clear(item, window) for item in items)
        for item in items:
            result.overdue[item.name] = (_upgrade(item, window, now)
                                         + _mark(item, window.overdue(), DeadlineFlag.OVERDUE, now))
            result.due_soon[item.name] = _mark(item, window.due_soon(), DeadlineFlag.DUE_SOON, now)
        if result.flagged:
            result.notices = _notify_flagged(now)
    return result
