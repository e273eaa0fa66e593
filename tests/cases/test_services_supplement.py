"""The one request to complete a dossier, and the deadline after it (DESIGN.md §3 Supplement).

Dates are fixed with the `clock` fixture and counted by hand in Vietnam's 2025 calendar (no holidays
in June). The case is received on Monday 2 June 2025 with 15 working days: due Monday 23 June.
"""

import datetime as dt

import pytest

from cases.models import EventAction, Status
from cases.services import case_complete_supplement, case_request_supplement
from tests.support.cases import assert_refused
from tests.support.world import local_datetime

ITEMS = "1. Bản vẽ mặt bằng có chữ ký; 2. Giấy chứng nhận quyền sử dụng đất (bản sao chứng thực)"
RECEIVED = local_datetime(2025, 6, 2, 9)


@pytest.fixture
def received_monday(stages, clock):
    clock.set(RECEIVED)
    case = stages.in_progress(received_at=RECEIVED)
    assert case.due_date == dt.date(2025, 6, 23)
    return case


def ask(city, clock, case, on):
    clock.set(on)
    return case_request_supplement(case=case, actor=city.user("specialist"), items=ITEMS)


def complete(city, clock, case, on):
    clock.set(on)
    return case_complete_supplement(case=case, actor=city.user("specialist"), note="Công dân đã nộp đủ")


def test_the_request_stops_the_case_and_keeps_its_due_date(city, clock, received_monday):
    case = received_monday
    asked_at = local_datetime(2025, 6, 4, 10)
    ask(city, clock, case, asked_at)
    case.refresh_from_db()
    assert (case.status, case.supplement_items, case.supplement_requested_at) == (
        Status.AWAITING_SUPPLEMENT, ITEMS, asked_at)
    assert case.due_date == dt.date(2025, 6, 23)
    assert case.assignee == city.user("specialist")
    event = case.events.get(action=EventAction.SUPPLEMENT_REQUESTED)
    assert (event.actor, event.note) == (city.user("specialist"), ITEMS)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT)


def test_the_due_date_does_not_move_while_the_applicant_is_waited_for(city, clock, received_monday):
    case = received_monday
    ask(city, clock, case, local_datetime(2025, 6, 4, 10))
    clock.set(local_datetime(2025, 6, 30, 10))  # a week past the due date, still waiting
    case.refresh_from_db()
    assert (case.status, case.due_date) == (Status.AWAITING_SUPPLEMENT, dt.date(2025, 6, 23))


@pytest.mark.parametrize(("asked_on", "allowed"), [
    (local_datetime(2025, 6, 2, 16), True),  # the day of receipt
    (local_datetime(2025, 6, 5, 16), True),  # the third working day after receipt
    (local_datetime(2025, 6, 6, 8), False),  # the fourth
    (local_datetime(2025, 6, 30, 8), False),
])
def test_a_supplement_is_asked_within_three_working_days_of_receipt(city, clock, received_monday, asked_on,
                                                                    allowed):
    case = received_monday
    if allowed:
        assert ask(city, clock, case, asked_on).status == Status.AWAITING_SUPPLEMENT
    else:
        clock.set(asked_on)
        assert_refused(case_request_supplement, code="supplement_too_late", attempted="request_supplement",
                       case=case, actor=city.user("specialist"), items=ITEMS)


def test_the_window_for_a_supplement_is_a_setting(city, clock, received_monday, settings):
    settings.SUPPLEMENT_WITHIN_WORKING_DAYS = 4
    assert ask(city, clock, received_monday, local_datetime(2025, 6, 6, 8)).status == Status.AWAITING_SUPPLEMENT


