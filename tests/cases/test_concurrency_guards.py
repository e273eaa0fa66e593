"""Two people acting on one case at the same moment (PostgreSQL row locks; STYLE.md §9).

With the version each person saw, exactly one move wins and the other is refused, so nobody's move is
silently undone. Without it, the row lock still runs the moves one after the other: the outcome is one
of the orders they could have run in, and every attempt leaves its event.
"""

from dataclasses import dataclass

import pytest

from cases.models import CaseEvent, EventAction, Return, Status, Submission
from cases.services import case_submit
from tests.support.concurrency import skip_unless_postgres
from tests.support.races import OK, Move, accept, assign, resolve, return_, run_race, transfer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPEATS = 5
@pytest.fixture(autouse=True)
def needs_postgres():
    skip_unless_postgres()


def submit(actor):
    return Move(actor, "submit", case_submit, EventAction.SUBMITTED, lambda city: {"summary": "Tờ trình"})


@dataclass(frozen=True)
class Race:
    start: str  # the Stages method that makes the case
    moves: tuple[Move, Move]
    # Each possible result: the outcome of each move, and the (status, owner code, assignee) it leaves.
    with_version: tuple
    without_version: tuple


IN_PROGRESS_WITH_SPECIALIST = (Status.IN_PROGRESS, "sxd", "specialist")
TRIAGE = (Status.TRIAGE, None, None)
AT_OUTSIDER = (Status.ROUTED, "stc", None)

RACES = {
    "accept-vs-return": Race(
        "misrouted", (accept("specialist"), return_("deputy")),
        with_version=(((OK, "case_changed"), IN_PROGRESS_WITH_SPECIALIST),
                      (("case_changed", OK), TRIAGE)),
        # Accepted then returned; or returned first, and the case is no longer the unit's to accept.
        without_version=(((OK, OK), TRIAGE),
                         (("not_owner", OK), TRIAGE)),
    ),
    "two-transfers": Race(
        "misrouted", (transfer("head"), transfer("deputy")),
        with_version=(((OK, "case_changed"), AT_OUTSIDER),
                      (("case_changed", OK), AT_OUTSIDER)),
        without_version=(((OK, "not_owner"), AT_OUTSIDER),
                         (("not_owner", OK), AT_OUTSIDER)),
    ),
    # A department-level matter: resolving wins whatever the order; submitting it is never allowed.
    "resolve-vs-submit": Race(
        "in_progress", (resolve("head"), submit("deputy")),
        with_version=(((OK, "case_changed"), (Status.RESOLVED, "sxd", "specialist")),
                      ((OK, "within_own_authority"), (Status.RESOLVED, "sxd", "specialist"))),
        without_version=(((OK, "invalid_transition"), (Status.RESOLVED, "sxd", "specialist")),
                         ((OK, "within_own_authority"), (Status.RESOLVED, "sxd", "specialist"))),
    ),
    # A city-level matter: submitting wins whatever the order; resolving it is never allowed.
    "submit-vs-resolve": Race(
        "city_level_in_progress", (submit("head"), resolve("deputy")),
        with_version=(((OK, "case_changed"), (Status.SUBMITTED, "sxd", "specialist")),
                      ((OK, "invalid_transition"), (Status.SUBMITTED, "sxd", "specialist"))),
        without_version=(((OK, "invalid_transition"), (Status.SUBMITTED, "sxd", "specialist")),),
    ),
    "accept-vs-assign": Race(
        "routed", (accept("specialist"), assign("head", "deputy")),
        with_version=(((OK, "case_changed"), IN_PROGRESS_WITH_SPECIALIST),
                      (("case_changed", OK), (Status.IN_PROGRESS, "sxd", "deputy"))),
        # Accepted then reassigned; or assigned first, and there is nothing left to accept.
        without_version=(((OK, OK), (Status.IN_PROGRESS, "sxd", "deputy")),
                         (("invalid_transition", OK), (Status.IN_PROGRESS, "sxd", "deputy"))),
    ),
}


def state_of(case):
    case.refresh_from_db()
    return (case.status, case.owner.code if case.owner else None,
            case.assignee.username if case.assignee else None)


def assert_events_tell_what_happened(city, case, moves, outcomes, after_id):
    """Every attempt left exactly one event: its success, or its refusal with the actor and the code."""
    events = list(CaseEvent.objects.filter(case=case, id__gt=after_id))
    assert len(events) == len(moves)
    told = {(e.actor.username, e.action, e.payload.get("code"), e.payload.get("attempted")) for e in events}
    expected = {(m.actor, m.event, None, None) if outcome == OK else (m.actor, EventAction.REFUSED, outcome, m.action)
                for m, outcome in zip(moves, outcomes, strict=True)}
    assert told == expected


@pytest.mark.parametrize("repeat", range(REPEATS))
@pytest.mark.parametrize("name", RACES)
@pytest.mark.parametrize("with_version", [True, False], ids=["with-version", "without-version"])
def test_race(city, stages, name, with_version, repeat):
    race = RACES[name]
    case = getattr(stages, race.start)()
    version, last = case.version, CaseEvent.objects.filter(case=case).order_by("-id").first().pk

    outcomes = run_race(city, case, race.moves, with_version=with_version)

    results = dict(race.with_version if with_version else race.without_version)
    assert outcomes in results, f"{outcomes} is not a result the moves could have had in some order"
    if with_version:
        assert outcomes.count(OK) == 1
    assert state_of(case) == results[outcomes]
    succeeded = [m for m, outcome in zip(race.moves, outcomes, strict=True) if outcome == OK]
    assert case.version == version + len(succeeded)
    assert Return.objects.filter(case=case).count() == sum(m.action == "return" for m in succeeded)
    assert Submission.objects.filter(case=case).count() == sum(m.action == "submit" for m in succeeded)
    assert_events_tell_what_happened(city, case, race.moves, outcomes, last)
