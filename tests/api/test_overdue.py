"""`GET /api/v1/overdue/?department=` (DESIGN.md §2 rule 9, §5): a unit's overdue and due-soon cases and the
opinions it owes, key tasks first, then the most working days late; its own staff see their unit, the
city-wide roles any unit; a constant number of queries.

"Now" is Wednesday 3 June 2026, 10:00: today is 3 June and the next working day, 4 June, is still due soon.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, Consultation
from cases.services import case_resolve
from tests.support.api import ROLES, Consults
from tests.support.world import local_datetime

URL = "/api/v1/overdue/"
CASE_FIELDS = {"reference", "title", "status", "owner", "assignee", "due_date", "overdue", "due_soon",
               "working_days_late", "key_task", "legal_basis"}
CONSULTATION_FIELDS = {"id", "case", "department", "due_date", "overdue", "due_soon", "working_days_late", "assignee",
                       "required", "round", "key_task"}
NOW = local_datetime(2026, 6, 3, 10)


def due(item, day: dt.date, *, key_task=None, **fields):
    """Give a case or consultation the due date (and key-task flag) the test needs."""
    if key_task is not None:
        case_id = item.pk if isinstance(item, Case) else item.case_id
        Case.unscoped.filter(pk=case_id).update(key_task=key_task)
    type(item)._default_manager.filter(pk=item.pk).update(due_date=day, **fields)
    item.refresh_from_db()
    return item


@pytest.fixture
def consults(city, log_case):
    return Consults(city, log_case)


@pytest.fixture
def desk(city, consults, monkeypatch):
    """sxd's late and due-soon work, with what must stay off its desk."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: local_datetime(2026, 5, 4, 9))
    world = {
        "late": due(consults.permit(title="Nhà ở riêng lẻ số 8 Lê Lợi"), dt.date(2026, 5, 20)),
        "key_late": due(consults.permit(title="Trường tiểu học Lê Chân"), dt.date(2026, 5, 29), key_task=True),
        "key_today": due(consults.permit(title="Cầu Rào 3, hạng mục nhánh"), dt.date(2026, 6, 3), key_task=True),
        "soon": due(consults.permit(title="Sửa chữa nhà số 3 Cầu Đất"), dt.date(2026, 6, 4)),
        "later": due(consults.permit(title="Cải tạo chợ Sắt"), dt.date(2026, 6, 5)),
    }
    finished = consults.permit(title="Nhà văn hoá tổ dân phố 5")
    world["finished"] = due(case_resolve(case=finished, actor=city.user("head"), note="Đã cấp phép"),
                            dt.date(2026, 5, 11))
    world["elsewhere"] = due(consults.permit(title="Kho bạc quận cũ"), dt.date(2026, 5, 11), owner=city.outsider)
    land = consults.land(title="Giao đất khu tái định cư Vĩnh Niệm")
    asked = {c.department.code: c for c in consults.ask(land, "sxd", "stc")}
    world["land_sxd"] = due(asked["sxd"], dt.date(2026, 5, 25), assignee=city.user("specialist"))
    world["land_stc"] = due(asked["stc"], dt.date(2026, 5, 25))
    key_land = consults.land(title="Giao đất xây dựng bệnh viện")
    [world["key_land_sxd"]] = consults.ask(key_land, "sxd")
    due(world["key_land_sxd"], dt.date(2026, 6, 4), key_task=True)
    [world["not_due_yet"]] = consults.ask(consults.land(title="Cho thuê đất cảng cá"), "sxd")
    due(world["not_due_yet"], dt.date(2026, 6, 10))
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return world


