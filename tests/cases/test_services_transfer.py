"""Transfers only to the unit the rules name today (DESIGN.md §2 rule 3).

Dates are fixed with the `clock` fixture and counted by hand in Vietnam's 2025 calendar.
"""

import datetime as dt

import pytest

from cases.models import EventAction, Status
from cases.services import case_accept, case_transfer
from departments.models import AuthorityRule, DecisionLevel
from tests.support.cases import assert_refused, mark_of
from tests.support.world import local_datetime

REASON = "Theo Quyết định phân cấp mới, thuộc Sở Tài chính"


@pytest.fixture
def misrouted_in_progress(stages, clock):
    """Received Monday 2 June 2025; the rule now gives the matter to the outsider unit, with 7 days."""
    clock.set(local_datetime(2025, 6, 2, 9, 30))
    case = stages.misrouted("in_progress", processing_days=7, received_at=local_datetime(2025, 6, 2, 9))
    assert case.due_date == dt.date(2025, 6, 23)  # the owner's 15 working days
    return case


def test_the_new_owner_gets_the_rules_terms_and_a_deadline_from_receipt(city, misrouted_in_progress, clock):
    case = misrouted_in_progress
    head = city.user("head")
    city.permit_rule.decision_level = DecisionLevel.CITY_COMMITTEE
    city.permit_rule.save()
    transferred_at = clock.set(local_datetime(2025, 6, 5, 10))
    case_transfer(case=case, actor=head, to=city.outsider, reason=REASON, expected_version=case.version)
    case.refresh_from_db()
    assert (case.status, case.owner, case.assignee, case.accepted_at) == (Status.ROUTED, city.outsider, None, None)
    assert case.rule == city.permit_rule
    assert case.rule_snapshot["owner"] == "stc"
    assert case.rule_snapshot["processing_days"] == 7
    assert case.decision_level == DecisionLevel.CITY_COMMITTEE
    assert case.due_date == dt.date(2025, 6, 11)  # 7 working days after Monday 2 June, not after the transfer
    assert (case.handed_over_at, case.handover_late, case.triage_reason) == (transferred_at, None, "")
    event = case.events.get(action=EventAction.TRANSFERRED)
    assert (event.actor, event.note) == (head, REASON)
    assert (event.from_department, event.to_department) == (city.owner, city.outsider)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.ROUTED)
    assert event.payload == {"rule": city.permit_rule.pk, "due_date": "2025-06-11"}


def test_after_a_transfer_only_the_new_owner_acts(city, misrouted_in_progress):
    case = case_transfer(case=misrouted_in_progress, actor=city.user("deputy"), to=city.outsider, reason=REASON)
    assert_refused(case_accept, code="not_owner", attempted="accept", case=case, actor=city.user("specialist"))
    case = case_accept(case=case, actor=city.user("outsider_specialist"))
    assert (case.status, case.assignee) == (Status.IN_PROGRESS, city.user("outsider_specialist"))


@pytest.mark.parametrize("status", ["routed", "in_progress"])
def test_transferring_own_authority_work_is_refused(city, stages, status):
    case = stages(status)
    refusal = assert_refused(case_transfer, code="within_own_authority", attempted="transfer", case=case,
                             actor=city.user("head"), to=city.outsider, reason="Quá tải")
    assert refusal.payload == {"target": "stc"}
    assert case.events.order_by("-id").first().payload["target"] == "stc"


@pytest.mark.parametrize("target", ["consulted", "owner", "city_office"])
def test_a_transfer_to_a_unit_the_rules_do_not_name_is_refused(city, stages, target):
    case = stages.misrouted()
    to = getattr(city, target)
    refusal = assert_refused(case_transfer, code="target_not_competent", attempted="transfer", case=case,
                             actor=city.user("head"), to=to, reason=REASON)
    assert "stc" in refusal.detail  # the refusal names the competent unit
    assert refusal.payload == {"target": to.code}


@pytest.mark.parametrize("gap", ["no_rule", "ambiguous_rule"])
def test_a_transfer_when_no_rule_names_a_unit_is_refused(city, stages, gap):
    case = stages.routed()
    if gap == "no_rule":
        city.permit_rule.active = False
        city.permit_rule.save()
    else:
        AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider)
        AuthorityRule.objects.create(case_type=city.permit, owner=city.consulted)
        city.permit_rule.delete()
    assert_refused(case_transfer, code="target_not_competent", attempted="transfer", case=case,
                   actor=city.user("head"), to=city.outsider, reason=REASON)


def test_a_routed_case_is_transferred_too(city, stages):
    case = stages.misrouted()
    case = case_transfer(case=case, actor=city.user("head"), to=city.outsider, reason=REASON)
    assert (case.status, case.owner) == (Status.ROUTED, city.outsider)
    assert case.events.get(action=EventAction.TRANSFERRED).from_status == Status.ROUTED


def test_late_work_transferred_is_flagged_afresh_for_the_new_owners_head(city, stages, clock):
    """The sweep's flag is for the owner that owed the work: after a transfer the new owner's head hears of it."""
    from cases.deadlines import flag_overdue
    from cases.models import DeadlineFlag, NoticeKind, Notification

    clock.set(local_datetime(2025, 6, 2, 9, 30))
    case = stages.misrouted("in_progress", processing_days=15, received_at=local_datetime(2025, 6, 2, 9))
    clock.set(local_datetime(2025, 6, 24, 10))  # due Monday 23 June: one working day late
    assert flag_overdue().cases_overdue == 1
    case.refresh_from_db()
    case_transfer(case=case, actor=city.user("head"), to=city.outsider, reason=REASON, expected_version=case.version)
    case.refresh_from_db()
    assert (case.due_date, mark_of(case).flag) == (dt.date(2025, 6, 23), DeadlineFlag.NONE)

    assert flag_overdue().cases_overdue == 1
    told = set(Notification.objects.filter(case=case, kind=NoticeKind.OVERDUE)
               .values_list("recipient__username", flat=True))
    # The first owner's head and assignee at the first sweep, the new owner's head at the second.
    assert told == {"head", "specialist", "outsider_head"}
