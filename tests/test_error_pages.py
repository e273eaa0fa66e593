"""The site's answers when something is wrong, in the reader's language: a page in the site's look for 400, 403,
404, 405, 413 and 500 (JSON under /api/); a form sent with a stale security token held again, ready to send; dates
read and written day first whatever the browser's language; and an admin that reads as the rest of the site.

Vietnamese is the site's language; `Accept-Language: en` asks for English. The Vietnamese of strings added with
these pages comes with the compiled catalogue (locale/).
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cases.models import Case
from core import pages
from core.forms import DayField, DayInput, day_field
from core.periods import PeriodForm
from departments.models import AuthorityRule
from oversight.models import Inspection

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
VI = {"HTTP_ACCEPT_LANGUAGE": "vi"}
BIG = "y" * (3 * 1024 * 1024)  # over DATA_UPLOAD_MAX_MEMORY_SIZE


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


# --- One page per status, in the reader's language --------------------------------------------------------------

# status: (who, how, the page's mark, what it says in Vietnamese, and in English)
PAGES = {
    400: ("clerk", lambda client, **lang: client.post(reverse("case-new"), {"title": "a\x00b"}, **lang), "bad-request",
          "Không đọc được yêu cầu", "The request could not be read"),
    403: ("specialist", lambda client, **lang: client.get("/oversight/inspections/", **lang), "forbidden",
          "Không được phép", "Not allowed"),
    404: ("specialist", lambda client, **lang: client.get("/cases/HP-NOT-A-CASE/", **lang), "not-found",
          "Không tìm thấy", "Not found"),
    405: ("clerk", lambda client, **lang: client.get(reverse("session-keep-alive"), **lang), "method-not-allowed",
          "Không mở được trang theo cách này", "This page cannot be opened this way"),
    413: ("clerk", lambda client, **lang: client.post(reverse("case-new"), {"title": "Xin phép", "description": BIG},
                                                      **lang), "too-large",
          "Nội dung gửi quá lớn", "What you sent is too large"),
}


@pytest.mark.parametrize("status", sorted(PAGES))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_each_status_has_its_page_in_the_readers_language(signed_in, status, language):
    role, ask, mark, vietnamese, english = PAGES[status]

    response = ask(signed_in(role), **(EN if language == "en" else VI))

    assert response.status_code == status
    assert f'data-test="{mark}"' in response.content.decode()
    assert lang_of(response) == language
    assert (vietnamese if language == "vi" else english) in text_of(response)
    # In the site's look: the navigation bar of base.html, signed in.
    assert 'data-test="current-user"' in response.content.decode()


def test_the_405_page_keeps_the_allow_header_and_says_a_button_sends_there(signed_in):
    response = signed_in("clerk").get(reverse("session-keep-alive"), **EN)

    assert (response.status_code, response["Allow"]) == (405, "POST")
    assert "only takes what a form's button sends" in text_of(response)


def test_a_post_to_a_page_that_only_shows_says_nothing_was_saved(signed_in):
    response = signed_in("clerk").post(reverse("case-list"), {"q": "x"}, **EN)

    assert (response.status_code, response["Allow"]) == (405, "GET")
    assert "only shows information" in text_of(response)


def test_the_api_keeps_its_json_answers(api):
    client = api("clerk")

    missing = client.get("/api/v1/no-such-thing/", **EN)
    wrong_method = client.get("/api/v1/auth/token/", **EN)

    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert wrong_method.status_code == 405
    assert wrong_method["Content-Type"].startswith("application/json")
    assert "detail" in wrong_method.json()


@pytest.mark.urls("tests.support.failing_urls")
@pytest.mark.parametrize(("headers", "language", "says"), [
    (VI, "vi", "Đã có lỗi xảy ra"), (EN, "en", "Something went wrong")])
def test_a_server_error_is_a_static_page_in_the_readers_language(client, db, headers, language, says):
    client.raise_request_exception = False

    response = client.get("/fails/", **headers)

    assert response.status_code == 500
    assert 'data-test="server-error"' in response.content.decode()
    assert lang_of(response) == language
    assert says in text_of(response)
    # Standalone: no navigation bar, nothing that reads the database or the person.
    assert 'data-test="current-user"' not in response.content.decode()


def test_the_server_error_page_needs_neither_the_database_nor_the_request_context(rf):
    # No database for this test: a query would fail it. No session, user or middleware either.
    request = rf.get("/cases/")
    request.request_id = "lb-0000000500"

    response = pages.server_error(request)

    assert response.status_code == 500
    assert "lb-0000000500" in response.content.decode()


# --- A form sent with a stale token is held again, ready to send ------------------------------------------------

TITLE = 'Xin cấp phép xây dựng <nhà> "số 5" & sân'
STALE = "a" * 64  # a token of the right form, for another secret: as a tab left open across a new sign-in has


@pytest.fixture
def strict(city):
    """A browser of the clerk's, where the CSRF check is enforced (the test client skips it otherwise), with the
    cookie a page of the site set."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.user("clerk"))
    assert client.get(reverse("case-new")).status_code == 200
    return client


