"""Manual routing from the triage queue by the intake desk (DESIGN.md §2 rule 1, §4)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from cases.models import EventAction, Status
from cases.services import case_route
from core.refusals import Refused
from departments.models import AuthorityRule
from tests.support.world import local_datetime


@pytest.fixture
def no_rule_case(city, log_case):
    city.permit_rule.delete()
    return log_case(received_at=local_datetime(2026, 11, 25, 9))


@pytest.fixture
def tied_case(city, log_case):
    tied = AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider, processing_days=4,
                                        legal_basis="Quyết định 1")
    case = log_case(received_at=local_datetime(2026, 11, 25, 9))
    return case, tied


def test_clerk_routes_a_rule_gap_case_with_the_case_type_days(city, no_rule_case):
    case = case_route(case=no_rule_case, actor=city.user("clerk"), to=city.outsider, note="Theo chỉ đạo")
    assert case.status == Status.ROUTED
    assert case.owner == city.outsider
    assert case.rule is None
    assert case.due_date == dt.date(2026, 12, 16)  # the case type's 15 working days
    assert case.triage_reason == ""
    event = case.events.get(action=EventAction.ROUTED_MANUALLY)
    assert (event.actor, event.to_department, event.note) == (city.user("clerk"), city.outsider, "Theo chỉ đạo")
    assert (event.from_status, event.to_status) == (Status.TRIAGE, Status.ROUTED)


def test_tied_case_goes_to_one_of_the_tied_owners_with_its_rule(city, tied_case):
    case, tied = tied_case
    case = case_route(case=case, actor=city.user("clerk"), to=city.outsider)
    assert case.rule == tied
    assert case.rule_snapshot["legal_basis"] == "Quyết định 1"
    assert case.due_date == dt.date(2026, 12, 1)  # the tied rule's 4 working days


def test_tied_case_refuses_an_owner_outside_the_tie(city, tied_case):
    case, _ = tied_case
    with pytest.raises(Refused) as refusal:
        case_route(case=case, actor=city.user("clerk"), to=city.consulted)
    assert refusal.value.code == "target_not_competent"
    case.refresh_from_db()
    assert case.status == Status.TRIAGE


def test_when_a_rule_names_the_owner_no_other_unit_is_accepted(city, log_case):
    city.permit_rule.active = False
    city.permit_rule.save()
    case = log_case()
    city.permit_rule.active = True
    city.permit_rule.save()
    with pytest.raises(Refused) as refusal:
        case_route(case=case, actor=city.user("clerk"), to=city.outsider)
    assert refusal.value.code == "target_not_competent"
    assert case_route(case=case, actor=city.user("clerk"), to=city.owner).rule == city.permit_rule


def test_routing_a_case_outside_triage_is_an_invalid_transition(city, log_case):
    case = log_case()
    with pytest.raises(Refused) as refusal:
        case_route(case=case, actor=city.user("clerk"), to=city.owner)
    assert refusal.value.code == "invalid_transition"


def test_refusals_are_recorded_with_the_actor(city, tied_case):
    case, _ = tied_case
    with pytest.raises(Refused):
        case_route(case=case, actor=city.user("clerk"), to=city.consulted)
    refused = case.events.get(action=EventAction.REFUSED)
    assert refused.actor == city.user("clerk")
    assert refused.payload == {"code": "target_not_competent", "attempted": "route", "target": "snnmt"}
    assert refused.from_status == refused.to_status == Status.TRIAGE


def test_the_city_committee_takes_no_cases_by_routing(city, no_rule_case):
    with pytest.raises(Refused) as refusal:
        case_route(case=no_rule_case, actor=city.user("clerk"), to=city.city_committee)
    assert refusal.value.code == "target_not_competent"


@pytest.mark.parametrize("username", ["head", "specialist", "outsider_head", "inspector", "city_office"])
def test_only_the_intake_desk_routes(city, no_rule_case, username):
    with pytest.raises(PermissionDenied):
        case_route(case=no_rule_case, actor=city.user(username), to=city.owner)
    no_rule_case.refresh_from_db()
    assert no_rule_case.status == Status.TRIAGE


def test_late_manual_routing_counts_against_the_intake_desk(city, log_case):
    city.permit_rule.delete()
    case = log_case(received_at=local_datetime(2026, 11, 2, 9))
    case = case_route(case=case, actor=city.user("clerk"), to=city.owner)
    assert case.handover_late is True
