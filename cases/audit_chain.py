"""The case trail's hash chain: each event carries the SHA-256 of its content and of the event before it.

The database refuses to change or remove an event (core.audit), but the tables' owner or a superuser can
switch that refusal off. The chain is what shows it afterwards: an event whose content was rewritten no
longer matches its digest, and the event after a removed one no longer follows the one before it. Each
case's events form one chain, in the order of their ids (the order they were written in, since every
writer holds the case's row lock while it appends).

`event_digest` is the one definition of an event's digest: the writer (`CaseEvent.save` and the bulk
paths, through `chain`), the migration that filled the digests of the events written before, and the
verifier all call it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class ChainedEvent(Protocol):
    """What a digest is made of: a CaseEvent, or the migrations' historical model of one."""

    pk: Any
    case_id: int
    at: dt.datetime
    actor_id: int | None
    action: str
    from_status: str
    to_status: str
    from_department_id: int | None
    to_department_id: int | None
    note: str
    payload: Any
    previous_digest: str
    digest: str


def event_digest(event: ChainedEvent) -> str:
    """The hex SHA-256 of the event's content and of the digest of the event before it ("" for the first).

    Canonical JSON: sorted keys, no spaces, UTF-8; the time in UTC to the microsecond, as both databases store
    it; the payload as the database gives it back (so a tuple and a list, or an int key and its text, agree).
    """
    content = {
        "case": event.case_id,
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_id,
        "action": str(event.action),
        "from_status": str(event.from_status),
        "to_status": str(event.to_status),
        "from_department": event.from_department_id,
        "to_department": event.to_department_id,
        "note": event.note,
        "payload": json.loads(json.dumps(event.payload)),
        "previous_digest": event.previous_digest,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain(events: Iterable[ChainedEvent], previous: str) -> str:
    """Link `events` (of one case, in the order they are written) after the digest `previous`; returns the
    last digest, for the next one."""
    for event in events:
        event.previous_digest = previous
        event.digest = previous = event_digest(event)
    return previous


def chain_each_case(events: Sequence[ChainedEvent], last_digests: dict[int, str]) -> None:
    """Link events of several cases, each after the last digest of its case (`last_digests`; none: the first
    of its trail), in the order given."""
    last = dict(last_digests)
    for event in events:
        last[event.case_id] = chain([event], last.get(event.case_id, ""))


# --- who holds a case's row lock ------------------------------------------------------------------------------

# The case ids whose row this thread has locked, while the block that holds the lock runs: the event writer
# then reads the case's last digest without locking the row a second time (one query, not two). Per thread,
# as Django's connections are.
_held = threading.local()


def _held_cases() -> list[int]:
    if not hasattr(_held, "cases"):
        _held.cases = []
    return _held.cases


@contextmanager
def case_lock_held(case_id: int) -> Iterator[None]:
    """Say, for the length of the block, that the current transaction holds the case's row lock (the block
    runs inside the `atomic` that took it, so the lock outlives the block)."""
    _held_cases().append(case_id)
    try:
        yield
    finally:
        _held_cases().remove(case_id)


def holds_case_lock(case_id: int) -> bool:
    return case_id in _held_cases()


# --- the verifier ---------------------------------------------------------------------------------------------

DIGEST_MISMATCH = "digest"  # the event's content is not what its digest was made of
LINK_MISMATCH = "link"  # the event does not follow the one before it: one was removed, or put in between


@dataclass(frozen=True)
class Break:
    """The first event of a case's trail that breaks its chain."""

    case_id: int
    reference: str
    event_id: int
    at: dt.datetime
    action: str
    problem: str


@dataclass
class ChainReport:
    events: int = 0
    cases: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.breaks


def verify_chains(*, chunk_size: int = 2000) -> ChainReport:
    """Recompute every case's chain, streaming the events in (case, id) order: memory stays the same however
    long the trail. Names the first broken event of each broken case."""
    from cases.models import Case, CaseEvent

    report = ChainReport()
    found: list[tuple[int, int, dt.datetime, str, str]] = []
    case_id, previous, broken = None, "", False
    for event in CaseEvent.objects.order_by("case_id", "id").iterator(chunk_size=chunk_size):
        report.events += 1
        if event.case_id != case_id:
            case_id, previous, broken = event.case_id, "", False
            report.cases += 1
        if broken:
            continue
        problem = _problem(event, previous)
        if problem:
            broken = True
            found.append((event.case_id, event.pk, event.at, event.action, problem))
        else:
            previous = event.digest
    references = dict(Case.unscoped.filter(pk__in={case for case, *_ in found}).values_list("pk", "reference"))
    report.breaks = [Break(case, references.get(case, str(case)), event_id, at, action, problem)
                     for case, event_id, at, action, problem in found]
    return report


def summary(report: ChainReport) -> str:
    """What was checked and whether the chain holds, in the active language."""
    values = {"events": number_format(report.events, force_grouping=True),
              "cases": number_format(report.cases, force_grouping=True),
              "broken": number_format(len(report.breaks), force_grouping=True)}
    if report.holds:
        return _("Checked %(events)s events of %(cases)s cases: the chain holds.") % values
    return ngettext("Checked %(events)s events of %(cases)s cases: %(broken)s case has a broken chain.",
                    "Checked %(events)s events of %(cases)s cases: %(broken)s cases have a broken chain.",
                    len(report.breaks)) % values


def describe_break(broken: Break) -> str:
    """One line naming the broken event, in the active language."""
    from cases.models import EventAction

    values = {"case": broken.reference, "event": broken.event_id,
              "at": f"{timezone.localtime(broken.at):%d/%m/%Y %H:%M:%S}",
              "action": EventAction(broken.action).label if broken.action in EventAction.values else broken.action}
    if broken.problem == DIGEST_MISMATCH:
        return _("case %(case)s: event %(event)s (at %(at)s, action “%(action)s”) does not match its digest: its "
                 "content was changed after it was written.") % values
    return _("case %(case)s: event %(event)s (at %(at)s, action “%(action)s”) does not follow the event before it: "
             "an event was removed or put in between.") % values


def _problem(event: ChainedEvent, previous: str) -> str:
    if event_digest(event) != event.digest:
        return DIGEST_MISMATCH
    if event.previous_digest != previous:
        return LINK_MISMATCH
    return ""
