"""No input is a 500: unreadable text is refused at the door, JSON is bounded, dates stay in the calendar's years,
bodies too large answer 413 in the reader's format, descriptions and notes have their limits, and lists carry a
summary of each description instead of all of it.

Messages are read in English (Accept-Language: en): the Vietnamese ones come with the translations.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.exceptions import ParseError

from cases.api.serializers import SUMMARY_CHARS, summary_of
from cases.forms.intake import MAX_DESCRIPTION_LENGTH
from cases.models import Case, CaseEvent
from core import pages
from core.parsers import JSONParser, check_nesting
from core.periods import calendar_years, within_calendar
from core.token_views import ObtainTokenView
from oversight.staff_figures import Figure
from tests.support.cases import png_bytes

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
UNREADABLE = "The request contains a NUL character or bytes that are not UTF-8 text"
FIRST, LAST = calendar_years()
OUTSIDE = f"The date must fall within the years the working-day calendar covers ({FIRST}–{LAST})."


def saved():
    return Case.unscoped.count(), CaseEvent.objects.count()


# --- Unreadable input is refused before any view ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cases/%00/", "/cases/\x00/", "/cases/%FF%FE/", "/cases/%2500/",
                                  "/api/v1/cases/SXD%00/", "/api/v1/departments/%C3%28/"])
@pytest.mark.parametrize("role", ["anonymous", "clerk"])
def test_a_path_with_nul_or_bytes_not_utf8_is_400(signed_in, path, role):
    response = signed_in(role).get(path, **EN)

    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {"detail": response.json()["detail"], "code": "unreadable_input"}
        assert response.json()["detail"].startswith(UNREADABLE)
    else:
        assert UNREADABLE in response.content.decode()
        assert b'data-test="bad-request"' in response.content


@pytest.mark.parametrize("query", ["q=%00", "q=a\x00b", "q=%ff", "status=%C3%28", "q%00=1", "page=%E2%82"])
def test_a_query_with_nul_or_bytes_not_utf8_is_400(signed_in, query):
    client = signed_in("head")

    assert client.get(f"/cases/?{query}").status_code == 400
    assert client.get(f"/api/v1/cases/?{query}").json()["code"] == "unreadable_input"


def test_vietnamese_in_the_path_and_query_is_read(signed_in, log_case):
    log_case(title="Xin cấp phép xây dựng nhà ở")
    client = signed_in("head")

    assert client.get("/cases/?q=x%C3%A2y+d%E1%BB%B1ng").status_code == 200
    assert client.get("/cases/SXD-%C4%91%C3%A2y/").status_code == 404
    assert client.get("/api/v1/cases/", {"q": "xây dựng"}).json()["count"] == 1


@pytest.mark.parametrize("body", ["title=a%00b", "ti%00tle=x", "title=%ff%fe", "note=\x00"])
def test_a_form_body_with_nul_or_bytes_not_utf8_is_400_and_saves_nothing(signed_in, city, body):
    before = saved()

    response = signed_in("clerk").post(reverse("case-new"), f"{body}&case_type={city.permit.code}&action=save",
                                       content_type="application/x-www-form-urlencoded", **EN)

    assert response.status_code == 400
    assert UNREADABLE in response.content.decode()
    assert saved() == before


@pytest.mark.parametrize("body", [b'{"title": "t\\u0000n", "case_type": "building-permit"}',
                                  b'{"title": "x", "case_type": "building-permit", "n\\u0000": 1}',
                                  b'{"title": "x", "case_type": "building-permit", "a": ["\\\\\\u0000"]}',
                                  b'{"title": "\xff", "case_type": "building-permit"}'])
def test_a_json_body_with_nul_or_bytes_not_utf8_is_400_and_saves_nothing(api, city, body):
    before = saved()

    response = api("clerk").post("/api/v1/cases/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "unreadable_input"
    assert saved() == before


def test_an_escaped_backslash_before_u0000_is_text_not_nul(api, city):
    # `\\u0000` in JSON is a backslash and the text "u0000": a title may say so.
    response = api("clerk").post("/api/v1/cases/", b'{"title": "a\\\\u0000", "case_type": "building-permit"}',
                                 content_type="application/json")

    assert response.status_code == 201
    assert response.json()["title"] == "a\\u0000"


def test_a_multipart_field_with_nul_is_400_but_a_file_with_nul_bytes_is_stored(api, stages, media_root):
    case = stages.in_progress()
    client = api("specialist")
    url = f"/api/v1/cases/{case.reference}/attachments/"

    refused = client.post(url, {"file": io.BytesIO(png_bytes()), "note": "biên\x00bản"}, format="multipart")
    stored = client.post(url, {"file": _named(png_bytes(), "so-do.png")}, format="multipart")

    assert (refused.status_code, refused.json()["code"]) == (400, "unreadable_input")
    assert b"\x00" in png_bytes()
    assert stored.status_code == 201, stored.content


def _named(content: bytes, name: str):
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def test_a_multipart_patch_is_checked_too(api, city):
    boundary = "b0und"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nNh\x00a\r\n--{boundary}--\r\n'
            .encode())

    response = api("admin").patch("/api/v1/case-types/building-permit/", body,
                                  content_type=f"multipart/form-data; boundary={boundary}")

    assert (response.status_code, response.json()["code"]) == (400, "unreadable_input")


def test_a_malformed_multipart_body_is_400(signed_in):
    response = signed_in("clerk").post(reverse("case-new"), b"--x\r\n", content_type="multipart/form-data", **EN)

    assert response.status_code == 400
    assert "malformed" in response.content.decode()


def test_a_content_length_that_is_no_number_is_400(api):
    response = api().post("/api/v1/auth/token/", b"{}", content_type="application/json", CONTENT_LENGTH="lots")

    assert (response.status_code, response.json()["code"]) == (400, "unreadable_input")


def test_a_refusal_at_the_door_carries_the_sites_headers_and_the_readers_language(signed_in):
    page = signed_in("anonymous").get("/cases/%00/", HTTP_ACCEPT_LANGUAGE="en")
    api = signed_in("anonymous").get("/api/v1/cases/%00/")

    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in page["Permissions-Policy"]
    assert '<html lang="en">' in page.content.decode()
    assert "no-store" in api["Cache-Control"]
    assert '<html lang="vi">' in signed_in("anonymous").get("/cases/%00/").content.decode()


# --- JSON is bounded in depth and size ------------------------------------------------------------------------


def test_the_token_endpoint_and_every_api_view_use_the_bounded_parser():
    assert settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"][0] == "core.parsers.JSONParser"
    assert isinstance(ObtainTokenView().get_parsers()[0], JSONParser)


@pytest.mark.parametrize("body", ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 100_000,
                                  '{"username": ' + "[" * 33 + "]" * 33 + ', "password": "x"}'])
def test_json_nested_too_deep_is_400_even_anonymously(api, db, body):
    response = api().post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_json_as_deep_as_allowed_is_read(api, city):
    depth = settings.MAX_JSON_DEPTH
    body = '{"title": "Nhà", "case_type": "building-permit", "extra": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    assert api("clerk").post("/api/v1/cases/", body, content_type="application/json").status_code == 201


@translation.override("en")
def test_the_parser_measures_depth_without_recursion_and_ignores_brackets_in_strings():
    check_nesting('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "\\"[[[["]', 3)
    check_nesting("[" + "[1]," * 20 + "[" * 9 + "]" * 9 + "]", 10)
    with pytest.raises(ParseError, match="more than 10 levels"):
        check_nesting("[" * 11 + "]" * 11, 10)
    with pytest.raises(ParseError, match="do not match"):
        check_nesting("[{" * 20 + "]}" * 20, 10)


@translation.override("en")
def test_the_parser_refuses_a_body_over_the_limit_whatever_content_length_said(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024

    with pytest.raises(ParseError, match="larger than"):
        JSONParser().parse(io.BytesIO(b'["' + b"x" * 2000 + b'"]'), parser_context={})
    assert JSONParser().parse(io.BytesIO(b'{"a": [1, 2]}'), parser_context={}) == {"a": [1, 2]}


# --- Dates stay within the calendar's years ---------------------------------------------------------------------


def test_the_calendar_years_are_the_holiday_calendars():
    assert FIRST <= 2000 and 2099 <= LAST < 9999
    within_calendar(None)
    within_calendar(dt.date(LAST, 12, 31))
    for outside in (dt.date(9999, 12, 31), dt.date(1, 1, 1), dt.datetime(LAST + 1, 1, 1)):
        with pytest.raises(ValidationError):
            within_calendar(outside)


REPORTS = [reverse("report-deadlines"), reverse("report-consultations"), reverse("report-departments"),
           reverse("staff-report"), reverse("staff-evidence", args=["head", Figure.HANDLED.value])]


@pytest.mark.parametrize("url", REPORTS)
@pytest.mark.parametrize("query", [{"to": "9999-12-31"}, {"from": "9999-12-31", "to": "9999-12-31"},
                                   {"from": "0001-01-01"}, {"since": "9999-12-31", "until": "9999-12-31"},
                                   {"until": "0001-01-01"}])
def test_a_report_for_a_period_beyond_the_calendar_says_so_on_the_field(signed_in, url, query):
    response = signed_in("admin").get(url, query, **EN)

    assert response.status_code == 200
    errors = response.context["form"].errors
    if set(query) & set(response.context["form"].fields):
        assert OUTSIDE in [message for field in query for message in errors.get(field, [])]


def test_the_department_reports_file_for_a_period_beyond_the_calendar_is_no_500(signed_in):
    response = signed_in("admin").get(reverse("report-departments-export", args=["csv"]), {"to": "9999-12-31"})

    assert response.status_code < 500


def test_an_action_date_beyond_the_calendar_is_a_field_error_on_the_page_and_in_the_api(api, signed_in, stages):
    case = stages.in_progress()

    answer = api("head").post(f"/api/v1/cases/{case.reference}/extend/",
                              {"due_date": "9999-12-31", "reason": "Chờ kết quả kiểm tra"}, format="json", **EN)
    page = signed_in("head").post(reverse("case-action", args=[case.reference, "extend"]),
                                  {"due_date": "0001-01-01", "reason": "Chờ", "version": case.version}, **EN)

    assert answer.status_code == 400
    assert answer.json()["due_date"] == [OUTSIDE]
    assert page.status_code in (200, 302)
    case.refresh_from_db()
    assert case.extended_at is None


def test_record_and_tester_dates_beyond_the_calendar_are_field_errors(signed_in, city, choices):
    inspection = signed_in("inspector").post(reverse("inspection-new"), {
        "department": city.owner.code, "kind": "surprise", "inspected_on": "9999-12-31",
        "team": [city.user("inspector").username]}, **EN)
    tester = signed_in("admin").get(reverse("routing-tester"), {
        "case_type": city.permit.code, "received_on": "9999-12-31"}, **EN)
    intake = signed_in("clerk").post(reverse("case-new"), {
        "title": "Xin phép", "case_type": city.permit.code, "source": "citizen", "received_at": "9999-12-31T10:00",
        "action": "save"}, **EN)

    assert inspection.context["form"].errors["inspected_on"] == [OUTSIDE]
    assert tester.context["form"].errors["received_on"] == [OUTSIDE]
    assert intake.context["form"].errors["received_at"] == [OUTSIDE]


def test_date_pickers_offer_only_the_calendars_years(signed_in):
    content = signed_in("admin").get(reverse("report-consultations")).content.decode()

    assert f'min="{FIRST:04d}-01-01"' in content and f'max="{LAST:04d}-12-31"' in content


# --- A body too large is 413 ----------------------------------------------------------------------------------


def test_the_sites_handler400_is_the_shared_one():
    from cityops import urls

    assert urls.handler400 == "core.pages.bad_request"


def test_a_form_too_large_is_413_with_a_page_that_explains_and_goes_back(signed_in, city):
    before = saved()
    data = {"title": "Xin phép", "case_type": city.permit.code, "description": "y" * (3 * 1024 * 1024),
            "action": "save"}

    response = signed_in("clerk").post(reverse("case-new"), data, HTTP_REFERER="http://testserver/cases/new/", **EN)

    content = response.content.decode()
    assert response.status_code == 413
    assert b'data-test="too-large"' in response.content
    assert "Nothing was saved" in content and "20,000" in content
    assert 'href="http://testserver/cases/new/"' in content and "data-go-back" in content
    assert 'data-test="current-user"' in content  # answered after the session is read: still signed in
    assert saved() == before


def test_a_multipart_form_too_large_is_413(signed_in, stages):
    case = stages.in_progress()
    response = signed_in("specialist").post(reverse("case-action", args=[case.reference, "attachments"]),
                                            {"note": "y" * (3 * 1024 * 1024), "file": _named(png_bytes(), "a.png")})

    assert response.status_code == 413


def test_a_body_too_large_in_the_api_is_413_json(api):
    body = b'{"username": "' + b"y" * (3 * 1024 * 1024) + b'", "password": "x"}'

    response = api().post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_other_bad_requests_are_a_short_400(rf):
    request = rf.get("/cases/")

    assert pages.bad_request(request, Exception("no")).status_code == 400
    assert json.loads(pages.bad_request(rf.get("/api/v1/cases/")).content)["code"] == "bad_request"


# --- The pages check sizes before sending ------------------------------------------------------------------


def test_every_page_loads_the_limits_script_and_says_the_body_limit(signed_in):
    content = signed_in("clerk").get(reverse("case-new")).content.decode()

    assert re.search(r'<script src="[^"]*js/form-limits\.js" defer></script>', content)
    assert f'<meta name="cityops-form-limits" content="{settings.DATA_UPLOAD_MAX_MEMORY_SIZE}"' in content
    assert "data-text-chars=" in content and "data-text-bytes=" in content
    # A strict CSP: every script has a source, none is inline (json_script data is not a script).
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", content)


# --- Descriptions and notes have limits -----------------------------------------------------------------------


def test_the_intake_form_limits_the_description_and_the_browser_is_told(signed_in, city):
    client = signed_in("clerk")
    content = client.get(reverse("case-new")).content.decode()

    response = client.post(reverse("case-new"), {"title": "Xin phép", "case_type": city.permit.code,
                                                 "source": "citizen", "description": "y" * (MAX_DESCRIPTION_LENGTH + 1),
                                                 "action": "save"})

    assert min(settings.MAX_DESCRIPTION_CHARS, 20_000) == MAX_DESCRIPTION_LENGTH
    assert re.search(rf'<textarea name="description"[^>]*maxlength="{MAX_DESCRIPTION_LENGTH}"', content)
    assert "description" in response.context["form"].errors
    assert Case.unscoped.count() == 0


def test_the_api_limits_the_description(api, city):
    response = api("clerk").post("/api/v1/cases/", {"title": "Xin phép", "case_type": "building-permit",
                                                    "description": "y" * (MAX_DESCRIPTION_LENGTH + 1)}, format="json")

    assert response.status_code == 400
    assert "description" in response.json()
    assert Case.unscoped.count() == 0


def test_the_admins_correction_limits_the_description(log_case):
    from cases.admin import CaseCorrectionForm

    case = log_case()
    form = CaseCorrectionForm({"title": case.title, "description": "y" * (MAX_DESCRIPTION_LENGTH + 1),
                               "applicant_name": "", "applicant_contact": "", "seen_version": case.version},
                              instance=case)

    assert "description" in form.errors
    assert form.fields["description"].widget.attrs["maxlength"] == str(MAX_DESCRIPTION_LENGTH)


def test_a_note_over_the_limit_is_a_field_error_in_the_api(api, stages):
    case = stages.in_progress()

    response = api("specialist").post(f"/api/v1/cases/{case.reference}/propose/",
                                      {"note": "y" * (settings.MAX_NOTE_CHARS + 1)}, format="json")

    assert response.status_code == 400
    assert "note" in response.json()


def test_the_triage_notes_limit_is_the_settings(signed_in, stages):
    stages.triage()

    content = signed_in("clerk").get(reverse("triage")).content.decode()

    assert 'name="note" id="route-note-' in content and f'maxlength="{settings.MAX_NOTE_CHARS}"' in content


# --- Lists carry summaries, never whole descriptions -------------------------------------------------------------


def test_summaries_cut_at_a_word_with_an_ellipsis():
    assert summary_of("Nhà 4 tầng,\n  diện tích 80 m².") == "Nhà 4 tầng, diện tích 80 m²."
    words = "xây dựng " * 40
    cut = summary_of(words[:SUMMARY_CHARS + 1])
    assert cut.endswith("…") and len(cut) <= SUMMARY_CHARS + 1
    assert words.startswith(cut[:-1]) and cut[-2] != " "
    assert summary_of("y" * (SUMMARY_CHARS + 1)) == "y" * SUMMARY_CHARS + "…"


def test_the_api_list_has_summaries_read_without_the_whole_description(api, log_case):
    long_description = "Đề nghị cấp phép xây dựng nhà ở riêng lẻ. " * 400
    case = log_case(description=long_description)
    log_case(description="Ngắn gọn.")
    client = api("head")

    with CaptureQueriesContext(connection) as queries:
        rows = client.get("/api/v1/cases/").json()["results"]
    # Read before the next request, which empties Django's log of queries.
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    detail = client.get(f"/api/v1/cases/{case.reference}/").json()

    summaries = {row["reference"]: row["summary"] for row in rows}
    assert all("description" not in row for row in rows)
    assert summaries[case.reference].endswith("…") and len(summaries[case.reference]) <= SUMMARY_CHARS + 1
    assert "Ngắn gọn." in summaries.values()
    assert detail["description"] == long_description
    # Only the head of the text is selected: the column appears inside LEFT()/SUBSTR() and nowhere else.
    assert re.search(r'(?<!\()"cases_case"\."description"', sql) is None
    assert "description" in sql


@pytest.mark.parametrize("count", [2, 12])
def test_the_api_list_costs_the_same_queries_with_long_descriptions(api, log_case, count):
    for _ in range(count):
        log_case(description="Đề nghị " * 2000)
    client = api("head")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/cases/").json()["count"] == count

    assert len(queries) == 5  # session, user, membership, count, page


@pytest.mark.parametrize("url", ["case-list", "overdue-desk"])
def test_the_pages_lists_do_not_read_descriptions(signed_in, log_case, url):
    # Received four weeks ago: overdue, so that the desk lists it too.
    log_case(description="Đề nghị " * 2000, received_at=timezone.now() - dt.timedelta(days=28))

    client = signed_in("head")

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(url))

    assert response.status_code == 200
    assert len(response.context["page"]) == 1
    assert not any(re.search(r'"cases_case"\."description"', query["sql"]) for query in queries.captured_queries)


def test_the_schema_lists_a_summary_and_the_detail_a_description():
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]

    assert "summary" in schema["Case"]["properties"] and "description" not in schema["Case"]["properties"]
    assert "description" in schema["CaseDetail"]["properties"]


# --- What the hostile corpus found beside -------------------------------------------------------------------


def test_reference_data_dates_beyond_the_calendar_are_field_errors(api, city):
    client = api("admin")

    day = client.post("/api/v1/calendar/days/", {"date": "9999-12-31", "kind": "day_off", "name": "Nghỉ"},
                      format="json", **EN)
    rule = client.patch(f"/api/v1/authority-rules/{city.permit_rule.pk}/",
                        {"valid_to": "0001-01-01", "reason": "Theo quyết định mới"}, format="json", **EN)

    assert (day.status_code, day.json()["date"]) == (400, [OUTSIDE])
    assert (rule.status_code, rule.json()["valid_to"]) == (400, [OUTSIDE])


def test_a_rule_changes_reason_has_the_notes_limit(api, city):
    response = api("admin").patch(f"/api/v1/authority-rules/{city.permit_rule.pk}/",
                                  {"legal_basis": "Luật Xây dựng", "reason": "y" * (settings.MAX_NOTE_CHARS + 1)},
                                  format="json")

    assert response.status_code == 400
    assert "reason" in response.json()


@pytest.mark.parametrize("url", ["/admin/cases/case/", "/admin/departments/calendarday/",
                                 "/admin/axes/accessattempt/", "/admin/core/refusedattempt/"])
@pytest.mark.parametrize("year", ["9999", "0", "9" * 5000])
def test_an_admin_date_drill_down_outside_the_calendar_is_a_wrong_filter(signed_in, url, year):
    from django.contrib import admin

    field = next(model_admin.date_hierarchy for model, model_admin in admin.site._registry.items()
                 if url == f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
    client = signed_in("admin")

    response = client.get(url, {f"{field}__year": year, f"{field}__month": "12", f"{field}__day": "31"})

    assert response.status_code == 302
    assert response.url.endswith("?e=1")


def test_a_history_page_for_a_key_that_is_no_key_is_not_found(signed_in, city):
    client = signed_in("admin")
    url = f"/admin/departments/authorityrule/{city.permit_rule.pk}/history/"

    assert client.get(url).status_code == 200
    assert client.get("/admin/departments/authorityrule/abc/history/").status_code == 404
    assert client.get(f"{url}abc/").status_code == 404


def test_an_inspection_file_under_a_number_beyond_64_bits_is_not_found(signed_in, inspection):
    assert signed_in("inspector").get(f"/oversight/inspections/{'9' * 30}/files/1/").status_code == 404


def test_a_json_list_to_a_case_action_is_a_400(api, stages):
    case = stages.in_progress()

    response = api("specialist").post(f"/api/v1/cases/{case.reference}/propose/", [1, 2], format="json")

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