def overdue(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def references(body):
    return [item["reference"] for item in body["cases"]]


def consultation_ids(body):
    return [item["id"] for item in body["consultations"]]


SXD_CASES = ["key_late", "key_today", "late", "soon"]
SXD_CONSULTATIONS = ["key_land_sxd", "land_sxd"]


def test_key_tasks_first_then_the_most_days_late(api, desk):
    body = overdue(api("head"))

    assert set(body) == {"cases", "consultations"}
    assert references(body) == [desk[name].reference for name in SXD_CASES]
    assert consultation_ids(body) == [desk[name].pk for name in SXD_CONSULTATIONS]


def test_each_case_tells_how_late_it_is_and_by_which_rule(api, desk):
    cases = {item["reference"]: item for item in overdue(api("head"))["cases"]}

    assert all(set(item) == CASE_FIELDS for item in cases.values())
    assert cases[desk["late"].reference] == {
        "reference": desk["late"].reference, "title": "Nhà ở riêng lẻ số 8 Lê Lợi", "status": "in_progress",
        "owner": "sxd", "assignee": "specialist", "due_date": "2026-05-20", "overdue": True, "due_soon": False,
        # 21, 22, 25–29 May, 1–3 June.
        "working_days_late": 10, "key_task": False, "legal_basis": "Luật Xây dựng 2014, Điều 103"}
    # 1, 2 and 3 June: the weekend does not count.
    assert (cases[desk["key_late"].reference]["working_days_late"], cases[desk["key_late"].reference]["key_task"]) == (
        3, True)
    today = cases[desk["key_today"].reference]
    assert (today["overdue"], today["due_soon"], today["working_days_late"]) == (False, True, 0)
    soon = cases[desk["soon"].reference]
    assert (soon["overdue"], soon["due_soon"], soon["working_days_late"]) == (False, True, 0)


def test_each_consultation_names_its_case_unit_and_handler(api, desk):
    consultations = {item["id"]: item for item in overdue(api("head"))["consultations"]}

    assert all(set(item) == CONSULTATION_FIELDS for item in consultations.values())
    assert consultations[desk["land_sxd"].pk] == {
        "id": desk["land_sxd"].pk, "case": desk["land_sxd"].case.reference, "department": "sxd",
        "due_date": "2026-05-25", "overdue": True, "due_soon": False,
        "working_days_late": 7, "assignee": "specialist", "required": True, "round": 1, "key_task": False}
    key = consultations[desk["key_land_sxd"].pk]
    assert (key["overdue"], key["due_soon"], key["working_days_late"], key["assignee"], key["key_task"]) == (
        False, True, 0, None, True)


@pytest.mark.parametrize("role", ["head", "deputy"])
def test_a_units_leads_see_their_own_unit_by_default_or_by_name(api, desk, role):
    client = api(role)
    assert references(overdue(client)) == [desk[name].reference for name in SXD_CASES]
    assert overdue(client, department="sxd") == overdue(client)
    assert overdue(client, department="") == overdue(client)


@pytest.mark.parametrize("role", ["specialist", "clerk"])
def test_a_units_specialists_and_clerks_read_no_desk(api, desk, role):
    """As on the page: the desk is the leads'; a specialist finds their own late work in their queue."""
    for params in ({}, {"department": "sxd"}):
        response = api(role).get(URL, params)
        assert response.status_code == 403
        assert "cases" not in response.json()


def test_another_unit_sees_its_own_desk(api, desk):
    body = overdue(api("outsider_head"))
    assert references(body) == [desk["elsewhere"].reference]
    assert consultation_ids(body) == [desk["land_stc"].pk]
    body = overdue(api("consulted_head"))
    # snnmt owes no opinion; its own land cases, received on 4 May with 20 working days, fall due on 1 June.
    assert body["consultations"] == []
    assert references(body) == [desk["key_land_sxd"].case.reference, desk["land_sxd"].case.reference,
                                desk["not_due_yet"].case.reference]
    assert {(item["owner"], item["due_date"]) for item in body["cases"]} == {("snnmt", "2026-06-01")}


@pytest.mark.parametrize("role", ["city_office", "inspector", "home_affairs", "admin", "committee_head"])
def test_the_city_wide_roles_and_the_committees_leads_see_any_unit(api, desk, role):
    client = api(role)
    assert references(overdue(client, department="sxd")) == [desk[name].reference for name in SXD_CASES]
    assert consultation_ids(overdue(client, department="stc")) == [desk["land_stc"].pk]


@pytest.mark.parametrize("role", [r for r in ROLES if r not in {"head", "deputy", "city_office", "inspector",
                                                                "home_affairs", "admin", "committee_head"}])
def test_nobody_else_sees_another_units_desk(api, desk, role):
    response = api(role).get(URL, {"department": "sxd"})
    assert response.status_code == 403
    assert "cases" not in response.json()


def test_a_user_without_a_unit_is_refused(api, desk):
    assert api("nobody").get(URL).status_code == 403


def test_an_admin_without_a_unit_must_name_one(api, desk):
    response = api("admin").get(URL)
    assert response.status_code == 400
    assert "department" in response.json()


def test_an_unknown_unit_is_a_field_error_for_the_city_wide_roles(api, desk):
    response = api("inspector").get(URL, {"department": "no-such-unit"})
    assert response.status_code == 400
    assert "department" in response.json()


def test_an_unknown_unit_tells_a_units_staff_nothing(api, desk):
    assert api("outsider_head").get(URL, {"department": "no-such-unit"}).status_code == 403


def test_signed_out_is_401(api, desk):
    assert api().get(URL).status_code == 401


def test_token_authentication(city, desk):
    from rest_framework.test import APIClient

    from tests.support.api import obtain_token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {obtain_token('head').json()['token']}")
    assert references(overdue(client)) == [desk[name].reference for name in SXD_CASES]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_read_only(api, desk, method):
    assert getattr(api("head"), method)(URL).status_code == 405


def test_each_list_is_capped(api, desk, monkeypatch):
    monkeypatch.setattr("cases.api.deadlines.MAX_ITEMS", 2)
    body = overdue(api("head"))
    assert references(body) == [desk[name].reference for name in SXD_CASES[:2]]
    assert len(body["consultations"]) == 2


def test_the_queries_do_not_grow_with_the_rows(api, desk, consults, city, monkeypatch):
    client = api("head")
    with CaptureQueriesContext(connection) as few:
        overdue(client)
    monkeypatch.setattr("django.utils.timezone.now", lambda: local_datetime(2026, 5, 4, 9))
    for number in range(6):
        due(consults.permit(title=f"Nhà ở số {number}"), dt.date(2026, 5, 12 + number), key_task=number % 2 == 0)
        [asked] = consults.ask(consults.land(title=f"Giao đất lô {number}"), "sxd")
        due(asked, dt.date(2026, 5, 12 + number), assignee=city.user("deputy"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    with CaptureQueriesContext(connection) as many:
        body = overdue(client)
    assert (len(body["cases"]), len(body["consultations"])) == (10, 8)
    assert len(many) == len(few), [query["sql"] for query in many]
    assert Consultation.unscoped.count() > 8


def test_the_schema_documents_the_parameter_and_the_cap(db):
    from drf_spectacular.generators import SchemaGenerator

    operation = SchemaGenerator().get_schema(request=None, public=True)["paths"]["/api/v1/overdue/"]["get"]
    assert [parameter["name"] for parameter in operation["parameters"]] == ["department"]
    assert "at most 500" in operation["description"]
    assert {"200", "400", "403"} <= set(operation["responses"])