def intake(city, **extra) -> dict:
    return {"title": TITLE, "description": "Dòng một\nDòng hai", "case_type": city.permit.code, "source": "citizen",
            "applicant_name": "Nguyễn Văn An", "received_at": "", "action": "save", **extra}


def hidden_fields(content: str) -> list[tuple[str, str]]:
    form = content.split('data-test="send-again"')[1].split("</form>")[0]
    return [(html.unescape(name), html.unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form)]


def test_a_stale_token_answers_a_page_that_holds_the_form_again(strict, city):
    before = Case.unscoped.count()

    response = strict.post(reverse("case-new"), {**intake(city), "password": "bí-mật-123",
                                                 "csrfmiddlewaretoken": STALE}, **VI)

    content = response.content.decode()
    assert response.status_code == 403
    assert 'data-test="csrf-failure"' in content
    assert "Trang đã hết hạn" in text_of(response)
    assert re.search(r'<form method="post" action="/cases/new/"[^>]*data-test="send-again"', content)
    # What was typed is shown, escaped, and kept in the form.
    assert html.escape(TITLE) in content and TITLE not in content
    assert "Dòng một<br>Dòng hai" in content
    fields = dict(hidden_fields(content))
    assert fields["title"] == TITLE and fields["case_type"] == city.permit.code
    # A fresh token, never the stale one; no password, anywhere.
    assert fields["csrfmiddlewaretoken"] != STALE
    assert "bí-mật-123" not in content and 'name="password"' not in content
    assert Case.unscoped.count() == before


def test_one_click_sends_the_form_again(strict, city):
    refused = strict.post(reverse("case-new"), {**intake(city), "csrfmiddlewaretoken": STALE})
    resent = strict.post(reverse("case-new"), dict(hidden_fields(refused.content.decode())))

    assert resent.status_code == 302
    assert Case.unscoped.filter(title=TITLE, applicant_name="Nguyễn Văn An").exists()


def test_a_stale_sign_in_form_is_sent_again_without_its_password(city):
    browser = Client(enforce_csrf_checks=True)
    assert browser.get(reverse("login")).status_code == 200

    refused = browser.post(reverse("login"), {"username": "clerk", "password": "bí-mật-123",
                                              "csrfmiddlewaretoken": STALE}, **EN)
    content = refused.content.decode()
    fields = hidden_fields(content)
    asked_again = browser.post(reverse("login"), dict(fields), **EN)

    assert refused.status_code == 403
    assert ("username", "clerk") in fields and "bí-mật-123" not in content
    assert "type yours again" in text_of(refused)
    assert 'data-test="sign-in"' not in content  # on the sign-in page itself, no "sign in in another tab"
    # Django's sign-in form again, the name kept, the password asked for.
    assert asked_again.status_code == 200
    assert asked_again.context["form"]["username"].value() == "clerk"
    assert "password" in asked_again.context["form"].errors


def test_the_stale_form_page_speaks_english_when_asked(strict, city):
    response = strict.post(reverse("case-new"), {**intake(city), "csrfmiddlewaretoken": STALE}, **EN)

    assert response.status_code == 403
    assert lang_of(response) == "en"
    assert "The page had expired" in text_of(response)
    assert "Send again" in text_of(response)


def test_a_form_from_another_site_is_not_held_ready_to_send(strict, city):
    response = strict.post(reverse("case-new"), {**intake(city), "csrfmiddlewaretoken": STALE},
                           HTTP_SEC_FETCH_SITE="cross-site", **EN)

    assert response.status_code == 403
    assert 'data-test="csrf-failure"' in response.content.decode()
    assert 'data-test="send-again"' not in response.content.decode()
    assert html.escape(TITLE) not in response.content.decode()


def test_the_api_gets_json_for_a_stale_token(rf):
    response = pages.csrf_failure(rf.post("/api/v1/cases/"), reason="CSRF token missing.")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert b'"code": "csrf_failed"' in response.content


def test_the_site_uses_its_own_csrf_failure_view(settings):
    assert settings.CSRF_FAILURE_VIEW == "core.pages.csrf_failure"


# --- Dates day first ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "day"), [
    ("09/04/2026", dt.date(2026, 4, 9)),
    ("9/4/2026", dt.date(2026, 4, 9)),
    ("2026-04-09", dt.date(2026, 4, 9)),  # the links and bookmarks made before
    ("09.04.2026", dt.date(2026, 4, 9)),
    ("09042026", dt.date(2026, 4, 9)),  # a phone's number pad has no slash
    (" 30/06/2025 ", dt.date(2025, 6, 30)),
])
def test_a_date_field_reads_day_first_and_iso(typed, day):
    field = day_field("Ngày")
    assert field.clean(field.widget.value_from_datadict({"day": typed}, {}, "day")) == day


@pytest.mark.parametrize("typed", ["06/30/2025", "31/02/2026", "hôm qua", "2026/04/09"])
def test_a_date_field_refuses_month_first_and_impossible_dates(typed):
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            DayField().clean(typed)
        assert refused.value.messages == ["Enter a valid date."]


