"""What the whole database must hold, however it got there: checked read-only by `manage.py check_invariants`.

The services keep these true one move at a time, and the database's constraints keep most of them true under
concurrency. This module checks them afterwards, on everything at once: after a crash, a restore, a migration,
or a night of workers killed mid-task (bench/crash_harness.py). Each check returns a `CheckResult`: how many
rows it read, how many break the invariant, and up to `MAX_EXAMPLES` of them by id.

What each check means by its words:

- **duplicate events**: an event of a case whose content (time, actor, action, statuses, units, note,
  payload) repeats an earlier event of the same case, or that follows the same event as another one (the
  same `previous_digest`: two writers appended to one trail without the case's row lock; the hash chain is
  the trail's sequence, and each event has one successor);
- **duplicate notices**: two rows of a notice table that one of the table's own unique constraints says
  must be one (one notice per person, item, kind and due date; one per person and assignment event; one
  digest per person and day): the idempotency keys the sweep and the mailer rely on, checked in case an
  index was dropped or a writer went around them;
- **duplicate deadline marks**: two marks of the overdue sweep for one case, consultation or violation;
- **duplicate mails**: the database keeps one mail state per notice, so a notice mailed twice (mailed, then
  the worker killed before its transaction committed "sent", then mailed again) is seen only in the mail that
  went out: with the file-based mail backend's folder, more mails to one person with one subject than sent
  notices that make that mail;
- **one assignee**: a case accepted (in progress, awaiting the supplement, submitted, resolved) has its named
  assignee, one not yet accepted (triage, routed) has none, and the assignee is the person the trail named
  last (accepted, assigned; a return or a transfer clears it): the case row and its trail agree on the one
  responsible person;
- **state machine**: a case's events, replayed in id order from intake, go only through the moves the services
  allow (`transitions`), each from the status the replay has reached, and end at the case's status;
- **audit chain**: the hash chain of every case's trail, by `cases.audit_chain.verify_chains`;
- **acknowledged cases**: every reference a client was answered 201 for exists.

The trail checks read the events once, as one stream in (case, id) order beside the cases in id order, so
they cost the same few queries for a thousand events or millions, and hold one case's events in memory at a
time. Everything is read in one transaction, on PostgreSQL a read-only REPEATABLE READ one, so a check run on
a live site sees one moment and cannot write.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Model, UniqueConstraint
from django.utils import translation

from cases import services
from cases.audit_chain import describe_break, verify_chains
from cases.deadlines import deadline_items
from cases.models import Case, CaseEvent, EventAction, Status
from core.notices import MailState, notice_models

MAX_EXAMPLES = 10
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Example:
    """One row that breaks an invariant: its id (or reference) and what is wrong with it."""

    id: int | str
    detail: str


@dataclass(frozen=True)
class CheckResult:
    name: str
    title: str  # what holds when the check passes
    unit: str  # what `checked` counts
    checked: int = 0
    count: int = 0  # the rows (or cases) that break it
    examples: tuple[Example, ...] = ()
    skipped: str = ""  # why the check did not run (an input it needs was not given)

    @property
    def ok(self) -> bool:
        return self.count == 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "ok": self.ok, "skipped": self.skipped or None,
                "checked": self.checked, "unit": self.unit, "count": self.count,
                "examples": [{"id": example.id, "detail": example.detail} for example in self.examples]}


@dataclass(frozen=True)
class Report:
    results: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failed(self) -> list[str]:
        return [result.name for result in self.results if not result.ok]

    def result(self, name: str) -> CheckResult:
        return next(result for result in self.results if result.name == name)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "failed": self.failed, "checks": [result.as_dict() for result in self.results]}


@dataclass
class _Findings:
    """Counts every violation, keeps the first few."""

    count: int = 0
    examples: list[Example] = field(default_factory=list)

    def add(self, key: int | str, detail: str, *, times: int = 1) -> None:
        """`times` violations of one kind at one place (three copies of a notice are two surplus rows)."""
        self.count += times
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(Example(key, detail))

    def result(self, name: str, title: str, unit: str, checked: int) -> CheckResult:
        return CheckResult(name, title, unit, checked, self.count, tuple(self.examples))


# --- the moves the services allow ------------------------------------------------------------------------------

Transitions = dict[str, dict[str, frozenset[str]]]


def transitions() -> Transitions:
    """For each event action, the statuses it may be written in and the statuses it may leave the case in.

    Read from the services' own declarations where they make one (`case_service(statuses=...)`): a move allowed
    from one more status there is allowed here too. What each move changes the status to is in the bodies of
    the services, and written out here. The intake's own events are written by `case_create` outside the
    declared moves; `""` is the status before a case's first event.
    """
    every = tuple(Status.values)

    def declared(service: Callable) -> tuple[str, ...]:
        return tuple(service.move.statuses or every)

    def to(service: Callable, status: str) -> dict[str, frozenset[str]]:
        return {start: frozenset({status}) for start in declared(service)}

    def stays(statuses: Iterable[str]) -> dict[str, frozenset[str]]:
        return {status: frozenset({status}) for status in statuses}

    return {
        EventAction.CREATED: {"": frozenset({Status.TRIAGE})},
        EventAction.ROUTED: {Status.TRIAGE: frozenset({Status.ROUTED})},
        EventAction.TRIAGED: stays([Status.TRIAGE]),
        # `case_route` declares no statuses: it refuses anything out of triage in its body.
        EventAction.ROUTED_MANUALLY: {Status.TRIAGE: frozenset({Status.ROUTED})},
        EventAction.ACCEPTED: to(services.case_accept, Status.IN_PROGRESS),
        # Naming an assignee accepts a routed case; otherwise the case stays where it is.
        EventAction.ASSIGNED: {start: frozenset({Status.IN_PROGRESS if start == Status.ROUTED else start})
                               for start in declared(services.case_assign)},
        EventAction.RETURNED: to(services.case_return, Status.TRIAGE),
        EventAction.TRANSFERRED: to(services.case_transfer, Status.ROUTED),
        EventAction.PROPOSED: stays(declared(services.case_propose)),
        EventAction.SUBMITTED: to(services.case_submit, Status.SUBMITTED),
        # Approved or rejected settles it; rework sends it back to the owner.
        EventAction.DECIDED: {start: frozenset({Status.RESOLVED, Status.IN_PROGRESS})
                              for start in declared(services.case_decide)},
        EventAction.RESOLVED: to(services.case_resolve, Status.RESOLVED),
        EventAction.SUPPLEMENT_REQUESTED: to(services.case_request_supplement, Status.AWAITING_SUPPLEMENT),
        EventAction.SUPPLEMENT_COMPLETED: to(services.case_complete_supplement, Status.IN_PROGRESS),
        EventAction.DISPUTE_FILED: stays(declared(services.case_dispute)),
        EventAction.DISPUTE_SETTLED: stays(every),
        EventAction.ATTACHMENT_ADDED: stays(declared(services.attachment_add)),
        EventAction.CONSULTED: stays(declared(services.case_consult)),
        # Written by the move that settles the case, after it.
        EventAction.CONSULTATION_WITHDRAWN: stays([Status.RESOLVED]),
        # Moves on a consultation, and the sweep's silence, leave the case as it is, whatever it is.
        EventAction.CONSULTATION_ASSIGNED: stays(every),
        EventAction.CONSULTATION_ANSWERED: stays(every),
        EventAction.DEEMED_AGREED: stays(every),
        EventAction.RECONCILED: stays(declared(services.case_reconcile)),
        EventAction.EXTENDED: stays(declared(services.case_extend)),
        EventAction.KEY_TASK_SET: stays(declared(services.case_set_key_task)),
        EventAction.KEY_TASK_CLEARED: stays(declared(services.case_set_key_task)),
        EventAction.CORRECTED: stays(declared(services.case_correct)),
        # A refusal is recorded in the status the case is in, and changes nothing.
        EventAction.REFUSED: stays(every),
    }


# The statuses of a case that an official has taken on: it has its one named assignee (directive: rõ người).
ACCEPTED_STATUSES = frozenset({Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT, Status.SUBMITTED, Status.RESOLVED})
# The events that name the assignee (in their payload, by username), and those that leave the case without one.
NAMES_ASSIGNEE = frozenset({EventAction.ACCEPTED, EventAction.ASSIGNED})
CLEARS_ASSIGNEE = frozenset({EventAction.RETURNED, EventAction.TRANSFERRED})


# --- the trails: duplicate events, the state machine and the assignee, in one pass -----------------------------

EVENT_COLUMNS = ("id", "case_id", "at", "actor_id", "action", "from_status", "to_status", "from_department_id",
                 "to_department_id", "note", "payload", "previous_digest")


@dataclass
class _Trail:
    """What the replay of one case's events has reached."""

    case_id: int
    reference: str
    status: str
    assignee: str | None
    events: int = 0
    replayed: str | None = None  # the status the events have brought the case to; None before the first
    named: str | None = None  # the assignee the events named last
    broken: bool = False  # a case's path is reported once, at its first wrong step
    contents: dict[tuple, int] = field(default_factory=dict)
    successors: dict[str, int] = field(default_factory=dict)


