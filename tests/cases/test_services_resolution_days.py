"""A resolved case keeps the working days it took from receipt (the department report's median reads it),
counted as the deadline counts: a receipt on a day off counts from the next working day, not itself."""

import pytest

from cases.models import Outcome
from cases.services import case_decide, case_resolve
from tests.support.world import local_datetime


@pytest.mark.parametrize(("received", "resolved", "days"), [
    # Monday 9 November 2026 to the same day, to Tuesday, and to Monday 16 November.
    (local_datetime(2026, 11, 9, 9), local_datetime(2026, 11, 9, 16), 0),
    (local_datetime(2026, 11, 9, 9), local_datetime(2026, 11, 10, 9), 1),
    (local_datetime(2026, 11, 9, 9), local_datetime(2026, 11, 16, 9), 5),
    # Received on Saturday 7 November: deemed received Monday, which is not counted.
    (local_datetime(2026, 11, 7, 10), local_datetime(2026, 11, 10, 9), 1),
    # Resolved at 23:30 local on Friday 13 November: still that Friday, whatever the UTC date.
    (local_datetime(2026, 11, 9, 9), local_datetime(2026, 11, 13, 23, 30), 4),
])
def test_resolution_records_working_days_taken(city, stages, clock, received, resolved, days):
    clock.set(received)
    case = stages.in_progress(received_at=received)
    clock.set(resolved)
    case = case_resolve(case=case, actor=city.user("head"), note="Đã cấp giấy phép")
    case.refresh_from_db()
    assert (case.resolved_at, case.working_days_taken) == (resolved, days)


def test_a_city_committee_decision_records_them_too(city, stages, clock):
    clock.set(local_datetime(2026, 11, 9, 9))
    case = stages.submitted(received_at=local_datetime(2026, 11, 9, 9))
    clock.set(local_datetime(2026, 11, 12, 14))
    case_decide(case=case, actor=city.user("city_office"), outcome=Outcome.APPROVED, note="Đồng ý")
    case.refresh_from_db()
    assert case.working_days_taken == 3


def test_rework_leaves_it_unset(city, stages, clock):
    clock.set(local_datetime(2026, 11, 9, 9))
    case = stages.submitted(received_at=local_datetime(2026, 11, 9, 9))
    clock.set(local_datetime(2026, 11, 12, 14))
    case_decide(case=case, actor=city.user("city_office"), outcome=Outcome.REWORK, note="Bổ sung")
    case.refresh_from_db()
    assert (case.resolved_at, case.working_days_taken) == (None, None)
