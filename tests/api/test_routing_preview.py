import datetime as dt

import pytest
from django.utils import timezone

from cases.models import Case
from departments.models import AuthorityRule, CaseType
from departments.workdays import get_calendar, local_date
from tests.support.api import ROLES

URL = "/api/v1/routing/preview/"
MONDAY_MORNING = "2025-11-24T09:00:00+07:00"


def preview(api, role="clerk", **body):
    return api(role).post(URL, body, format="json")


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_role_may_preview(api, role):
    assert preview(api, role, case_type="building-permit").status_code == 200


def test_preview_names_owner_rule_and_due_date(api, city):
    response = preview(api, case_type="building-permit", received_at=MONDAY_MORNING)

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("owner", "rule", "decision_level", "required_consultees", "due_date",
                                       "legal_basis")} == {
        "owner": "sxd", "rule": city.permit_rule.pk, "decision_level": "department", "required_consultees": [],
        # 15 working days after Monday 24 November 2025, the day of receipt not counted.
        "due_date": "2025-12-15", "legal_basis": "Luật Xây dựng 2014, Điều 103",
    }


def test_preview_lists_required_consultees_by_code(api, city):
    body = preview(api, case_type="land-allocation", received_at=MONDAY_MORNING).json()

    assert (body["owner"], body["decision_level"], body["required_consultees"]) == (
        "snnmt", "city_committee", ["stc", "sxd"])
    assert body["due_date"] == "2025-12-22"


def test_received_at_defaults_to_today(api, city):
    body = preview(api, case_type="building-permit").json()

    assert body["due_date"] == get_calendar().due_date(local_date(timezone.now()), 15).isoformat()


def test_local_banded_rule_wins_over_citywide(api, city):
    local = AuthorityRule.objects.create(case_type=city.permit, owner=city.ward, locality=city.ward,
                                         max_amount=1_000_000_000)

    small = preview(api, case_type="building-permit", locality="p-le-chan", amount=500_000_000).json()
    large = preview(api, case_type="building-permit", locality="p-le-chan", amount=2_000_000_000).json()
    no_amount = preview(api, case_type="building-permit", locality="p-le-chan").json()

    assert (small["owner"], small["rule"]) == ("p-le-chan", local.pk)
    assert large["owner"] == no_amount["owner"] == "sxd"


def test_no_rule_gives_null_owner_and_reason(api, city):
    CaseType.objects.create(code="petition", name="Đơn kiến nghị", processing_days=10)

    body = preview(api, case_type="petition").json()

    assert body["owner"] is None
    assert body["reason"] == "no_rule"


def test_tie_between_owners_is_ambiguous(api, city):
    AuthorityRule.objects.create(case_type=city.permit, owner=city.ward, locality=city.ward)
    AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider, locality=city.ward)

    body = preview(api, case_type="building-permit", locality="p-le-chan").json()

    assert (body["owner"], body["reason"]) == (None, "ambiguous_rule")


@pytest.mark.parametrize(("body", "field"), [
    ({"amount": -1}, "amount"),
    ({"amount": "một tỷ"}, "amount"),
    ({"case_type": "khong-co"}, "case_type"),
    ({"case_type": None}, "case_type"),
    ({"locality": "khong-co"}, "locality"),
    ({"locality": "sxd"}, "locality"),
    ({"received_at": "ngày mai"}, "received_at"),
    ({"received_at": "1999-12-31T09:00:00+07:00"}, "received_at"),
])
def test_bad_preview_input(api, body, field):
    response = preview(api, **{"case_type": "building-permit", **body})

    assert response.status_code == 400
    assert field in response.json()


def test_future_receipt_is_refused(api):
    tomorrow = (timezone.now() + dt.timedelta(days=1)).isoformat()

    response = preview(api, case_type="building-permit", received_at=tomorrow)

    assert response.status_code == 400
    assert "received_at" in response.json()


def test_preview_logs_nothing(api):
    preview(api, case_type="building-permit")

    assert not Case.unscoped.exists()


def test_preview_only_takes_post(api):
    assert api("clerk").get(URL).status_code == 405
