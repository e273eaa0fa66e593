"""The intake page: who may use it, the routing preview, saving, and bad input that must save nothing."""

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, EventAction, Status
from departments.models import AuthorityRule, CaseType
from departments.workdays import get_calendar, local_date

URL = reverse("case-new")
CLERKS = ["clerk", "admin"]
OTHERS = ["head", "specialist", "outsider_head", "inspector"]


def form_data(city, **overrides):
    data = {
        "title": "Xin cấp phép xây dựng nhà ở riêng lẻ tại phường Lê Chân",
        "description": "Nhà 4 tầng, diện tích 80 m².",
        "case_type": city.permit.code,
        "locality": city.ward.code,
        "amount": "",
        "source": "citizen",
        "applicant_name": "Nguyễn Văn An",
        "applicant_contact": "0912 345 678",
        "received_at": "",
        "action": "preview",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", CLERKS)
def test_the_intake_desk_opens_the_form(signed_in, role):
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    assert b'name="received_at"' in response.content
    assert b'type="datetime-local"' in response.content


def test_a_form_left_open_logs_the_time_it_was_saved_not_the_time_it_was_opened(signed_in, city, clock):
    client = signed_in("clerk")
    opened = clock.set(timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2))
    page = client.get(URL).content.decode()
    # Nothing filled in to be sent back unchanged: an empty time means "when saved", as the field says.
    (field,) = re.findall(r'<input[^>]*name="received_at"[^>]*>', page)
    assert " value=" not in field

    saved = clock.set(opened + dt.timedelta(minutes=47))
    client.post(URL, form_data(city, action="save"))

    assert Case.unscoped.get().received_at == saved


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_are_forbidden(signed_in, city, role):
    client = signed_in(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(city, action="save")).status_code == 403
    assert Case.unscoped.count() == 0


def test_anonymous_is_sent_to_login(signed_in, city):
    client = signed_in("anonymous")
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert client.post(URL, form_data(city, action="save")).status_code == 302
    assert Case.unscoped.count() == 0


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method(signed_in, method):
    assert getattr(signed_in("clerk"), method)(URL).status_code == 405


def test_preview_shows_owner_terms_and_due_date_and_saves_nothing(signed_in, city):
    city.permit_rule.required_consultees.set([city.consulted])
    response = signed_in("clerk").post(URL, form_data(city))
    assert response.status_code == 200
    outcome = response.context["outcome"]
    today = local_date(timezone.now())
    assert outcome.owner == city.owner
    assert outcome.decision_level == "department"
    assert outcome.consultees == [city.consulted]
    assert outcome.due_date == get_calendar().due_date(today, 15)
    html = response.content.decode()
    assert 'data-test="preview-owner" data-code="sxd">Sở Xây dựng<' in html
    assert "Luật Xây dựng 2014, Điều 103" in html
    assert f'<time datetime="{outcome.due_date:%Y-%m-%d}">' in html
    assert "Sở Nông nghiệp và Môi trường" in html
    # The form keeps what the clerk typed, ready for saving.
    assert "Nguyễn Văn An" in html
    assert Case.unscoped.count() == 0


def test_preview_uses_the_date_of_receipt(signed_in, city):
    city.permit_rule.valid_from = dt.date(2026, 1, 1)
    city.permit_rule.save()
    response = signed_in("clerk").post(URL, form_data(city, received_at="2025-12-31T09:00"))
    assert response.context["outcome"].reason == "no_rule"


def test_preview_of_a_rule_gap_names_the_triage_reason(signed_in, city):
    unruled = CaseType.objects.create(code="advertising", name="Cấp phép quảng cáo", processing_days=5)
    response = signed_in("clerk").post(URL, form_data(city, case_type=unruled.code))
    assert response.context["outcome"].reason == "no_rule"
    assert b'data-reason="no_rule"' in response.content
    assert b'data-test="preview-owner"' not in response.content


def test_preview_of_tied_rules_names_the_triage_reason(signed_in, city):
    AuthorityRule.objects.create(case_type=city.permit, locality=city.ward, owner=city.owner)
    AuthorityRule.objects.create(case_type=city.permit, locality=city.ward, owner=city.outsider)
    response = signed_in("clerk").post(URL, form_data(city))
    assert response.context["outcome"].reason == "ambiguous_rule"
    assert b'data-reason="ambiguous_rule"' in response.content


