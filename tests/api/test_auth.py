import datetime as dt

import pytest
from django.utils.dateparse import parse_datetime
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from cases.models import Case
from tests.support.api import TOKEN_URL, obtain_token

ENDPOINTS = [
    ("get", "/api/v1/departments/"),
    ("post", "/api/v1/departments/"),
    ("get", "/api/v1/departments/sxd/"),
    ("get", "/api/v1/staff/"),
    ("post", "/api/v1/staff/"),
    ("get", "/api/v1/case-types/"),
    ("patch", "/api/v1/case-types/building-permit/"),
    ("get", "/api/v1/authority-rules/"),
    ("post", "/api/v1/authority-rules/"),
    ("get", "/api/v1/calendar/days/"),
    ("delete", "/api/v1/calendar/days/2025-09-02/"),
    ("post", "/api/v1/routing/preview/"),
    ("get", "/api/v1/cases/"),
    ("post", "/api/v1/cases/"),
    ("get", "/api/v1/cases/SXD-251124-0001/"),
    ("post", "/api/v1/cases/SXD-251124-0001/route/"),
]


def test_token_for_valid_credentials(city, settings):
    response = obtain_token("clerk")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expiry"}
    [stored] = AuthToken.objects.filter(user=city.user("clerk"))
    # Only the token's digest is stored: the secret itself is nowhere in the database.
    assert stored.digest == hash_token(body["token"]) != body["token"]
    assert body["token"] not in {stored.digest, stored.token_key}
    expected_expiry = stored.created + dt.timedelta(hours=settings.API_TOKEN_HOURS)
    assert abs(parse_datetime(body["expiry"]) - expected_expiry) < dt.timedelta(seconds=5)


def test_each_sign_in_gets_its_own_token_and_both_work(city):
    first, second = obtain_token("clerk").json()["token"], obtain_token("clerk").json()["token"]

    assert first != second
    assert APIClient(headers={"Authorization": f"Token {first}"}).get("/api/v1/cases/").status_code == 200
    assert APIClient(headers={"Authorization": f"Token {second}"}).get("/api/v1/cases/").status_code == 200


def test_wrong_password_gets_no_token(city):
    response = obtain_token("clerk", "not-the-password")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not AuthToken.objects.exists()


def test_missing_password_is_a_field_error(city):
    response = APIClient().post(TOKEN_URL, {"username": "clerk"}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()


def test_token_endpoint_only_takes_post(city):
    assert APIClient().get(TOKEN_URL).status_code == 405


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_requests_get_401_with_a_challenge(city, method, url):
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_unknown_token_is_401(city):
    client = APIClient(headers={"Authorization": "Token 0123456789abcdef"})

    assert client.get("/api/v1/cases/").status_code == 401


def test_token_that_is_not_text_is_401(city):
    client = APIClient(headers={"Authorization": "Token \xff\xfe"})

    assert client.get("/api/v1/cases/").status_code == 401


def test_token_of_a_deactivated_user_is_401(city):
    token = obtain_token("clerk").json()["token"]
    city.user("clerk").is_active = False
    city.user("clerk").save(update_fields=["is_active"])

    client = APIClient(headers={"Authorization": f"Token {token}"})
    assert client.get("/api/v1/cases/").status_code == 401


def test_token_end_to_end_logs_and_reads_a_case(city):
    token = obtain_token("clerk").json()["token"]
    client = APIClient(headers={"Authorization": f"Token {token}"})

    created = client.post("/api/v1/cases/", {"title": "Xin cấp phép xây dựng nhà ở", "case_type": "building-permit",
                                             "applicant_name": "Nguyễn Văn An"}, format="json")
    assert created.status_code == 201
    reference = created.json()["reference"]
    assert Case.unscoped.get(reference=reference).created_by == city.user("clerk")

    listed = client.get("/api/v1/cases/")
    assert [row["reference"] for row in listed.json()["results"]] == [reference]
    detail = client.get(f"/api/v1/cases/{reference}/")
    assert detail.status_code == 200
    assert [event["actor"] for event in detail.json()["events"]] == ["clerk", "clerk"]


def test_token_does_not_need_csrf_but_session_writes_do(city):
    token = obtain_token("admin").json()["token"]
    body = {"code": "sxd2", "name": "Sở Xây dựng (mới)", "kind": "department"}
    with_token = APIClient(enforce_csrf_checks=True, headers={"Authorization": f"Token {token}"})
    assert with_token.post("/api/v1/departments/", body, format="json").status_code == 201

    with_session = APIClient(enforce_csrf_checks=True)
    with_session.force_login(city.user("admin"))
    assert with_session.post("/api/v1/departments/", {**body, "code": "sxd3"}, format="json").status_code == 403