def check_trails(*, chunk_size: int = CHUNK_SIZE) -> tuple[CheckResult, CheckResult, CheckResult]:
    """Duplicate events, the state machine and the one assignee, from one stream of every event.

    Two queries whatever the size: the cases in id order and the events in (case, id) order, merged as they
    stream (`iterator`, in chunks), so memory holds one case's events at a time.
    """
    table = transitions()
    duplicates, paths, assignees = _Findings(), _Findings(), _Findings()
    counted = Counter[str]()
    cases = Case.unscoped.order_by("id").values_list("id", "reference", "status", "assignee__username")
    events = CaseEvent.objects.order_by("case_id", "id").values_list(*EVENT_COLUMNS)
    case_rows = cases.iterator(chunk_size=chunk_size)
    waiting = next(case_rows, None)  # the next case the events have not reached
    trail: _Trail | None = None
    current = None  # the case id of the events being read

    def finish(done: _Trail) -> None:
        counted["cases"] += 1
        _check_end(done, paths)
        _check_assignee(done, assignees)

    def reach(case_id: int) -> _Trail | None:
        """The trail of `case_id`, after finishing the cases before it, which have no event."""
        nonlocal waiting
        while waiting is not None and waiting[0] < case_id:
            finish(_Trail(*waiting))
            waiting = next(case_rows, None)
        if waiting is None or waiting[0] != case_id:
            return None  # not reached: a case with events is protected from deletion
        reached, waiting = _Trail(*waiting), next(case_rows, None)
        return reached

    for event in events.iterator(chunk_size=chunk_size):
        counted["events"] += 1
        if event[1] != current:
            if trail is not None:
                finish(trail)
            current, trail = event[1], reach(event[1])
        if trail is not None:
            _check_duplicate(trail, event, duplicates)
            _replay(trail, event, table, paths)
    if trail is not None:
        finish(trail)
    while waiting is not None:  # the cases after the last one with events
        finish(_Trail(*waiting))
        waiting = next(case_rows, None)

    return (
        duplicates.result("duplicate_events", "no case event repeats another or follows the same event as another",
                          "events", counted["events"]),
        paths.result("state_machine", "every case's events replay through the allowed moves to its status",
                     "cases", counted["cases"]),
        assignees.result("one_assignee", "every accepted case has its one assignee, the one its trail named last",
                         "cases", counted["cases"]),
    )