def test_save_logs_and_routes_the_case(signed_in, city):
    response = signed_in("clerk").post(URL, form_data(city, action="save", amount="2500000000", key_task="on",
                                                      received_at="2026-11-24T08:30"), follow=True)
    case = Case.unscoped.get()
    assert response.redirect_chain == [(reverse("case-detail", args=[case.reference]), 302)]
    assert (case.status, case.owner, case.created_by) == (Status.ROUTED, city.owner, city.user("clerk"))
    assert (case.locality, case.amount, case.key_task) == (city.ward, 2500000000, True)
    assert timezone.localtime(case.received_at).replace(tzinfo=None) == dt.datetime(2026, 11, 24, 8, 30)
    assert case.applicant_contact == "0912 345 678"
    assert list(case.events.values_list("action", flat=True)) == [EventAction.CREATED, EventAction.ROUTED]
    message = str(list(response.context["messages"])[0])
    assert case.reference in message
    assert case.pin in message


def test_save_without_receipt_time_means_now(signed_in, city):
    before = timezone.now()
    signed_in("clerk").post(URL, form_data(city, action="save"))
    assert before <= Case.unscoped.get().received_at <= timezone.now()


def test_admin_may_log_a_case_too(signed_in, city):
    response = signed_in("admin").post(URL, form_data(city, action="save"))
    assert response.status_code == 302
    assert Case.unscoped.get().created_by == city.user("admin")


def test_a_rule_gap_case_is_saved_into_triage(signed_in, city):
    unruled = CaseType.objects.create(code="advertising", name="Cấp phép quảng cáo", processing_days=5)
    signed_in("clerk").post(URL, form_data(city, action="save", case_type=unruled.code))
    case = Case.unscoped.get()
    assert (case.status, case.owner, case.triage_reason) == (Status.TRIAGE, None, "no_rule")


def _future():
    return (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")


BAD_INPUTS = {
    "future receipt": ({"received_at": _future}, "received_at"),
    "negative amount": ({"amount": "-1"}, "amount"),
    "unknown case type": ({"case_type": "no-such-type"}, "case_type"),
    "huge title": ({"title": "x" * 100_000}, "title"),
    "missing title": ({"title": ""}, "title"),
    "garbled receipt time": ({"received_at": "hôm qua"}, "received_at"),
    "receipt in year 1": ({"received_at": "0001-01-01T00:00"}, "received_at"),
    "receipt in year 9999": ({"received_at": "9999-12-31T23:59"}, "received_at"),
    "receipt typed as 0025": ({"received_at": "0025-11-24T08:00"}, "received_at"),
    "amount beyond 18 digits": ({"amount": "1" + "0" * 18}, "amount"),
    "unknown locality": ({"locality": "nowhere"}, "locality"),
}


@pytest.mark.parametrize("action", ["preview", "save"])
@pytest.mark.parametrize("case", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_shows_the_error_and_saves_nothing(signed_in, city, case, action):
    overrides, field = case
    overrides = {key: value() if callable(value) else value for key, value in overrides.items()}
    response = signed_in("clerk").post(URL, form_data(city, action=action, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert b"invalid-feedback" in response.content
    assert response.context["outcome"] is None
    assert Case.unscoped.count() == 0


def test_an_inactive_case_type_is_not_offered(signed_in, city):
    CaseType.objects.filter(pk=city.land.pk).update(active=False)
    response = signed_in("clerk").post(URL, form_data(city, action="save", case_type=city.land.code))
    assert "case_type" in response.context["form"].errors
    assert Case.unscoped.count() == 0


def test_a_service_validation_error_lands_on_the_form(signed_in, city, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError({"received_at": "Thời điểm tiếp nhận không hợp lệ.", "rule": "Quy tắc thiếu."})

    monkeypatch.setattr("cases.views.intake.case_create", refuse)
    response = signed_in("clerk").post(URL, form_data(city, action="save"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["received_at"] == ["Thời điểm tiếp nhận không hợp lệ."]
    assert form.non_field_errors() == ["Quy tắc thiếu."]
    assert Case.unscoped.count() == 0