def test_a_date_input_is_text_that_shows_day_first():
    rendered = DayInput().render("day", dt.date(2026, 4, 9))

    assert 'type="text"' in rendered and 'type="date"' not in rendered
    assert 'value="09/04/2026"' in rendered
    assert 'placeholder="dd/mm/yyyy"' in rendered and 'inputmode="numeric"' in rendered and "pattern=" in rendered
    # An ISO date from an old link shows day first too; a mistake shows as typed.
    assert 'value="09/04/2026"' in DayInput().render("day", "2026-04-09")
    assert 'value="hôm qua"' in DayInput().render("day", "hôm qua")


@pytest.mark.parametrize("typed", ["02/11/2026", "2026-11-02"])
def test_a_record_form_takes_a_date_day_first_or_iso(signed_in, city, typed):
    response = signed_in("inspector").post(reverse("inspection-new"), {
        "department": city.owner.code, "kind": "surprise", "inspected_on": typed,
        "findings": "Không có vi phạm.", "team": [city.user("inspector").username]}, **EN)

    assert response.status_code == 302, response.context["form"].errors
    assert Inspection.objects.get().inspected_on == dt.date(2026, 11, 2)


def test_the_record_form_shows_today_day_first(signed_in, clock):
    clock.set(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC))
    content = signed_in("inspector").get(reverse("inspection-new")).content.decode()

    field = re.search(r'<input[^>]*name="inspected_on"[^>]*>', content).group(0)
    assert 'type="text"' in field and 'value="20/11/2026"' in field


@pytest.mark.parametrize(("since", "until"), [("01/11/2026", "30/11/2026"), ("2026-11-01", "2026-11-30")])
def test_a_report_period_reads_both_ways_and_shows_day_first(since, until):
    form = PeriodForm({"from": since, "to": until}, today=dt.date(2026, 12, 8))

    period = form.period()

    assert (period.since, period.until) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert 'value="01/11/2026"' in str(form["from"]) and 'value="30/11/2026"' in str(form["to"])


# --- The admin reads as the rest of the site --------------------------------------------------------------------


@pytest.fixture
def admin_client(client, city):
    client.force_login(city.user("admin"))
    return client


def test_the_rule_list_shows_a_dash_for_nothing_and_consultees_by_name(admin_client, city):
    content = admin_client.get(reverse("admin:departments_authorityrule_changelist")).content.decode()

    assert re.search(r'<td class="field-valid_from[^"]*">—</td>', content)
    assert "-</td>" not in content and "None" not in content
    assert re.search(r'<td class="field-consultees">(Sở Xây dựng, Sở Tài chính|Sở Tài chính, Sở Xây dựng)</td>',
                     content)


def test_a_rule_is_titled_by_names_and_dates_day_first(admin_client, city):
    rule = city.permit_rule
    AuthorityRule.objects.filter(pk=rule.pk).update(valid_from=dt.date(2026, 1, 1))
    rule.refresh_from_db()

    with translation.override("en"):
        assert str(rule) == "Cấp giấy phép xây dựng → Sở Xây dựng (from 01/01/2026)"
    with translation.override("vi"):
        assert str(rule) == "Cấp giấy phép xây dựng → Sở Xây dựng (từ 01/01/2026)"
    page = admin_client.get(reverse("admin:departments_authorityrule_change", args=[rule.pk])).content.decode()
    assert html.escape("Cấp giấy phép xây dựng → Sở Xây dựng (từ 01/01/2026)") in page
    assert "building-permit → sxd" not in page


def test_the_rule_history_shows_a_dash_and_labels_never_none(admin_client, city):
    rule = city.land_rule
    url = reverse("admin:departments_authorityrule_change", args=[rule.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name not in {"confirm_tie"}}
    data = {name: ([str(item) for item in value] if isinstance(value, list) else ("" if value is None else value))
            for name, value in data.items()}
    data.update(active="on", decision_level="department", valid_from="2026-03-01", required_consultees=[],
                reason="Quyết định 12/2026/QĐ-UBND")
    assert admin_client.post(url, data).status_code == 302

    content = admin_client.get(reverse("admin:departments_authorityrule_history", args=[rule.pk])).content.decode()
    history = html.unescape(content.split('id="change-history"')[1].split("</table>")[0])

    assert "None" not in history and "[]" not in history
    assert "Cơ quan chủ trì quyết định" in history  # the decision level's label, not "department"
    assert "01/03/2026" in history and "2026-03-01" not in history
    assert re.search(r"<td>\s*—\s*</td>", history)  # the first version, saved without a reason


def test_the_admin_speaks_vietnamese_for_the_libraries_too(admin_client, city):
    index = text_of(admin_client.get(reverse("admin:index")))
    url = reverse("admin:departments_authorityrule_change", args=[city.permit_rule.pk])
    refused = text_of(admin_client.post(url, {"case_type": ""}))

    assert "Tác vụ định kỳ" in index and "Periodic Tasks" not in index  # django-celery-beat has no Vietnamese
    assert "Vui lòng sửa các lỗi dưới đây." in refused and "Please correct" not in refused
    assert "Mục này không được để trống." in refused