def _check_duplicate(trail: _Trail, event: tuple, findings: _Findings) -> None:
    event_id, _case, at, actor, action, from_status, to_status, from_unit, to_unit, note, payload, previous = event
    content = (at.isoformat(), actor, action, from_status, to_status, from_unit, to_unit, note,
               json.dumps(payload, sort_keys=True, default=str))
    repeated, forked = trail.contents.get(content), trail.successors.get(previous)
    if repeated is not None:
        findings.add(event_id, f"case {trail.reference}: event {event_id} ({action} at {at.isoformat()}) repeats "
                               f"event {repeated}")
    elif forked is not None:
        findings.add(event_id, f"case {trail.reference}: event {event_id} ({action}) follows the same event as "
                               f"event {forked}: two events in one place of the trail")
    trail.contents.setdefault(content, event_id)
    trail.successors.setdefault(previous, event_id)


def _replay(trail: _Trail, event: tuple, table: Transitions, findings: _Findings) -> None:
    event_id, action, from_status, to_status, payload = event[0], event[4], event[5], event[6], event[10]
    trail.events += 1
    start = trail.replayed if trail.replayed is not None else ""
    problem = ""
    if trail.replayed is None and action != EventAction.CREATED:
        problem = f"its first event {event_id} is “{action}”, not its intake"
    elif from_status != start:
        problem = f"event {event_id} ({action}) starts from “{from_status}” but the trail was at “{start}”"
    elif action not in table:
        problem = f"event {event_id} has an action no move writes: “{action}”"
    elif to_status not in table[action].get(from_status, ()):
        problem = f"event {event_id} ({action}) goes from “{from_status or '—'}” to “{to_status}”, which no move does"
    if problem and not trail.broken:
        trail.broken = True
        findings.add(trail.reference, f"case {trail.reference}: {problem}")
    # Replay on from what the event says, so that one wrong step is not also reported as every later one.
    trail.replayed = to_status
    if action in NAMES_ASSIGNEE:
        trail.named = (payload or {}).get("assignee")
    elif action in CLEARS_ASSIGNEE:
        trail.named = None


