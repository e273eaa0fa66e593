import pytest
from rest_framework.test import APIClient

from cases.models import CaseEvent, Status
from departments.models import AuthorityRule, CaseType
from tests.support.api import DETAIL_FIELDS, NON_CLERKS
from tests.support.world import make_user


def route_url(case):
    return f"/api/v1/cases/{case.reference}/route/"


@pytest.fixture
def triage_case(city, log_case):
    petition = CaseType.objects.create(code="petition", name="Đơn kiến nghị", processing_days=10)
    return log_case(case_type=petition, title="Kiến nghị về lấn chiếm vỉa hè")


def test_clerk_routes_a_triage_case(api, triage_case):
    response = api("clerk").post(route_url(triage_case), {"to": "stc", "note": "Thuộc lĩnh vực tài chính"},
                                 format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert (body["status"], body["owner"], body["triage_reason"]) == ("routed", "stc", "")
    assert body["due_date"] is not None
    last = body["events"][-1]
    assert (last["action"], last["actor"], last["to_department"], last["note"]) == (
        "routed_manually", "clerk", "stc", "Thuộc lĩnh vực tài chính")


def test_admin_routes_too(api, triage_case):
    assert api("admin").post(route_url(triage_case), {"to": "sxd"}, format="json").status_code == 200


def test_tied_rules_route_to_one_of_the_tied_owners(api, city, log_case):
    AuthorityRule.objects.create(case_type=city.permit, owner=city.ward, locality=city.ward)
    tied = AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider, locality=city.ward)
    case = log_case(locality=city.ward)
    assert case.triage_reason == "ambiguous_rule"

    refused = api("clerk").post(route_url(case), {"to": "snnmt"}, format="json")
    routed = api("clerk").post(route_url(case), {"to": "stc"}, format="json")

    assert refused.status_code == 409
    assert refused.json()["code"] == "target_not_competent"
    assert (routed.status_code, routed.json()["rule"]) == (200, tied.pk)


def test_refusal_is_409_with_code_and_recorded(api, triage_case):
    response = api("clerk").post(route_url(triage_case), {"to": "ubnd"}, format="json")

    assert response.status_code == 409
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == "target_not_competent"
    triage_case.refresh_from_db()
    assert (triage_case.status, triage_case.owner) == (Status.TRIAGE, None)
    refusal = CaseEvent.objects.filter(case=triage_case, action="refused").get()
    assert refusal.payload["code"] == "target_not_competent"
    assert refusal.actor.username == "clerk"


def test_routing_a_case_already_routed_is_invalid_transition(api, log_case):
    case = log_case()

    response = api("clerk").post(route_url(case), {"to": "sxd"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


# Who sees a case waiting in the owner's intake desk's triage queue without being that desk.
SEES_TRIAGE = {"city_office", "inspector", "home_affairs"}


@pytest.mark.parametrize("role", NON_CLERKS)
def test_only_the_intake_desk_routes(api, triage_case, role):
    """Those who see the case but are not its intake desk may not (403); to anyone else it does not exist."""
    response = api(role).post(route_url(triage_case), {"to": "stc"}, format="json")

    assert response.status_code == (403 if role in SEES_TRIAGE else 404)
    triage_case.refresh_from_db()
    assert triage_case.status == Status.TRIAGE
    assert not CaseEvent.objects.filter(case=triage_case, action__in=["refused", "routed_manually"]).exists()


@pytest.mark.parametrize(("body", "field"), [({}, "to"), ({"to": "khong-co"}, "to"), ({"to": None}, "to"),
                                             ({"to": "stc", "note": "x" * 10_001}, "note")])
def test_bad_route_input(api, triage_case, body, field):
    response = api("clerk").post(route_url(triage_case), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    triage_case.refresh_from_db()
    assert triage_case.status == Status.TRIAGE


def test_unknown_case_is_404(api, city):
    response = api("clerk").post("/api/v1/cases/SXD-000000-0001/route/", {"to": "stc"}, format="json")

    assert response.status_code == 404


def test_route_only_takes_post(api, triage_case):
    assert api("clerk").get(route_url(triage_case)).status_code == 405



def test_clerk_of_another_unit_cannot_see_a_routed_case(city, log_case):
    case = log_case()
    client = APIClient()
    client.force_login(make_user("stc_clerk", department=city.outsider, role="clerk"))

    assert client.get(f"/api/v1/cases/{case.reference}/").status_code == 404
    assert client.post(route_url(case), {"to": "stc"}, format="json").status_code == 404
    assert not CaseEvent.objects.filter(case=case, action="refused").exists()
