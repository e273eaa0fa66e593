"""Reading consultations over HTTP (DESIGN.md §5): the list and its filters, one consultation, the case
detail's `consultations`, token authentication, and query counts that do not grow with the rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases.services import (
    case_reconcile,
    consultation_assign,
    consultation_respond,
    deem_silent_consultations_agreed,
)
from tests.support.api import CONSULTATION_FIELDS, CONSULTATIONS, Consults, obtain_token
from tests.support.world import local_datetime

CASES = "/api/v1/cases/"


@pytest.fixture
def consults(city, log_case):
    return Consults(city, log_case)


@pytest.fixture
def world(consults, monkeypatch):
    """A permit of sxd asking snnmt (answered) and stc (overdue); a land case of snnmt asking sxd and stc."""
    asked_on = local_datetime(2025, 11, 3, 9)
    monkeypatch.setattr("django.utils.timezone.now", lambda: asked_on)
    permit = consults.permit(received_at=asked_on)
    permit_asked = {c.department.code: c for c in consults.ask(permit, "snnmt", "stc")}
    monkeypatch.undo()
    consultation_respond(consultation=permit_asked["snnmt"], actor=consults.user("consulted_head"),
                         position="agree")
    land = consults.land()
    land_asked = {c.department.code: c for c in consults.ask(land, "sxd", "stc")}
    return {"permit": permit, "land": land, "permit_snnmt": permit_asked["snnmt"],
            "permit_stc": permit_asked["stc"], "land_sxd": land_asked["sxd"], "land_stc": land_asked["stc"]}


def listed(client, **filters) -> list[dict]:
    response = client.get(CONSULTATIONS, filters)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def ids(rows) -> set[int]:
    return {row["id"] for row in rows}


def test_the_list_has_exactly_the_contract_fields(api, world):
    rows = listed(api("inspector"))

    assert len(rows) == 4
    assert all(set(row) == CONSULTATION_FIELDS for row in rows)
    answered = next(row for row in rows if row["id"] == world["permit_snnmt"].pk)
    assert {key: answered[key] for key in ("case", "department", "status", "position", "round", "required",
                                           "requested_by", "answered_by", "answered_late", "overdue")} == {
        "case": world["permit"].reference, "department": "snnmt", "status": "answered", "position": "agree",
        "round": 1, "required": False, "requested_by": "specialist", "answered_by": "consulted_head",
        "answered_late": True, "overdue": False}


def test_the_list_is_paginated_soonest_due_first(api, world):
    response = api("admin").get(CONSULTATIONS, {"page_size": 3})

    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert (data["count"], len(data["results"])) == (4, 3)
    due_dates = [row["due_date"] for row in listed(api("admin"))]
    assert due_dates == sorted(due_dates)


def test_retrieve_shows_what_the_list_shows(api, world):
    client = api("consulted_head")
    row = next(row for row in listed(client) if row["id"] == world["permit_snnmt"].pk)

    response = client.get(f"{CONSULTATIONS}{world['permit_snnmt'].pk}/")

    assert response.status_code == 200
    assert response.json() == row


@pytest.mark.parametrize(("filters", "expected"), [
    ({"department": "stc"}, {"permit_stc", "land_stc"}),
    ({"department": "khong-co"}, set()),
    ({"status": "answered"}, {"permit_snnmt"}),
    ({"status": "open"}, {"permit_stc", "land_sxd", "land_stc"}),
    ({"status": "deemed_agreed"}, set()),
    ({"overdue": "true"}, {"permit_stc"}),
    ({"overdue": "false"}, {"permit_snnmt", "land_sxd", "land_stc"}),
    ({"required": "true"}, {"land_sxd", "land_stc"}),
    ({"required": "false"}, {"permit_snnmt", "permit_stc"}),
    ({"case": "land"}, {"land_sxd", "land_stc"}),
    ({"department": "stc", "overdue": "false"}, {"land_stc"}),
])
def test_filters(api, world, filters, expected):
    filters = {key: world[value].reference if key == "case" else value for key, value in filters.items()}

    assert ids(listed(api("inspector"), **filters)) == {world[name].pk for name in expected}


def test_an_unknown_status_is_400(api, world):
    response = api("inspector").get(CONSULTATIONS, {"status": "closed"})

    assert response.status_code == 400
    assert "status" in response.json()


def test_silence_shows_as_deemed_agreed(api, consults, monkeypatch):
    asked_on = local_datetime(2025, 11, 3, 9)
    monkeypatch.setattr("django.utils.timezone.now", lambda: asked_on)
    case = consults.land(received_at=asked_on)
    consults.ask(case, "sxd", "stc")
    monkeypatch.undo()

    assert deem_silent_consultations_agreed() == 2

    rows = listed(api("head"), status="deemed_agreed")
    assert [(row["department"], row["overdue"], row["position"]) for row in rows] == [("sxd", False, "")]


def test_the_case_detail_lists_its_consultations_and_reconciliations(api, consults):
    case = consults.land()
    asked = {c.department.code: c for c in consults.ask(case, "sxd", "stc")}
    consultation_assign(consultation=asked["stc"], actor=consults.user("outsider_head"),
                        assignee=consults.user("outsider_specialist"))
    consultation_respond(consultation=asked["stc"], actor=consults.user("outsider_specialist"),
                         position="disagree", comment="Chưa xác định nguồn vốn")
    case_reconcile(case=case, actor=consults.user("consulted_head"), consultation=asked["stc"],
                   note="Thống nhất tại cuộc họp liên ngành")
    client = api("inspector")

    detail = client.get(f"{CASES}{case.reference}/").json()

    # As on the case's page: by request, then by the consulted unit's name (Sở Tài chính before Sở Xây dựng).
    assert [c["department"] for c in detail["consultations"]] == ["stc", "sxd"]
    for shown in detail["consultations"]:
        assert set(shown) == CONSULTATION_FIELDS | {"reconciliation"}
        row = client.get(f"{CONSULTATIONS}{shown['id']}/").json()
        assert {key: value for key, value in shown.items() if key != "reconciliation"} == row
    stc, sxd = detail["consultations"]
    assert (sxd["status"], sxd["assignee"], sxd["reconciliation"]) == ("open", None, None)
    assert (stc["assignee"], stc["answered_by"], stc["position"]) == (
        "outsider_specialist", "outsider_specialist", "disagree")
    assert {key: stc["reconciliation"][key] for key in ("note", "recorded_by", "attachment")} == {
        "note": "Thống nhất tại cuộc họp liên ngành", "recorded_by": "consulted_head", "attachment": None}


def test_a_case_without_consultations_lists_none(api, consults):
    case = consults.permit()

    assert api("head").get(f"{CASES}{case.reference}/").json()["consultations"] == []


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def many_consultations(consults, cases: int) -> list:
    """`cases` permits of sxd, each asking snnmt and stc, snnmt assigned and answered, stc open."""
    permits = []
    for _ in range(cases):
        permit = consults.permit()
        asked = {c.department.code: c for c in consults.ask(permit, "snnmt", "stc")}
        consultation_assign(consultation=asked["snnmt"], actor=consults.user("consulted_head"),
                            assignee=consults.user("consulted_specialist"))
        consultation_respond(consultation=asked["snnmt"], actor=consults.user("consulted_specialist"),
                             position="disagree", comment="Chưa phù hợp quy hoạch")
        permits.append(permit)
    return permits


@pytest.mark.parametrize("role", ["inspector", "admin", "head", "consulted_specialist", "outsider_head", "clerk"])
def test_list_queries_do_not_grow_with_the_rows(api, consults, role):
    client = api(role)
    many_consultations(consults, 3)  # 6 consultations (3 for stc alone)
    few = queries(client, CONSULTATIONS)
    many_consultations(consults, 15)  # 36 consultations (18 for stc alone)

    assert queries(client, f"{CONSULTATIONS}?page_size=100") == few
    assert len(listed(client, page_size=100)) >= 18


def test_detail_queries_do_not_grow_with_its_consultations(api, consults):
    # The city office is consulted on neither case: both reads are recorded alike (the inspectorate is asked below).
    client = api("city_office")
    few, _ = consults.land_disagreement()
    many, asked = consults.land_disagreement()
    case_reconcile(case=many, actor=consults.user("consulted_head"), consultation=asked["stc"], note="Đã thống nhất")
    consults.ask(many, "stc", "ttr", "snv", "p-le-chan", "x-an-duong")

    assert queries(client, f"{CASES}{few.reference}/") == queries(client, f"{CASES}{many.reference}/")
    assert len(client.get(f"{CASES}{many.reference}/").json()["consultations"]) == 7


def test_a_token_reads_and_answers(city, consults):
    consultation = consults.open_permit_consultation()
    token = obtain_token("consulted_specialist").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    rows = client.get(CONSULTATIONS).json()["results"]
    answered = client.post(f"{CONSULTATIONS}{consultation.pk}/respond/",
                           {"position": "disagree", "comment": "Ảnh hưởng hệ thống thủy lợi"}, format="json")

    assert ids(rows) == {consultation.pk}
    assert (answered.status_code, answered.json()["answered_by"]) == (200, "consulted_specialist")


@pytest.mark.parametrize("credentials", [None, "Token khong-hop-le"])
def test_without_a_valid_token_it_is_401(city, consults, credentials):
    consultation = consults.open_permit_consultation()
    client = APIClient()
    if credentials:
        client.credentials(HTTP_AUTHORIZATION=credentials)

    assert client.get(CONSULTATIONS).status_code == 401
    assert client.get(f"{CONSULTATIONS}{consultation.pk}/").status_code == 401
    answered = client.post(f"{CONSULTATIONS}{consultation.pk}/respond/", {"position": "agree"}, format="json")
    assert answered.status_code == 401
    consultation.refresh_from_db()
    assert consultation.status == "open"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_consultations_are_read_only_apart_from_their_actions(api, consults, method):
    consultation = consults.open_permit_consultation()
    client = api("admin")

    assert getattr(client, method)(CONSULTATIONS, {}, format="json").status_code == 405
    if method != "post":
        assert getattr(client, method)(f"{CONSULTATIONS}{consultation.pk}/", {}, format="json").status_code == 405


def test_the_schema_documents_the_consultation_endpoints(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths, components = schema["paths"], schema["components"]["schemas"]

    opened = paths["/api/v1/cases/{reference}/consult/"]["post"]["responses"]
    assert opened["201"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Consultation"}}
    for path in ("/api/v1/cases/{reference}/consult/", "/api/v1/cases/{reference}/reconcile/",
                 "/api/v1/consultations/{id}/respond/", "/api/v1/consultations/{id}/assign/"):
        assert "409" in paths[path]["post"]["responses"], path
    parameters = {p["name"] for p in paths["/api/v1/consultations/"]["get"]["parameters"]}
    assert {"department", "status", "overdue", "case", "required", "page", "page_size"} <= parameters
    assert set(components["Consultation"]["properties"]) == CONSULTATION_FIELDS
    assert components["ConsultationStatusEnum"]["enum"] == ["open", "answered", "deemed_agreed", "withdrawn"]
    assert components["PositionEnum"]["enum"] == ["agree", "agree_with_comments", "disagree", "not_competent"]
