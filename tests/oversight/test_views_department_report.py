"""The department report page and its files: who reads which units, the table, the
chart's data, the print layout, the CSV and XLSX files, and a query count that does not grow with the data.

The figures are those of tests/oversight/test_department_figures.py (November 2026, read on the 20th).
"""

import csv
import io
import json
import re
import zipfile
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.services import case_accept, case_resolve
from departments.models import Department, Role
from tests.support.cases import Clock
from tests.support.world import local_datetime, make_user

URL = reverse("report-departments")
PERIOD = {"from": "2026-11-01", "to": "2026-11-20"}
ALL_UNITS = ["snnmt", "stc", "sxd"]  # by name: Sở Nông nghiệp…, Sở Tài chính, Sở Xây dựng


@pytest.fixture
def chairman(city):
    return make_user("chairman", department=city.city_committee, role=Role.HEAD, full_name="Lê Ngọc Châu")


@pytest.fixture
def vice_chairman(city):
    return make_user("vice_chairman", department=city.city_committee, role=Role.DEPUTY)


def units(response) -> list[str]:
    return [unit.department.code for unit in response.context["figures"]]


def export(client, fmt, **params):
    return client.get(reverse("report-departments-export", args=[fmt]), {**PERIOD, **params},
                      HTTP_ACCEPT_LANGUAGE="en")


def row_html(html, code) -> str:
    return re.search(rf'data-test="figures-row" data-unit="{code}">(.*?)</tr>', html, re.S).group(1)


def cells(html, code) -> dict:
    """The plain figures of one unit's row as the page shows them, by data-test name."""
    return dict(re.findall(r'data-test="([a-z-]+)"[^>]*>([^<]*)</td>', row_html(html, code)))


# --- Access ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["inspector", "home_affairs", "city_office", "admin"])
def test_city_wide_readers_see_every_active_unit_and_may_choose_one(signed_in, november, role):
    client = signed_in(role)
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert units(response) == ALL_UNITS
    assert response.context["whole_city"] is True
    assert "department" in response.context["form"].fields
    assert units(client.get(URL, {**PERIOD, "department": "stc"})) == ["stc"]


@pytest.mark.parametrize("user", ["chairman", "vice_chairman"])
def test_the_city_committees_own_leaders_read_the_whole_city(client, november, request, user):
    client.force_login(request.getfixturevalue(user))
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    assert units(response) == ALL_UNITS
    assert units(client.get(URL, {**PERIOD, "department": "sxd"})) == ["sxd"]


@pytest.mark.parametrize(("role", "unit"), [("head", "sxd"), ("deputy", "sxd"), ("consulted_head", "snnmt")])
def test_a_head_or_deputy_reads_only_their_own_unit_whatever_the_query_names(signed_in, november, role, unit):
    client = signed_in(role)
    response = client.get(URL, {**PERIOD, "department": "stc"})
    assert response.status_code == 200
    assert units(response) == [unit]
    assert response.context["whole_city"] is False
    assert "department" not in response.context["form"].fields
    assert units(client.get(URL)) == [unit]  # the default period


def test_a_head_of_an_idle_unit_still_sees_its_row(signed_in, city):
    response = signed_in("outsider_head").get(URL, PERIOD)
    [unit] = response.context["figures"]
    assert (unit.department, unit.resolved, unit.on_time_percent) == (city.outsider, 0, None)


@pytest.mark.parametrize("role", ["specialist", "clerk", "consulted_specialist", "nobody"])
def test_anyone_else_is_refused(signed_in, city, role):
    assert signed_in(role).get(URL).status_code == 403
    assert export(signed_in(role), "csv").status_code == 403


def test_staff_of_the_city_committee_without_a_lead_role_are_refused(client, city):
    client.force_login(make_user("secretary", department=city.city_committee, role=Role.SPECIALIST))
    assert client.get(URL).status_code == 403


