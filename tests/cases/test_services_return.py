"""Returning out-of-scope files at once (DESIGN.md §2 rule 5).

Dates are fixed with the `clock` fixture and counted by hand in Vietnam's 2025 calendar.
"""

import datetime as dt

import pytest

from cases.models import EventAction, Return, Status, TriageReason
from cases.policy import triage_queue
from cases.services import case_return, case_route
from departments.models import AuthorityRule
from tests.support.cases import assert_refused
from tests.support.world import local_datetime

REASON = "Hồ sơ thuộc thẩm quyền của Sở Tài chính"


def test_a_return_names_the_competent_unit_and_sends_the_case_to_triage(city, stages):
    case = stages.misrouted("in_progress")
    specialist = city.user("specialist")
    version = case.version
    case_return(case=case, actor=specialist, reason=REASON, expected_version=version)
    case.refresh_from_db()
    assert (case.status, case.owner, case.assignee, case.accepted_at) == (Status.TRIAGE, None, None, None)
    assert case.triage_reason == TriageReason.RETURNED
    assert case.handed_over_at is None and case.handover_due_at is not None
    assert case.version == version + 1
    returned = Return.objects.get(case=case)
    assert (returned.department, returned.returned_by, returned.reason) == (city.owner, specialist, REASON)
    assert (returned.competent_department, returned.late, returned.working_days_held) == (city.outsider, False, 0)
    event = case.events.get(action=EventAction.RETURNED)
    assert (event.actor, event.note, event.from_department) == (specialist, REASON, city.owner)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.TRIAGE)
    assert event.payload == {"late": False, "working_days_held": 0, "competent": "stc"}
    assert case in triage_queue(city.user("clerk"))


@pytest.mark.parametrize("gap", ["no_rule", "ambiguous_rule"])
def test_a_return_with_no_competent_unit_records_none(city, stages, gap):
    case = stages.routed()
    if gap == "no_rule":
        city.permit_rule.active = False
        city.permit_rule.save()
    else:
        AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider)
        AuthorityRule.objects.create(case_type=city.permit, owner=city.consulted)
        city.permit_rule.delete()
    case_return(case=case, actor=city.user("head"), reason=REASON)
    assert Return.objects.get(case=case).competent_department is None
    assert case.events.get(action=EventAction.RETURNED).payload["competent"] is None


@pytest.mark.parametrize("status", ["routed", "in_progress"])
def test_returning_own_authority_work_is_refused(city, stages, status):
    case = stages(status)
    refusal = assert_refused(case_return, code="within_own_authority", attempted="return", case=case,
                             actor=city.user("head"), reason="Không muốn xử lý")
    assert "Luật Xây dựng 2014, Điều 103" in refusal.detail
    assert not Return.objects.exists()


@pytest.mark.parametrize(("handed_over", "returned", "held", "late"), [
    (local_datetime(2025, 6, 2, 9), local_datetime(2025, 6, 2, 16), 0, False),  # same day
    (local_datetime(2025, 6, 2, 9), local_datetime(2025, 6, 3, 16), 1, False),  # next working day
    (local_datetime(2025, 6, 2, 9), local_datetime(2025, 6, 4, 8), 2, True),
    (local_datetime(2025, 6, 6, 9), local_datetime(2025, 6, 9, 10), 1, False),  # Friday, then Monday
    # Arriving on Saturday counts from Monday, which is not itself counted.
    (local_datetime(2025, 6, 7, 9), local_datetime(2025, 6, 10, 10), 1, False),
    (local_datetime(2025, 6, 7, 9), local_datetime(2025, 6, 11, 10), 2, True),
    # Tuesday 29 April; 30 April - 2 May are holidays; Monday 5 May is the first working day after.
    (local_datetime(2025, 4, 29, 9), local_datetime(2025, 5, 5, 10), 1, False),
    (local_datetime(2025, 4, 29, 9), local_datetime(2025, 5, 6, 10), 2, True),
], ids=["same-day", "next-day", "two-days", "over-a-weekend", "saturday-arrival", "saturday-arrival-late",
        "over-the-holidays", "after-the-holidays"])
def test_a_return_later_than_one_working_day_is_late(city, stages, clock, handed_over, returned, held, late):
    clock.set(handed_over)
    case = stages.misrouted(received_at=handed_over)
    clock.set(returned)
    case_return(case=case, actor=city.user("specialist"), reason=REASON)
    record = Return.objects.get(case=case)
    assert (record.working_days_held, record.late, record.returned_at) == (held, late, returned)
    assert case.events.get(action=EventAction.RETURNED).payload["late"] is late


def test_the_return_clock_starts_at_the_handover_not_at_receipt(city, stages, clock):
    clock.set(local_datetime(2025, 6, 2, 9, 30))
    case = stages.misrouted(received_at=local_datetime(2025, 6, 2, 9))
    # The clerk handed it over on Thursday; the owner returns it on Friday: on time.
    type(case)._default_manager.filter(pk=case.pk).update(handed_over_at=local_datetime(2025, 6, 5, 14))
    clock.set(local_datetime(2025, 6, 6, 11))
    case_return(case=case, actor=city.user("specialist"), reason=REASON)
    assert Return.objects.values_list("working_days_held", "late").get() == (1, False)


def test_without_a_handover_time_the_clock_starts_at_receipt(city, stages, clock):
    clock.set(local_datetime(2025, 6, 2, 9, 30))
    case = stages.misrouted(received_at=local_datetime(2025, 6, 2, 9))
    type(case)._default_manager.filter(pk=case.pk).update(handed_over_at=None)
    clock.set(local_datetime(2025, 6, 6, 11))
    case_return(case=case, actor=city.user("specialist"), reason=REASON)
    assert Return.objects.values_list("working_days_held", "late").get() == (4, True)


@pytest.mark.parametrize(("allowed", "late"), [(0, True), (1, True), (2, False), (3, False)])
def test_the_allowance_for_a_return_is_a_setting(city, stages, clock, settings, allowed, late):
    settings.RETURN_WITHIN_WORKING_DAYS = allowed
    clock.set(local_datetime(2025, 6, 2, 9))
    case = stages.misrouted(received_at=local_datetime(2025, 6, 2, 9))
    clock.set(local_datetime(2025, 6, 4, 9))  # two working days held
    case_return(case=case, actor=city.user("specialist"), reason=REASON)
    assert Return.objects.get(case=case).late is late


def test_a_returned_case_can_be_routed_to_the_competent_unit_only(city, stages, clock):
    clock.set(local_datetime(2025, 6, 2, 9, 30))
    case = stages.misrouted(received_at=local_datetime(2025, 6, 2, 9))
    clock.set(local_datetime(2025, 6, 3, 10))
    case_return(case=case, actor=city.user("specialist"), reason=REASON)
    clerk = city.user("clerk")
    assert_refused(case_route, code="target_not_competent", attempted="route", case=case, actor=clerk, to=city.owner)
    case = case_route(case=case, actor=clerk, to=city.outsider)
    assert (case.status, case.owner, case.rule) == (Status.ROUTED, city.outsider, city.permit_rule)
    assert case.rule_snapshot["owner"] == "stc"
    assert case.triage_reason == ""
    assert case.due_date == dt.date(2025, 6, 23)  # 15 working days from receipt on Monday 2 June
    assert case.handover_late is False
    actions = list(case.events.order_by("id").values_list("action", flat=True))
    assert actions[-3:] == [EventAction.RETURNED, EventAction.REFUSED, EventAction.ROUTED_MANUALLY]