def _check_end(trail: _Trail, findings: _Findings) -> None:
    if trail.broken:
        return
    if not trail.events:
        findings.add(trail.reference, f"case {trail.reference}: no event at all, not even its intake")
    elif trail.replayed != trail.status:
        findings.add(trail.reference, f"case {trail.reference}: its events end at “{trail.replayed}” but the case is "
                                      f"“{trail.status}”")


def _check_assignee(trail: _Trail, findings: _Findings) -> None:
    reference, assignee = trail.reference, trail.assignee
    if trail.status in ACCEPTED_STATUSES and assignee is None:
        findings.add(reference, f"case {reference}: “{trail.status}” with no assignee")
    elif trail.status not in ACCEPTED_STATUSES and assignee is not None:
        findings.add(reference, f"case {reference}: “{trail.status}”, not yet accepted, yet assigned to {assignee}")
    elif trail.events and trail.named != assignee:
        findings.add(reference, f"case {reference}: assigned to {assignee or 'nobody'} but its trail names "
                                f"{trail.named or 'nobody'}")


# --- notices, marks and mail --------------------------------------------------------------------------------------


def _unique_keys(model: type[Model]) -> Iterator[UniqueConstraint]:
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            yield constraint


def duplicate_notices() -> CheckResult:
    """Rows of every registered notice table that one of its unique constraints says must be a single row."""
    findings, checked = _Findings(), 0
    for model in notice_models():
        rows = model._default_manager.order_by()
        checked += rows.count()
        for constraint in _unique_keys(model):
            keyed = rows.filter(constraint.condition) if constraint.condition is not None else rows
            groups = (keyed.values(*constraint.fields).annotate(copies=Count("pk"), first=Min("pk"), last=Max("pk"))
                      .filter(copies__gt=1).order_by("first"))
            for group in groups.iterator():
                key = ", ".join(f"{name}={group[name]}" for name in constraint.fields)
                findings.add(group["last"], f"{model._meta.label_lower} {constraint.name}: {group['copies']} "
                                            f"notices for {key} (ids {group['first']}…{group['last']})",
                             times=group["copies"] - 1)
    return findings.result("duplicate_notices", "one notice per idempotency key of each notice table",
                           "notices", checked)


def duplicate_deadline_marks() -> CheckResult:
    """More than one mark of the overdue sweep for one item of any registered kind of deadline work."""
    findings, checked = _Findings(), 0
    for item in deadline_items():
        marks = item.mark_rows().order_by()
        checked += marks.count()
        groups = (marks.values(item.field).annotate(copies=Count("pk"), first=Min("pk"), last=Max("pk"))
                  .filter(copies__gt=1).order_by(item.field))
        for group in groups.iterator():
            findings.add(group["last"], f"{item.name} {group[item.field]}: {group['copies']} deadline marks "
                                        f"(ids {group['first']}…{group['last']})", times=group["copies"] - 1)
    return findings.result("duplicate_deadline_marks", "one deadline mark per case, consultation or violation",
                           "marks", checked)


MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def _mail_key(to: str, subject: str) -> tuple[str, str]:
    return to.strip().lower(), " ".join(subject.split())


