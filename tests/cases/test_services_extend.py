"""The one extension of a case's deadline, at least one working day before it falls (DESIGN.md §3 Extension).

Dates are fixed with the `clock` fixture and counted by hand in Vietnam's 2025 calendar (no holidays in
June). The case is received on Monday 2 June 2025 with 15 working days: due Monday 23 June.

"At least one working day before" is what `working_days_between(today, due_date) >= 1` says: one working
day after today, up to and including the due date. Since a due date is a working day, that holds on every
day before the due day, a weekend before a Monday deadline included, and never on the due day itself.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cases.models import CaseEvent, EventAction, Status
from cases.services import case_extend
from tests.support.cases import assert_denied, assert_refused, footprint, last_event_id
from tests.support.races import Move, run_race
from tests.support.world import local_datetime

RECEIVED = local_datetime(2025, 6, 2, 9)
DUE = dt.date(2025, 6, 23)  # Monday
NEW_DUE = dt.date(2025, 6, 30)  # the Monday after
ASKED = local_datetime(2025, 6, 18, 10)  # Wednesday, three working days before
REASON = "Chờ kết quả kiểm tra hiện trạng công trình của Đội kiểm tra"


def extend(city, case, *, actor="head", due_date=NEW_DUE, reason=REASON, **kwargs):
    return case_extend(case=case, actor=city.user(actor), due_date=due_date, reason=reason, **kwargs)


def refused(city, case, code, *, actor="head", due_date=NEW_DUE, reason=REASON, **kwargs):
    return assert_refused(case_extend, code=code, attempted="extend", case=case, actor=city.user(actor),
                          due_date=due_date, reason=reason, **kwargs)


def assert_invalid(city, case, field, **kwargs):
    """A field error: nothing changes and, unlike a refusal, nothing is recorded."""
    before, last = footprint(case), last_event_id(case)
    with pytest.raises(ValidationError) as error:
        extend(city, case, **kwargs)
    assert list(error.value.message_dict) == [field], error.value.message_dict
    assert (footprint(case), last_event_id(case)) == (before, last)
    return error.value.message_dict[field]


@pytest.fixture
def received(stages, clock):
    """In progress since Monday 2 June, due Monday 23 June; the clock then stands on Wednesday 18 June."""
    clock.set(RECEIVED)
    case = stages.in_progress(received_at=RECEIVED)
    assert case.due_date == DUE
    clock.set(ASKED)
    return case


# What an extension writes ----------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["head", "deputy"])
def test_the_owners_head_or_deputy_moves_the_due_date_with_a_reason(city, received, actor):
    version = received.version
    extend(city, received, actor=actor, expected_version=version)
    received.refresh_from_db()
    assert (received.due_date, received.due_date_before_extension) == (NEW_DUE, DUE)
    assert (received.extended_at, received.extended_by, received.extension_reason) == (
        ASKED, city.user(actor), REASON)
    assert (received.status, received.version) == (Status.IN_PROGRESS, version + 1)
    event = received.events.get(action=EventAction.EXTENDED)
    assert (event.actor, event.note, event.from_status, event.to_status) == (
        city.user(actor), REASON, Status.IN_PROGRESS, Status.IN_PROGRESS)
    assert event.payload == {"previous_due_date": "2025-06-23", "due_date": "2025-06-30"}


@pytest.mark.parametrize("stage", ["routed", "submitted"])
def test_a_routed_or_submitted_case_may_be_given_more_time(city, stages, clock, stage):
    clock.set(RECEIVED)
    case = stages(stage, received_at=RECEIVED)
    clock.set(local_datetime(2025, 6, 10, 10))  # before either due date (the city-level matter has 10 days)
    due = case.due_date
    new_due = due + dt.timedelta(days=7)  # the same weekday a week later, a working day in June 2025
    extend(city, case, due_date=new_due)
    case.refresh_from_db()
    assert (case.status, case.due_date, case.due_date_before_extension) == (stage, new_due, due)


def test_a_case_with_a_new_date_is_no_longer_overdue_on_the_old_one(city, clock, received):
    extend(city, received)
    clock.set(local_datetime(2025, 6, 24, 9))  # the day after the old due date
    received.refresh_from_db()
    assert not received.is_overdue


# Once only, and in time ------------------------------------------------------------------------------


def test_the_deadline_moves_once_only(city, clock, received):
    extend(city, received)
    clock.set(local_datetime(2025, 6, 20, 9))
    refusal = refused(city, received, "already_extended", actor="deputy", due_date=dt.date(2025, 7, 7))
    assert "18/06/2025" in refusal.detail and "30/06/2025" in refusal.detail
    received.refresh_from_db()
    assert (received.due_date, received.extended_by) == (NEW_DUE, city.user("head"))
    assert received.events.filter(action=EventAction.EXTENDED).count() == 1


@pytest.mark.parametrize(("asked", "allowed"), [
    (local_datetime(2025, 6, 20, 23, 59), True),  # Friday: Monday is one working day ahead
    (local_datetime(2025, 6, 21, 10), True),  # Saturday: still one working day (Monday) ahead
    (local_datetime(2025, 6, 22, 18), True),  # Sunday evening: likewise
    (local_datetime(2025, 6, 23, 0, 1), False),  # the due day itself, first thing
    (local_datetime(2025, 6, 23, 16), False),
    (local_datetime(2025, 6, 25, 9), False),  # already overdue
], ids=["friday", "saturday", "sunday", "due-day-morning", "due-day", "after"])
def test_an_extension_must_come_before_the_due_day(city, clock, received, asked, allowed):
    clock.set(asked)
    if allowed:
        assert extend(city, received).due_date == NEW_DUE
    else:
        refusal = refused(city, received, "extension_too_late")
        assert "23/06/2025" in refusal.detail
        assert received.events.get(action=EventAction.REFUSED).payload["due_date"] == "2025-06-23"


def test_a_holiday_on_the_eve_of_the_due_date_still_leaves_the_due_day_ahead(city, clock, stages):
    # Received Monday 11 August 2025: 15 working days skip 1 and 2 September, due Wednesday 3 September.
    clock.set(local_datetime(2025, 8, 11, 9))
    case = stages.in_progress(received_at=local_datetime(2025, 8, 11, 9))
    assert case.due_date == dt.date(2025, 9, 3)
    clock.set(local_datetime(2025, 9, 2, 10))  # National Day: working_days_between counts Wednesday
    assert extend(city, case, due_date=dt.date(2025, 9, 10)).due_date == dt.date(2025, 9, 10)


def test_a_second_request_after_the_due_day_is_told_it_was_extended_already(city, clock, received):
    extend(city, received)
    clock.set(local_datetime(2025, 7, 1, 9))  # past the new date as well
    refused(city, received, "already_extended", due_date=dt.date(2025, 7, 14))


# The new date ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("new_due", [DUE, dt.date(2025, 6, 20)], ids=["same-day", "earlier"])
def test_the_new_date_must_come_after_the_current_one(city, received, new_due):
    [message] = assert_invalid(city, received, "due_date", due_date=new_due)
    assert "23/06/2025" in message


@pytest.mark.parametrize("new_due", [dt.date(2025, 6, 28), dt.date(2025, 6, 29), dt.date(2025, 9, 2)],
                         ids=["saturday", "sunday", "national-day"])
def test_the_new_date_must_be_a_working_day(city, received, new_due):
    [message] = assert_invalid(city, received, "due_date", due_date=new_due)
    assert f"{new_due:%d/%m/%Y}" in message


def test_a_swapped_working_saturday_is_a_working_day(city, clock, stages):
    # Saturday 26 April 2025 was worked in exchange for Friday 2 May (the `holidays` package knows it).
    clock.set(local_datetime(2025, 4, 8, 9))
    case = stages.in_progress(received_at=local_datetime(2025, 4, 8, 9), case_type=stages.city_level_type)
    assert case.due_date == dt.date(2025, 4, 22)  # 10 working days, Tuesday 8 April not counted
    clock.set(local_datetime(2025, 4, 18, 9))
    assert extend(city, case, due_date=dt.date(2025, 4, 26)).due_date == dt.date(2025, 4, 26)


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_reason_is_required(city, received, reason):
    assert_invalid(city, received, "reason", reason=reason)


def test_an_invalid_request_can_still_be_made_right_afterwards(city, received):
    with pytest.raises(ValidationError):
        extend(city, received, due_date=dt.date(2025, 6, 28))
    assert extend(city, received, due_date=NEW_DUE).due_date == NEW_DUE


# Who may, and from which status ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["specialist", "clerk"])
def test_others_of_the_owner_unit_may_not(city, received, role):
    assert_denied(case_extend, case=received, actor=city.user(role), due_date=NEW_DUE, reason=REASON)


@pytest.mark.parametrize("role", ["consulted_head", "outsider_head", "city_office", "inspector", "home_affairs",
                                  "admin", "nobody"])
def test_anyone_outside_the_owner_is_refused_as_not_the_owner(city, received, role):
    refused(city, received, "not_owner", actor=role)


@pytest.mark.parametrize("stage", ["triage", "awaiting_supplement", "resolved"])
def test_a_case_not_being_worked_on_by_its_owner_is_not_extended(city, stages, clock, stage):
    clock.set(RECEIVED)
    case = stages(stage, received_at=RECEIVED)
    clock.set(ASKED)
    # A triage case has no owner yet; the others have their clock stopped or are finished.
    refused(city, case, "not_owner" if stage == "triage" else "invalid_transition")


def test_a_stale_page_is_refused(city, received):
    refused(city, received, "case_changed", expected_version=received.version + 1)
    assert not CaseEvent.objects.filter(case=received, action=EventAction.EXTENDED).exists()


# Two leads at once -----------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_two_leads_extending_at_once_move_the_deadline_once(city, received, repeat):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes all writers; the row-lock race only exists on PostgreSQL")
    moves = (Move("head", "extend", case_extend, EventAction.EXTENDED,
                  lambda city: {"due_date": NEW_DUE, "reason": REASON}),
             Move("deputy", "extend", case_extend, EventAction.EXTENDED,
                  lambda city: {"due_date": dt.date(2025, 7, 7), "reason": "Chờ ý kiến Sở Tài chính"}))

    # Without the version each saw, the row lock queues them: the second finds the deadline already moved.
    outcomes = run_race(city, received, moves, with_version=False)

    assert sorted(outcomes) == ["already_extended", "ok"]
    winner = moves[outcomes.index("ok")]
    received.refresh_from_db()
    assert (received.extended_by, received.due_date_before_extension) == (city.user(winner.actor), DUE)
    assert received.due_date == winner.fields(city)["due_date"]
    assert received.events.filter(action=EventAction.EXTENDED).count() == 1
    assert received.events.filter(action=EventAction.REFUSED, payload__code="already_extended").count() == 1