def test_a_dossier_received_on_saturday_counts_from_monday(city, clock, stages):
    saturday = clock.set(local_datetime(2025, 6, 7, 10))
    case = stages.in_progress(received_at=saturday)
    clock.set(local_datetime(2025, 6, 13, 9))  # Friday: the fourth working day after Monday
    assert_refused(case_request_supplement, code="supplement_too_late", attempted="request_supplement",
                   case=case, actor=city.user("specialist"), items=ITEMS)
    # Thursday is the third working day after Monday 9 June, which itself is not counted.
    assert ask(city, clock, case, local_datetime(2025, 6, 12, 16)).status == Status.AWAITING_SUPPLEMENT


def test_the_applicant_is_asked_only_once(city, clock, received_monday):
    case = received_monday
    ask(city, clock, case, local_datetime(2025, 6, 3, 10))
    complete(city, clock, case, local_datetime(2025, 6, 4, 10))
    clock.set(local_datetime(2025, 6, 4, 11))
    refusal = assert_refused(case_request_supplement, code="supplement_already_requested",
                             attempted="request_supplement", case=case, actor=city.user("deputy"),
                             items="Còn thiếu văn bản ủy quyền")
    assert "03/06/2025" in refusal.detail
    case.refresh_from_db()
    assert case.supplement_items == ITEMS


def test_reset_restarts_the_full_period_from_the_day_of_completion(city, clock, received_monday, settings):
    settings.SUPPLEMENT_CLOCK = "reset"
    case = received_monday
    ask(city, clock, case, local_datetime(2025, 6, 4, 10))
    completed_at = local_datetime(2025, 6, 11, 10)
    complete(city, clock, case, completed_at)
    case.refresh_from_db()
    assert (case.status, case.supplement_completed_at) == (Status.IN_PROGRESS, completed_at)
    # 15 working days after Wednesday 11 June: 12-13, 16-20, 23-27, 30 June, 1-2 July.
    assert case.due_date == dt.date(2025, 7, 2)
    event = case.events.get(action=EventAction.SUPPLEMENT_COMPLETED)
    assert (event.actor, event.note) == (city.user("specialist"), "Công dân đã nộp đủ")
    assert (event.from_status, event.to_status) == (Status.AWAITING_SUPPLEMENT, Status.IN_PROGRESS)
    assert event.payload == {"old_due_date": "2025-06-23", "due_date": "2025-07-02", "clock": "reset"}


def test_pause_moves_the_due_date_by_the_working_days_waited(city, clock, received_monday, settings):
    settings.SUPPLEMENT_CLOCK = "pause"
    case = received_monday
    ask(city, clock, case, local_datetime(2025, 6, 4, 10))
    complete(city, clock, case, local_datetime(2025, 6, 11, 10))
    case.refresh_from_db()
    # Waited Thursday 5 - Wednesday 11 June: 5 working days; 23 June + 5 working days = 30 June.
    assert case.due_date == dt.date(2025, 6, 30)
    assert case.events.get(action=EventAction.SUPPLEMENT_COMPLETED).payload == {
        "old_due_date": "2025-06-23", "due_date": "2025-06-30", "clock": "pause"}


def test_pause_skips_the_holidays_the_applicant_waited_through(city, clock, stages, settings):
    settings.SUPPLEMENT_CLOCK = "pause"
    clock.set(local_datetime(2025, 4, 28, 9))
    case = stages.in_progress(received_at=local_datetime(2025, 4, 28, 9))
    # 15 working days after Monday 28 April, skipping 30 April - 2 May: 29 April, 5-9, 12-16, 19-22 May.
    assert case.due_date == dt.date(2025, 5, 22)
    ask(city, clock, case, local_datetime(2025, 4, 29, 10))
    complete(city, clock, case, local_datetime(2025, 5, 6, 10))  # waited 5 and 6 May: 2 working days
    case.refresh_from_db()
    assert case.due_date == dt.date(2025, 5, 26)  # Thursday 22 May + Friday 23 and Monday 26


def test_completion_is_only_for_a_case_waiting_for_the_applicant(city, received_monday):
    assert_refused(case_complete_supplement, code="invalid_transition", attempted="complete_supplement",
                   case=received_monday, actor=city.user("specialist"))