def mails_in(mail_dir: Path) -> Iterator[tuple[str, str]]:
    """(recipient, subject) of every mail Django's file-based backend wrote into `mail_dir` (a message per block,
    blocks ended by a line of 79 dashes; a block cut short by a killed process has no recipient and is skipped)."""
    for path in sorted(mail_dir.glob("*.log")):
        for block in path.read_bytes().split(MAIL_SEPARATOR):
            if not block.strip():
                continue
            message = email.message_from_bytes(block, policy=email.policy.default)
            if message["To"] and message["Subject"] is not None:
                yield _mail_key(str(message["To"]), str(message["Subject"]))


def duplicate_mails(*, mail_dir: Path | None) -> CheckResult:
    """More mails to a person with a subject than sent notices that make that mail (`mail_dir`: the folder of
    Django's file-based mail backend). Counted against the notices, not among the mails, because two notices
    may legitimately read the same (one person assigned twice to one case)."""
    title, unit = "every notice was mailed at most once", "mails"
    if mail_dir is None:
        return CheckResult("duplicate_mails", title, unit, skipped="no mail folder given (--mail-dir)")
    # Imported here: the mail is made by the mailer's own code, and only this check needs it.
    from cases.notifications import _message

    mailed = Counter(mails_in(mail_dir))
    sent = Counter[tuple[str, str]]()
    with translation.override(settings.LANGUAGE_CODE):  # as the mailer writes them
        for model in notice_models():
            rows = (model._default_manager.filter(mail_state=MailState.SENT)
                    .select_related("recipient", *model.list_relations).order_by("pk"))
            for notice in rows.iterator(chunk_size=CHUNK_SIZE):
                message = _message(notice)
                sent[_mail_key(message.to[0], message.subject)] += 1
    findings = _Findings()
    for key, times in sorted(mailed.items()):
        if times > sent[key]:
            findings.add(key[0], f"{key[1]!r} mailed to {key[0]} {times} times; {sent[key]} sent notices make it",
                         times=times - sent[key])
    return findings.result("duplicate_mails", title, unit, sum(mailed.values()))


# --- the audit chain and the acknowledged cases ---------------------------------------------------------------------


def audit_chain(*, chunk_size: int = CHUNK_SIZE) -> CheckResult:
    """The hash chain of every case's trail, as `manage.py verify_audit` and the nightly job check it."""
    report = verify_chains(chunk_size=chunk_size)
    findings = _Findings()
    with translation.override("en"):
        for broken in report.breaks:
            findings.add(broken.event_id, describe_break(broken))
    # Counted by case, as the verifier names them: the first broken event of each broken trail.
    return findings.result("audit_chain", "every case's trail holds its hash chain", "cases", report.cases)


def read_references(path: Path) -> list[str]:
    """One case reference a line; blank lines and lines starting with # are skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def acknowledged_cases(*, references: Iterable[str] | None, chunk_size: int = 1000) -> CheckResult:
    """Every reference a client was answered 201 for (`POST /api/v1/cases/` names the case by it) exists."""
    title, unit = "every case a client was told was created exists", "references"
    if references is None:
        return CheckResult("acknowledged_cases", title, unit, skipped="no file of references given (--acknowledged)")
    wanted = list(dict.fromkeys(references))
    findings = _Findings()
    for start in range(0, len(wanted), chunk_size):
        chunk = wanted[start:start + chunk_size]
        found = set(Case.unscoped.filter(reference__in=chunk).values_list("reference", flat=True))
        for reference in chunk:
            if reference not in found:
                findings.add(reference, f"case {reference} was acknowledged (201) but does not exist")
    return findings.result("acknowledged_cases", title, unit, len(wanted))


# --- all of them ----------------------------------------------------------------------------------------------------


def check_all(*, acknowledged: Iterable[str] | None = None, mail_dir: Path | None = None,
              chunk_size: int = CHUNK_SIZE) -> Report:
    """Every check, on one snapshot of the database."""
    # A read-only snapshot, when this is the outermost transaction (a test already runs inside one).
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        duplicates, paths, assignees = check_trails(chunk_size=chunk_size)
        results = (
            duplicates,
            duplicate_notices(),
            duplicate_deadline_marks(),
            duplicate_mails(mail_dir=mail_dir),
            assignees,
            paths,
            audit_chain(chunk_size=chunk_size),
            acknowledged_cases(references=acknowledged),
        )
    return Report(results)