def test_visitors_are_sent_to_sign_in(signed_in, city):
    client = signed_in("anonymous")
    for url in (URL, reverse("report-departments-export", args=["csv"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_only_get_is_allowed(signed_in, city):
    client = signed_in("inspector")
    assert client.post(URL).status_code == 405
    assert client.post(reverse("report-departments-export", args=["csv"])).status_code == 405


# --- The page ----------------------------------------------------------------------------------------------


def test_the_table_shows_each_units_figures(signed_in, november):
    html = signed_in("inspector").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert cells(html, "sxd") == {
        "resolved": "6", "on-time-rate": "67%", "median-working-days": "10.5", "open": "4",
        "returns-on-time": "1", "returns-late": "1", "slips": "—", "consultations-received": "0",
        "consultations-late": "0",
        "consultations-silent": "0", "consultations-owed-overdue": "0"}
    assert cells(html, "snnmt") == {
        "resolved": "1", "on-time-rate": "—", "median-working-days": "7", "open": "1", "returns-on-time": "0",
        "returns-late": "0", "refusals": "—", "slips": "—", "consultations-received": "1", "consultations-late": "1",
        "consultations-silent": "0", "consultations-owed-overdue": "0"}
    stc = cells(html, "stc")
    assert (stc["median-working-days"], stc["consultations-received"], stc["consultations-silent"],
            stc["consultations-owed-overdue"]) == ("—", "2", "1", "1")


def test_overdue_links_to_the_units_overdue_desk(signed_in, november):
    html = signed_in("inspector").get(URL, PERIOD).content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*data-test="desk-link">(\d+)</a>', row_html(html, "sxd"))
    assert link.groups() == (reverse("overdue-desk") + "?department=sxd", "1")
    own = signed_in("head").get(URL, PERIOD).content.decode()
    assert reverse("overdue-desk") + "?department=sxd" in own


def test_the_chairman_follows_the_link_to_any_units_desk(client, november, chairman):
    client.force_login(chairman)
    html = client.get(URL, PERIOD).content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*data-test="desk-link">(\d+)</a>', row_html(html, "sxd"))
    assert link.groups() == (reverse("overdue-desk") + "?department=sxd", "1")
    desk = client.get(link.group(1))
    assert desk.status_code == 200
    assert desk.context["department"].code == "sxd"
    assert not desk.context["reassigns"]


def shown_refusals(html, code):
    pattern = r'data-test="refusal" data-code="([a-z_]+)" data-group="([a-z]+)">([^<]+): <span[^>]*>(\d+)</span>'
    return re.findall(pattern, unescape(row_html(html, code)))


def test_refusals_are_shown_by_code_with_their_labels(signed_in, november):
    html = signed_in("inspector").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert shown_refusals(html, "sxd") == [
        ("within_own_authority", "directive", "Passing on work within own authority", "2"),
        ("not_owner", "directive", "Acting on another unit's case", "1"),
        ("target_not_competent", "directive", "Transfer to a unit that is not competent", "1")]


def test_slips_are_shown_apart_from_what_the_directive_forbids(signed_in, city, november, log_case, monkeypatch):
    from cases.services.common import write_case_refusal
    from core.refusals import RefusalCode, Refused

    clock = Clock(monkeypatch)
    clock.set(local_datetime(2026, 11, 18, 10))
    case = log_case(title="Xin cấp phép sửa chữa nhà")
    for code in (RefusalCode.CASE_CHANGED, RefusalCode.CASE_CHANGED, RefusalCode.JUSTIFICATION_REQUIRED):
        write_case_refusal(case, actor=city.user("specialist"), refusal=Refused(code, "—"), attempted="accept")

    html = signed_in("inspector").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    shown = shown_refusals(html, "sxd")
    assert [row[:2] for row in shown if row[1] == "slip"] == [("case_changed", "slip"),
                                                             ("justification_required", "slip")]
    assert [row[0] for row in shown if row[1] == "directive"] == ["within_own_authority", "not_owner",
                                                                 "target_not_competent"]
    slips = re.search(r'data-test="slips">(.*?)</td>', row_html(html, "sxd"), re.S).group(1)
    assert "case_changed" in slips and "within_own_authority" not in slips


def test_a_median_between_two_values_uses_the_readers_decimal_mark(signed_in, november):
    html = signed_in("inspector").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert cells(html, "sxd")["median-working-days"] == "10,5"


@pytest.mark.parametrize("period", [{"from": "2026-11-20", "to": "2026-11-01"}, {"from": "hôm qua"},
                                    {**PERIOD, "department": "no-such-unit"}])
def test_a_bad_period_or_unit_is_told_and_shows_no_figures(signed_in, november, period):
    response = signed_in("inspector").get(URL, period)
    assert response.status_code == 200
    assert response.context["figures"] is None
    html = response.content.decode()
    assert 'data-test="period-errors"' in html
    assert 'data-test="department-figures"' not in html
    export_response = export(signed_in("inspector"), "csv", **period)
    assert export_response.status_code == 302 and export_response["Location"].startswith(URL)


def test_the_chart_is_drawn_from_the_figures_on_the_page(signed_in, november):
    html = signed_in("inspector").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    data = json.loads(re.search(r'<script id="department-chart-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    assert data["labels"] == ["Sở Nông nghiệp và Môi trường", "Sở Tài chính", "Sở Xây dựng"]
    assert data["on_time"]["data"] == [None, None, 67]
    assert data["overdue"]["data"] == [0, 0, 1]
    # One chart per measure, each with its own scale: the rate and the overdue count never share a bar.
    assert 'id="department-chart"' in html and 'id="department-overdue-chart"' in html
    assert "js/department-chart.js" in html and "vendor/chartjs/chart.umd.min.js" in html


def test_the_print_layout(signed_in, november):
    html = signed_in("head").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r'<link rel="stylesheet" href="[^"]*css/print\.css" media="print"', html)
    heading = re.search(r'data-test="print-heading">(.*?)</header>', html, re.S).group(1)
    assert "d-none d-print-block" in re.search(r'<header class="([^"]+)" data-test="print-heading"', html).group(1)
    assert "Sở Xây dựng" in heading
    assert "Period: 01/11/2026 – 20/11/2026" in heading
    assert re.search(r"Printed <time data-printed-at [^>]*>20/11/2026 10:00</time>", heading)
    # The form and the buttons stay on the screen; the print button uses the shared print script.
    assert re.search(r'class="[^"]*d-print-none[^"]*">\s*<div>\s*<h1', html)
    actions = re.search(r'<div class="([^"]+)" data-test="report-actions">(.*?)</div>', html, re.S)
    assert "d-print-none" in actions.group(1)
    assert re.search(r"<button [^>]*data-print[^>]*>Print</button>", actions.group(2))
    assert "js/print.js" in html


def test_the_download_links_keep_the_query(signed_in, november):
    html = signed_in("inspector").get(URL, {**PERIOD, "department": "sxd"}).content.decode()
    query = "from=2026-11-01&amp;to=2026-11-20&amp;department=sxd"
    assert f'{reverse("report-departments-export", args=["csv"])}?{query}' in html
    assert f'{reverse("report-departments-export", args=["xlsx"])}?{query}' in html


def test_the_page_costs_the_same_queries_however_much_data(signed_in, city, november, log_case, monkeypatch):
    client = signed_in("inspector")
    client.get(URL, PERIOD)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, PERIOD).status_code == 200
        return len(captured)

    before = queries()
    clock = Clock(monkeypatch)
    for number in range(5):
        clock.set(local_datetime(2026, 11, 16, 9))
        case = case_accept(case=log_case(title=f"Thêm {number}"), actor=city.user("specialist"))
        clock.set(local_datetime(2026, 11, 17, 10))
        case_resolve(case=case, actor=city.user("head"), note="Xong")
    Department.objects.create(code="snv2", name="Sở Nội vụ (cũ)", kind="department")
    clock.set(local_datetime(2026, 11, 20, 10))
    assert queries() == before


# --- Files -------------------------------------------------------------------------------------------------

HEADER = ["Unit code", "Unit", "Resolved", "Resolved on time", "Resolved late", "On-time rate (%)",
          "Median working days", "Open", "Overdue now", "Returns on time", "Late returns", "Refused attempts",
          "Passing on work within own authority", "Transfer to a unit that is not competent",
          "Acting on another unit's case", "Consultations sent", "Consultations received", "Answered on time",
          "Answered late", "Silent (deemed to agree)", "Owed, overdue"]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_file_has_every_units_figures(signed_in, november):
    response = export(signed_in("inspector"), "csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="departments-city-2026-11-01-2026-11-20.csv"'
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert rows[1:] == [
        ["snnmt", "Sở Nông nghiệp và Môi trường", "1", "0", "0", "", "7", "1", "0", "0", "0", "0", "0", "0", "0",
         "1", "1", "0", "1", "0", "0"],
        ["stc", "Sở Tài chính", "0", "0", "0", "", "", "0", "0", "0", "0", "0", "0", "0", "0", "0", "2", "0", "0",
         "1", "1"],
        ["sxd", "Sở Xây dựng", "6", "4", "2", "67", "10.5", "4", "1", "1", "1", "4", "2", "1", "1", "2", "0", "0",
         "0", "0", "0"],
    ]


def test_a_heads_file_has_their_unit_only_and_formulas_are_neutralised(signed_in, city, november):
    Department.objects.filter(pk=city.owner.pk).update(name="=HYPERLINK(\"http://x\")")
    response = export(signed_in("head"), "csv", department="stc")
    assert response["Content-Disposition"] == 'attachment; filename="departments-sxd-2026-11-01-2026-11-20.csv"'
    rows = csv_rows(response)
    assert [row[0] for row in rows[1:]] == ["sxd"]
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"


def test_the_xlsx_file_is_a_workbook_with_the_figures(signed_in, november):
    response = export(signed_in("inspector"), "xlsx", department="sxd")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="departments-sxd-2026-11-01-2026-11-20.xlsx"'
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode("utf-8")
        names = workbook.read("xl/workbook.xml").decode("utf-8")
    assert 'name="Units\' performance"' in names or "name=\"Units&apos; performance\"" in names
    assert "Sở Xây dựng" in sheet and "Sở Tài chính" not in sheet
    assert "Passing on work within own authority" in sheet and "Median working days" in sheet
    # Numbers are numbers: the median 10.5 and the on-time rate 67 are cells a spreadsheet can sum.
    assert "<v>10.5</v>" in sheet and "<v>67</v>" in sheet


def test_an_unknown_format_is_not_found(signed_in, november):
    assert export(signed_in("inspector"), "pdf").status_code == 404
