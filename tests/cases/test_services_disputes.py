"""Rule disputes: the owner objects to the rule instead of returning its own work (DESIGN.md §2 rule 5)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from cases.models import DisputeStatus, EventAction, RuleDispute, Status
from cases.services import case_dispute, case_transfer, dispute_settle, open_disputes
from core.refusals import Refused
from tests.support.cases import assert_denied, assert_refused

REASON = "Công trình thuộc dự án do Sở Tài chính thẩm định; đề nghị sửa quy định"


def test_the_owner_files_a_dispute_and_keeps_the_case(city, stages):
    case = stages.in_progress()
    specialist = city.user("specialist")
    version = case.version
    dispute = case_dispute(case=case, actor=specialist, reason=REASON, expected_version=version)
    assert (dispute.case, dispute.rule, dispute.department, dispute.filed_by) == (
        case, city.permit_rule, city.owner, specialist)
    assert (dispute.status, dispute.reason) == (DisputeStatus.OPEN, REASON)
    case.refresh_from_db()
    assert (case.status, case.owner, case.assignee) == (Status.IN_PROGRESS, city.owner, specialist)
    assert case.version == version + 1
    event = case.events.get(action=EventAction.DISPUTE_FILED)
    assert (event.actor, event.note) == (specialist, REASON)
    assert event.payload == {"dispute": dispute.pk, "rule": city.permit_rule.pk}
    assert list(open_disputes(city.user("admin"))) == [dispute]


def test_one_open_dispute_per_case_and_unit(city, stages):
    case = stages.routed()
    case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    assert_refused(case_dispute, code="dispute_already_open", attempted="dispute", case=case,
                   actor=city.user("head"), reason="Nộp lại")
    assert RuleDispute.objects.count() == 1


def test_the_database_holds_one_open_dispute_per_case_and_unit(city, stages):
    case = stages.routed()
    dispute = case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleDispute.objects.create(case=case, rule=city.permit_rule, department=city.owner,
                                   filed_by=city.user("head"), reason="Trùng")
    assert list(RuleDispute.objects.all()) == [dispute]


def test_another_owner_may_dispute_while_the_first_dispute_is_open(city, stages):
    case = stages.misrouted()
    case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    case = case_transfer(case=case, actor=city.user("head"), to=city.outsider, reason="Theo quy định mới")
    theirs = case_dispute(case=case, actor=city.user("outsider_specialist"), reason="Không thuộc Sở Tài chính")
    assert theirs.department == city.outsider
    assert [d.department for d in open_disputes(city.user("admin"))] == [city.owner, city.outsider]


def test_after_settlement_the_unit_may_dispute_again(city, stages):
    case = stages.routed()
    first = case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    dispute_settle(dispute=first, actor=city.user("admin"), status=DisputeStatus.DISMISSED, note="Quy định đúng")
    second = case_dispute(case=case, actor=city.user("specialist"), reason="Có căn cứ mới")
    assert list(open_disputes(city.user("admin"))) == [second]


@pytest.mark.parametrize("settlement", [DisputeStatus.RULE_CHANGED, DisputeStatus.DISMISSED])
def test_an_administrator_settles_a_dispute_with_a_note(city, stages, settlement):
    case = stages.routed()
    dispute = case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    admin = city.user("admin")
    settled = dispute_settle(dispute=dispute, actor=admin, status=settlement, note="Đã xem xét")
    settled.refresh_from_db()
    assert (settled.status, settled.settled_by, settled.settlement_note) == (settlement, admin, "Đã xem xét")
    assert settled.settled_at is not None
    assert not open_disputes(city.user("admin")).exists()
    event = case.events.get(action=EventAction.DISPUTE_SETTLED)
    assert (event.actor, event.note) == (admin, "Đã xem xét")
    assert (event.from_status, event.to_status) == (Status.ROUTED, Status.ROUTED)
    assert event.payload == {"dispute": dispute.pk, "settlement": settlement}
    case.refresh_from_db()
    assert (case.status, case.owner) == (Status.ROUTED, city.owner)


def test_a_dispute_is_settled_once(city, stages):
    case = stages.routed()
    dispute = case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    admin = city.user("admin")
    dispute_settle(dispute=dispute, actor=admin, status=DisputeStatus.RULE_CHANGED, note="Đã sửa quy định")
    with pytest.raises(Refused) as refusal:
        dispute_settle(dispute=dispute, actor=admin, status=DisputeStatus.DISMISSED, note="Bác")
    assert refusal.value.code == "invalid_transition"
    dispute.refresh_from_db()
    assert (dispute.status, dispute.settlement_note) == (DisputeStatus.RULE_CHANGED, "Đã sửa quy định")
    assert case.events.filter(action=EventAction.DISPUTE_SETTLED).count() == 1
    refused = case.events.get(action=EventAction.REFUSED)
    assert (refused.actor, refused.payload["code"], refused.payload["attempted"]) == (
        admin, "invalid_transition", "settle_dispute")


@pytest.mark.parametrize("role", ["head", "city_office", "inspector", "home_affairs", "clerk", "nobody"])
def test_only_an_administrator_settles(city, stages, role):
    case = stages.routed()
    dispute = case_dispute(case=case, actor=city.user("specialist"), reason=REASON)
    with pytest.raises(PermissionDenied):
        dispute_settle(dispute=dispute, actor=city.user(role), status=DisputeStatus.DISMISSED, note="Bác")
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    assert not case.events.filter(action=EventAction.DISPUTE_SETTLED).exists()


def test_open_is_not_a_settlement(city, stages):
    dispute = case_dispute(case=stages.routed(), actor=city.user("specialist"), reason=REASON)
    with pytest.raises(ValueError):
        dispute_settle(dispute=dispute, actor=city.user("admin"), status=DisputeStatus.OPEN, note="")


@pytest.mark.parametrize("role", ["outsider_head", "consulted_specialist", "inspector"])
def test_only_the_owner_disputes(city, stages, role):
    assert_refused(case_dispute, code="not_owner", attempted="dispute", case=stages.routed(),
                   actor=city.user(role), reason=REASON)


def test_the_intake_desk_does_not_dispute(city, stages):
    assert_denied(case_dispute, case=stages.routed(), actor=city.user("clerk"), reason=REASON)
