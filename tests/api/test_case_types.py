import pytest

from departments import generations
from departments.models import CaseType
from tests.support.api import NON_ADMINS, ROLES

URL = "/api/v1/case-types/"
NEW_TYPE = {"code": "business-registration", "name": "Đăng ký kinh doanh", "processing_days": 3,
            "consultation_days": None}


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_role_lists_case_types(api, role):
    response = api(role).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_case_type_fields(api):
    response = api("clerk").get(f"{URL}building-permit/")

    assert response.json() == {"code": "building-permit", "name": "Cấp giấy phép xây dựng", "processing_days": 15,
                               "consultation_days": 5}


def test_admin_creates_a_case_type(api):
    response = api("admin").post(URL, NEW_TYPE, format="json")

    assert response.status_code == 201
    assert response.json() == NEW_TYPE
    assert CaseType.objects.get(code="business-registration").processing_days == 3


def test_admin_updates_days_and_the_routing_index_moves(api):
    before = generations.current(generations.RULES)

    response = api("admin").patch(f"{URL}land-allocation/", {"processing_days": 30}, format="json")

    assert response.status_code == 200
    assert CaseType.objects.get(code="land-allocation").processing_days == 30
    assert generations.current(generations.RULES) != before


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admin_writes_case_types(api, role):
    client = api(role)

    assert client.post(URL, NEW_TYPE, format="json").status_code == 403
    assert client.patch(f"{URL}building-permit/", {"processing_days": 1}, format="json").status_code == 403
    assert CaseType.objects.count() == 2
    assert CaseType.objects.get(code="building-permit").processing_days == 15


@pytest.mark.parametrize(("body", "field"), [
    ({"processing_days": 0}, "processing_days"),
    ({"processing_days": -3}, "processing_days"),
    ({"processing_days": 100000}, "processing_days"),
    ({"consultation_days": 0}, "consultation_days"),
    ({"code": "building-permit"}, "code"),
    ({"name": ""}, "name"),
])
def test_bad_case_type_input(api, body, field):
    response = api("admin").post(URL, {**NEW_TYPE, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert CaseType.objects.count() == 2


def test_case_type_code_cannot_change(api):
    response = api("admin").patch(f"{URL}building-permit/", {"code": "permit"}, format="json")

    assert response.status_code == 400
    assert CaseType.objects.filter(code="building-permit").exists()


def test_case_types_are_not_deleted_over_the_api(api):
    assert api("admin").delete(f"{URL}building-permit/").status_code == 405


def test_case_type_writes_go_through_the_service(api, monkeypatch):
    from departments import services

    calls = []
    real = services.case_type_save
    monkeypatch.setattr(services, "case_type_save", lambda **kwargs: calls.append(kwargs["case_type"]) or real(
        **kwargs))
    admin = api("admin")

    admin.post(URL, NEW_TYPE, format="json")
    admin.patch(f"{URL}business-registration/", {"processing_days": 5}, format="json")

    assert [getattr(case_type, "code", None) for case_type in calls] == [None, "business-registration"]
    assert CaseType.objects.get(code="business-registration").processing_days == 5


def test_case_type_periods_beyond_the_deadline_arithmetic_are_refused(api):
    response = api("admin").post(URL, {**NEW_TYPE, "processing_days": 1001}, format="json")

    assert response.status_code == 400
    assert "processing_days" in response.json()
