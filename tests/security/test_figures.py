"""Figures that cannot be gamed: a receipt dated further back than MAX_BACKDATE_DAYS is an admin's to log, and an
extension moves a due date by at most the case's own processing days; both refusals have codes and are recorded
(the receipt's with no case to go on, in the refused attempts; the extension's on the case's trail)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseEvent, EventAction
from core.models import RefusedAttempt
from core.refusals import RefusalCode
from tests.security.test_headers import manage
from tests.support.api import act
from tests.support.world import local_datetime

pytestmark = pytest.mark.django_db

URL = "/api/v1/cases/"


@pytest.fixture
def limit(settings):
    settings.MAX_BACKDATE_DAYS = 30
    return 30


def intake_body(city, received_at: dt.datetime) -> dict:
    return {"title": "Xin cấp giấy phép xây dựng nhà ở riêng lẻ", "case_type": city.permit.code,
            "applicant_name": "Nguyễn Văn An", "applicant_contact": "0912 345 678",
            "received_at": received_at.isoformat()}


def test_the_site_default_is_thirty_days():
    result = manage("shell", "-c", "from django.conf import settings; print(settings.MAX_BACKDATE_DAYS)", DEBUG="1")
    assert result.stdout.strip().splitlines()[-1] == "30", result.stderr


def test_a_clerk_cannot_log_a_receipt_from_the_year_2000(api, city, limit):
    before = Case.unscoped.count()
    response = api("clerk").post(URL, intake_body(city, local_datetime(2000, 1, 3)), format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == RefusalCode.BACKDATED_RECEIPT
    assert Case.unscoped.count() == before
    attempt = RefusedAttempt.objects.get()
    assert (attempt.actor, attempt.attempted, attempt.code) == (city.user("clerk"), "create",
                                                                RefusalCode.BACKDATED_RECEIPT)
    assert attempt.payload["received_at"].startswith("2000-01-03")


def test_within_the_limit_the_clerk_logs_it_and_beyond_it_an_admin_does(api, city, limit):
    recent = timezone.now() - dt.timedelta(days=limit - 1)
    assert api("clerk").post(URL, intake_body(city, recent), format="json").status_code == 201
    old = timezone.now() - dt.timedelta(days=limit + 1)
    assert api("clerk").post(URL, intake_body(city, old), format="json").status_code == 409
    assert api("admin").post(URL, intake_body(city, old), format="json").status_code == 201
    assert RefusedAttempt.objects.count() == 1


def test_the_intake_page_says_why_and_keeps_what_was_typed(signed_in, city, limit):
    response = signed_in("clerk").post(reverse("case-new"), {
        "action": "save", "title": "Xin cấp phép sửa chữa nhà", "case_type": city.permit.code,
        "applicant_name": "Trần Thị Bình", "applicant_contact": "0987 654 321",
        "source": "citizen",
        "received_at": timezone.localtime(timezone.now() - dt.timedelta(days=90)).strftime("%Y-%m-%dT%H:%M")},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["received_at"]
    html = response.content.decode()
    assert "can be logged only by an administrator" in html
    assert "Trần Thị Bình" in html
    assert not Case.unscoped.filter(title="Xin cấp phép sửa chữa nhà").exists()
    assert RefusedAttempt.objects.filter(code=RefusalCode.BACKDATED_RECEIPT).count() == 1


@pytest.fixture
def received(stages, clock):
    # Received Monday 2 June 2025, 15 working days: due Monday 23 June; the head asks on Wednesday 18 June.
    clock.set(local_datetime(2025, 6, 2, 9))
    case = stages.in_progress(received_at=local_datetime(2025, 6, 2, 9))
    clock.set(local_datetime(2025, 6, 18, 10))
    return case


def test_an_extension_to_9999_is_refused_with_its_code_and_recorded(api, received):
    events = CaseEvent.objects.filter(case=received).count()
    response = act(api("head"), received, "extend", {"due_date": "9999-12-30", "reason": "Chờ ý kiến",
                                                      "version": received.version})
    assert response.status_code in (400, 409), response.json()
    received.refresh_from_db()
    assert received.due_date == dt.date(2025, 6, 23)
    if response.status_code == 409:
        assert response.json()["code"] == RefusalCode.EXTENSION_TOO_LONG
        assert CaseEvent.objects.filter(case=received).count() == events + 1


def test_an_extension_may_add_the_cases_own_days_and_not_one_more(api, received):
    # 15 working days after Monday 23 June 2025 is Monday 14 July; the 15th of July is one too many.
    refused = act(api("head"), received, "extend", {"due_date": "2025-07-15", "reason": "Chờ kết quả đo đạc",
                                                     "version": received.version})
    assert refused.status_code == 409
    assert refused.json()["code"] == RefusalCode.EXTENSION_TOO_LONG
    assert "14/07/2025" in refused.json()["detail"]
    event = CaseEvent.objects.filter(case=received).latest("id")
    assert (event.action, event.payload["code"], event.payload["latest"]) == (
        EventAction.REFUSED, RefusalCode.EXTENSION_TOO_LONG, "2025-07-14")
    allowed = act(api("head"), received, "extend", {"due_date": "2025-07-14", "reason": "Chờ kết quả đo đạc",
                                                     "version": received.version})
    assert allowed.status_code == 200, allowed.json()
    assert allowed.json()["due_date"] == "2025-07-14"
