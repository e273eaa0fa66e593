"""Whatever a client sends, the answer is 400 with the field at fault, never a 500, and nothing is saved."""

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case, CaseEvent, ReferenceCounter
from departments.models import AuthorityRule, CalendarDay, CaseType, Department, Staff

VALID_CASE = {"title": "Xin cấp phép xây dựng nhà ở", "case_type": "building-permit", "locality": "p-le-chan",
              "amount": "2500000000", "applicant_name": "Nguyễn Văn An"}


def tomorrow():
    return (timezone.now() + dt.timedelta(days=1)).isoformat()


def in_a_minute():
    return (timezone.now() + dt.timedelta(minutes=1)).isoformat()


CASE_FIELD_ERRORS = [
    ({"received_at": tomorrow}, "received_at"),
    ({"received_at": in_a_minute}, "received_at"),
    ({"received_at": "0001-01-01T00:00:00"}, "received_at"),
    ({"received_at": "9999-12-31T23:59:59-12:00"}, "received_at"),
    ({"received_at": "24/11/2025 09:00"}, "received_at"),
    ({"received_at": None}, "received_at"),
    ({"amount": "-1"}, "amount"),
    ({"amount": -1}, "amount"),
    ({"amount": "1.5"}, "amount"),
    ({"amount": "1" * 19}, "amount"),
    ({"amount": "NaN"}, "amount"),
    ({"amount": "Infinity"}, "amount"),
    ({"amount": [1]}, "amount"),
    ({"case_type": "khong-co"}, "case_type"),
    ({"case_type": 1}, "case_type"),
    ({"locality": "khong-co"}, "locality"),
    ({"locality": "sxd"}, "locality"),
    ({"title": "x" * 100_000}, "title"),
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": {"vi": "Nhà"}}, "title"),
    ({"applicant_name": "x" * 201}, "applicant_name"),
    ({"applicant_contact": "x" * 201}, "applicant_contact"),
    ({"source": "email"}, "source"),
    ({"key_task": "có lẽ"}, "key_task"),
]


def saved_counts():
    return (Case.unscoped.count(), CaseEvent.objects.count(), ReferenceCounter.objects.count(),
            AuthorityRule.objects.count(), Department.objects.count(), CaseType.objects.count(),
            CalendarDay.objects.count(), Staff.objects.count())


@pytest.fixture
def unchanged(city):
    """Asserts, after the test, that nothing at all was saved."""
    before = saved_counts()
    yield
    assert saved_counts() == before


@pytest.mark.parametrize(("change", "field"), CASE_FIELD_ERRORS)
def test_bad_case_fields(api, unchanged, change, field):
    body = {**VALID_CASE, **{key: value() if callable(value) else value for key, value in change.items()}}

    response = api("clerk").post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("field", ["title", "case_type"])
def test_missing_required_case_field(api, unchanged, field):
    body = {key: value for key, value in VALID_CASE.items() if key != field}

    response = api("clerk").post("/api/v1/cases/", body, format="json")

    assert response.status_code == 400
    assert response.json()[field]


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/routing/preview/", "/api/v1/authority-rules/",
                                 "/api/v1/departments/", "/api/v1/staff/", "/api/v1/case-types/",
                                 "/api/v1/calendar/days/", "/api/v1/auth/token/"])
@pytest.mark.parametrize("payload", ['{"title": "Nhà",', "[1, 2", "\xff\xfe", "null"])
def test_malformed_json_is_400(api, unchanged, url, payload):
    response = api("admin").post(url, payload.encode("latin-1"), content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("url", ["/api/v1/cases/", "/api/v1/authority-rules/", "/api/v1/routing/preview/"])
def test_a_list_instead_of_an_object_is_400(api, unchanged, url):
    response = api("admin").post(url, [VALID_CASE], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_unsupported_media_type_is_415(api, unchanged):
    response = api("clerk").post("/api/v1/cases/", "title=Nhà", content_type="text/plain")

    assert response.status_code == 415


def test_form_encoded_intake_works_like_json(api):
    response = api("clerk").post("/api/v1/cases/", {"title": "Xin phép", "case_type": "building-permit"})

    assert response.status_code == 201


def test_route_with_malformed_json(api, log_case):
    case = log_case()
    before = saved_counts()

    response = api("clerk").post(f"/api/v1/cases/{case.reference}/route/", b'{"to": ', content_type="application/json")

    assert response.status_code == 400
    assert saved_counts() == before


def test_oversized_body_is_a_json_error(api, unchanged):
    body = '{"title": "Nhà", "case_type": "building-permit", "description": "' + "y" * 3_000_000 + '"}'

    response = api("clerk").post("/api/v1/cases/", body, content_type="application/json")

    assert response.status_code == 413
    assert "detail" in response.json()
