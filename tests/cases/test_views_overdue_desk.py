"""The heads' overdue desk: who may open it, exactly which rows it lists and in what order, working days late,
its filters, reassigning in place, the CSV and XLSX exports, and a query count that does not grow."""

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.measures import Window, working_days_late
from cases.models import Case, Consultation, EventAction, Status
from cases.services import case_accept, case_consult
from cases.views.deadlines import DaysLate
from tests.support.world import local_datetime

URL = reverse("overdue-desk")
# Wednesday 18 November 2026: due soon means due by Thursday the 19th.
TODAY = dt.date(2026, 11, 18)


def on(day: int) -> dt.date:
    return dt.date(2026, 11, day)


def due(case, day: int):
    Case.unscoped.filter(pk=case.pk).update(due_date=on(day))
    case.refresh_from_db()
    return case


@pytest.fixture
def desk(city, log_case, stages, clock):
    """Sở Xây dựng's work on Wednesday 18 November 2026, and what must stay off its desk."""
    clock.set(local_datetime(2026, 11, 2, 9))
    cases = {
        "oldest": due(log_case(title="Sửa chữa nhà số 12 Lạch Tray"), 10),  # 6 working days late
        "friday": due(stages.in_progress(title="Cải tạo trụ sở phường"), 13),  # late across the weekend: 3
        "today": due(log_case(title="Xây tường rào trường học"), 18),  # due soon: due today
        "key": due(log_case(title="Cấp phép bệnh viện thành phố", key_task=True), 19),  # due soon, key task
        "later": due(log_case(title="Nhà văn hóa khu dân cư"), 20),  # not yet due: off the desk
        "resolved": due(stages.resolved(title="Hồ sơ đã giải quyết"), 10),  # finished: off the desk
        "elsewhere": due(log_case(title="Giao đất xây chợ An Dương", case_type=city.land), 10),  # another unit's
    }
    land = case_accept(case=log_case(title="Giao đất mở rộng đường Lạch Tray", case_type=city.land),
                       actor=city.user("consulted_specialist"))
    owed, _other = case_consult(case=land, actor=city.user("consulted_specialist"),
                                departments=[city.owner, city.outsider], question="Ý kiến về quy hoạch")
    Consultation.unscoped.filter(pk=owed.pk).update(due_date=on(16))  # 2 working days late
    clock.set(local_datetime(2026, 11, 18, 10))
    return cases | {"land": land, "owed": Consultation.unscoped.get(pk=owed.pk)}


def case_refs(response):
    return [row["case"].reference for row in response.context["case_rows"]]


def consultation_ids(response):
    return [row["consultation"].pk for row in response.context["consultation_rows"]]


# --- Who may open it ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["head", "deputy"])
def test_the_units_head_and_deputy_open_their_desk(signed_in, desk, role):
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    assert response.context["department"].code == "sxd"
    assert response.context["reassigns"] is True


@pytest.mark.parametrize("role", ["specialist", "clerk", "nobody", "consulted_specialist"])
def test_anyone_without_a_lead_role_is_refused(signed_in, desk, role):
    assert signed_in(role).get(URL).status_code == 403
    assert signed_in(role).get(URL, {"department": "sxd"}).status_code == 403


def test_a_head_may_not_open_another_units_desk(signed_in, city, desk):
    client = signed_in("outsider_head")
    assert client.get(URL, {"department": "sxd"}).status_code == 403
    own = client.get(URL, {"department": "stc"})
    assert own.status_code == 200
    assert case_refs(own) == []
    # Sở Tài chính's own request on the land case, overdue too.
    assert consultation_ids(own) == [Consultation.unscoped.get(case=desk["land"], department=city.outsider).pk]


@pytest.mark.parametrize("role", ["city_office", "inspector", "home_affairs", "admin"])
def test_city_wide_readers_choose_a_unit_and_read_without_reassigning(signed_in, desk, role):
    client = signed_in(role)
    chooser = client.get(URL)
    assert chooser.status_code == 200
    assert b'data-test="desk-choose-unit"' in chooser.content
    response = client.get(URL, {"department": "sxd"})
    assert response.status_code == 200
    assert len(case_refs(response)) == 4
    assert response.context["reassigns"] is False
    assert b'data-test="reassign-form"' not in response.content
    assert client.get(URL, {"department": "no-such-unit"}).status_code == 404


# --- What it lists ----------------------------------------------------------------------------------------


def test_the_desk_lists_exactly_the_late_and_due_soon_work_key_tasks_first_then_most_late(signed_in, desk):
    response = signed_in("head").get(URL)
    assert case_refs(response) == [desk[name].reference for name in ["key", "oldest", "friday", "today"]]
    assert consultation_ids(response) == [desk["owed"].pk]
    html = response.content.decode()
    for name in ["later", "resolved", "elsewhere"]:
        assert desk[name].reference not in html


def test_each_row_shows_working_days_late_or_due_soon_and_the_legal_basis(signed_in, desk):
    response = signed_in("head").get(URL)
    late = {row["case"].reference: row["days_late"] for row in response.context["case_rows"]}
    # Friday the 13th to Wednesday the 18th: Monday, Tuesday and Wednesday, the weekend not counted.
    assert late == {desk["key"].reference: None, desk["oldest"].reference: 6, desk["friday"].reference: 3,
                    desk["today"].reference: None}
    assert response.context["consultation_rows"][0]["days_late"] == 2
    html = response.content.decode()
    row = re.search(rf'data-test="desk-case" data-reference="{desk["friday"].reference}".*?</tr>', html, re.S).group()
    assert 'data-test="days-late">3<' in row
    assert "Luật Xây dựng 2014, Điều 103" in row
    assert "Phạm Minh Tuấn" in row  # the assignee
    assert html.count('data-test="due-soon-badge"') == 2
    assert html.count('data-test="key-task-badge"') == 1
    owed = re.search(r'data-test="desk-consultation".*?</tr>', html, re.S).group()
    assert "Luật Đất đai 2024, Điều 123" in owed
    assert "Sở Nông nghiệp và Môi trường" in owed  # who asked


def test_days_late_are_working_days_and_match_the_deadline_module(city, clock):
    clock.set(local_datetime(2026, 11, 25, 10))
    days_late = DaysLate(on(25))
    # Friday the 20th to Wednesday the 25th: Monday and Wednesday; the 24th is Vietnamese Culture Day.
    assert days_late(on(20)) == working_days_late(on(20), on(25)) == 2
    assert days_late(on(13)) == working_days_late(on(13), on(25)) == 7
    assert days_late(on(25)) is None
    assert days_late(on(26)) is None


# --- Filters ----------------------------------------------------------------------------------------------


def test_filter_overdue_or_due_soon(signed_in, desk):
    client = signed_in("head")
    overdue = client.get(URL, {"kind": "overdue"})
    assert case_refs(overdue) == [desk["oldest"].reference, desk["friday"].reference]
    assert consultation_ids(overdue) == [desk["owed"].pk]
    soon = client.get(URL, {"kind": "due_soon"})
    assert case_refs(soon) == [desk["key"].reference, desk["today"].reference]
    assert consultation_ids(soon) == []


def test_filter_by_assignee_key_task_case_type_and_text(signed_in, city, desk, stages, city_level_type):
    plan = due(stages.city_level_in_progress(title="Điều chỉnh quy hoạch khu công nghiệp"), 12)
    client = signed_in("head")
    assert case_refs(client.get(URL, {"assignee": "specialist"})) == [plan.reference, desk["friday"].reference]
    assert case_refs(client.get(URL, {"assignee": "none"})) == [
        desk["key"].reference, desk["oldest"].reference, desk["today"].reference]
    assert consultation_ids(client.get(URL, {"assignee": "none"})) == [desk["owed"].pk]
    key = client.get(URL, {"key_task": "on"})
    assert (case_refs(key), consultation_ids(key)) == ([desk["key"].reference], [])
    assert case_refs(client.get(URL, {"case_type": city_level_type.code})) == [plan.reference]
    assert consultation_ids(client.get(URL, {"case_type": city.land.code})) == [desk["owed"].pk]
    text = client.get(URL, {"q": "Lạch Tray"})
    assert (case_refs(text), consultation_ids(text)) == ([desk["oldest"].reference], [desk["owed"].pk])
    assert case_refs(client.get(URL, {"q": desk["friday"].reference})) == [desk["friday"].reference]


def test_a_bad_filter_value_is_reported_and_the_others_still_apply(signed_in, desk):
    response = signed_in("head").get(URL, {"assignee": "outsider_head", "kind": "overdue", "page_size": "7",
                                           "page": "abc"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"assignee", "page_size"}
    assert case_refs(response) == [desk["oldest"].reference, desk["friday"].reference]


def test_pages_of_25_or_100_keep_the_filters(signed_in, city, log_case, desk):
    for number in range(30):
        due(log_case(title=f"Hồ sơ tồn đọng số {number}"), 11)
    client = signed_in("head")
    first = client.get(URL, {"q": "tồn đọng"})
    assert len(case_refs(first)) == 25
    html = first.content.decode()
    assert "?q=t%E1%BB%93n+%C4%91%E1%BB%8Dng&amp;page=2" in html
    assert "?q=t%E1%BB%93n+%C4%91%E1%BB%8Dng&amp;page_size=100" in html
    assert len(case_refs(client.get(URL, {"q": "tồn đọng", "page": 2}))) == 5
    assert len(case_refs(client.get(URL, {"q": "tồn đọng", "page_size": 100}))) == 30


# --- Reassign in place ------------------------------------------------------------------------------------


def test_reassigning_a_case_from_the_desk_comes_back_to_the_desk(signed_in, city, desk):
    client = signed_in("head")
    page = client.get(URL, {"kind": "overdue"})
    html = page.content.decode()
    case = desk["oldest"]
    action = reverse("case-action", args=[case.reference, "assign"])
    form = re.search(rf'<form method="post" action="{action}".*?</form>', html, re.S).group()
    assert f'name="version" value="{case.version}"' in form
    assert 'name="next" value="/overdue/?kind=overdue"' in form
    assert 'value="deputy"' in form and 'value="specialist"' in form and 'value="clerk"' not in form
    response = client.post(action, {"assignee": "specialist", "version": case.version,
                                    "next": "/overdue/?kind=overdue"}, follow=True)
    assert response.redirect_chain == [("/overdue/?kind=overdue", 302)]
    case.refresh_from_db()
    assert (case.assignee, case.status) == (city.user("specialist"), Status.IN_PROGRESS)
    assert case.events.filter(action=EventAction.ASSIGNED, actor=city.user("head")).exists()
    assert b'data-test="message-success"' in response.content
    row = next(row for row in response.context["case_rows"] if row["case"].pk == case.pk)
    assert row["case"].assignee == city.user("specialist")


def test_a_stale_desk_page_is_refused_and_says_so(signed_in, city, desk):
    case = desk["oldest"]
    response = signed_in("head").post(reverse("case-action", args=[case.reference, "assign"]), {
        "assignee": "specialist", "version": case.version - 1 or 99, "next": URL}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert b'data-refusal="true"' in response.content
    case.refresh_from_db()
    assert case.assignee is None


def test_reassigning_a_consultation_from_the_desk(signed_in, city, desk):
    client = signed_in("deputy")
    owed = desk["owed"]
    action = reverse("consultation-assign", args=[owed.pk])
    assert f'action="{action}"' in client.get(URL).content.decode()
    response = client.post(action, {"assignee": "specialist", "next": URL}, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    owed.refresh_from_db()
    assert owed.assignee == city.user("specialist")
    assert response.context["consultation_rows"][0]["consultation"].assignee == city.user("specialist")


def test_submitted_cases_are_listed_without_a_reassign_form(signed_in, desk, stages, city_level_type):
    submitted = due(stages.submitted(title="Tờ trình quy hoạch"), 12)
    response = signed_in("head").get(URL)
    row = next(row for row in response.context["case_rows"] if row["case"].pk == submitted.pk)
    assert row["reassign"] is False
    assert reverse("case-action", args=[submitted.reference, "assign"]) not in response.content.decode()


# --- Exports ----------------------------------------------------------------------------------------------


def export(client, fmt, **params):
    return client.get(reverse("overdue-desk-export", args=[fmt]), params, HTTP_ACCEPT_LANGUAGE="en")


def test_csv_export_has_every_matching_row_with_a_bom_and_translated_headers(signed_in, desk):
    response = export(signed_in("head"), "csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="overdue-sxd-2026-11-18.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Section", "Reference", "Title", "Key task", "Status", "Assignee", "Due date",
                       "Working days late", "Legal basis", "Department"]
    assert [(row[0], row[1]) for row in rows[1:]] == [
        *(("Case", desk[name].reference) for name in ["key", "oldest", "friday", "today"]),
        ("Consultation owed", desk["land"].reference)]
    friday = rows[3]
    assert friday[2:] == ["Cải tạo trụ sở phường", "No", "In progress", "Phạm Minh Tuấn", "13/11/2026", "3",
                          "Luật Xây dựng 2014, Điều 103", "Sở Xây dựng"]
    assert rows[1][3] == "Yes" and rows[1][7] == "Due soon"
    assert rows[5][6:] == ["16/11/2026", "2", "Luật Đất đai 2024, Điều 123", "Sở Xây dựng"]


def test_csv_export_keeps_the_filters_and_neutralises_formulas(signed_in, desk):
    Case.unscoped.filter(pk=desk["oldest"].pk).update(title="=HYPERLINK(\"http://x\")")
    response = export(signed_in("head"), "csv", kind="overdue")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8")[1:])))
    assert [row[1] for row in rows[1:]] == [desk["oldest"].reference, desk["friday"].reference,
                                            desk["land"].reference]
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")"


def test_xlsx_export_is_a_workbook_with_the_rows(signed_in, desk):
    response = export(signed_in("head"), "xlsx", kind="overdue")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="overdue-sxd-2026-11-18.xlsx"'
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as workbook:
        sheet = workbook.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert desk["oldest"].reference in sheet
    assert desk["land"].reference in sheet
    assert desk["today"].reference not in sheet  # due soon, filtered out
    assert "Working days late" in sheet and "Cải tạo trụ sở phường" in sheet


def test_city_wide_readers_export_any_unit_and_staff_without_a_lead_role_may_not(signed_in, desk):
    assert export(signed_in("inspector"), "csv", department="sxd").status_code == 200
    assert export(signed_in("inspector"), "csv").status_code == 302  # to the unit chooser
    assert export(signed_in("specialist"), "csv").status_code == 403
    assert export(signed_in("outsider_head"), "xlsx", department="sxd").status_code == 403
    assert export(signed_in("head"), "pdf").status_code == 404
    assert signed_in("head").post(reverse("overdue-desk-export", args=["csv"])).status_code == 405


# --- Queries ----------------------------------------------------------------------------------------------


def queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured)


def test_the_query_count_is_the_same_for_25_and_100_rows_and_does_not_grow(signed_in, city, log_case, desk):
    client = signed_in("head")
    queries(client)  # the calendar is built once per process; count what a page costs afterwards
    few = queries(client)
    for number in range(40):
        case = due(log_case(title=f"Hồ sơ tồn đọng số {number}", key_task=number % 5 == 0), 5 + number % 10)
        if number % 2:
            case_accept(case=case, actor=city.user("specialist"))
    for number in range(3):
        land = case_accept(case=log_case(title=f"Giao đất số {number}", case_type=city.land),
                           actor=city.user("consulted_specialist"))
        case_consult(case=land, actor=city.user("consulted_specialist"), departments=[city.owner], question="Ý kiến")
    assert queries(client, page_size=25) == few
    assert queries(client, page_size=100) == few
    response = client.get(URL, {"page_size": 100})
    assert len(response.context["case_rows"]) == 44
    assert len(response.context["consultation_rows"]) == 1  # the new requests are not due yet


def test_the_export_query_count_does_not_grow(signed_in, city, log_case, desk, django_assert_max_num_queries):
    for number in range(30):
        due(log_case(title=f"Hồ sơ tồn đọng số {number}"), 9)
    client = signed_in("head")
    with django_assert_max_num_queries(12):
        response = export(client, "csv")
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == 1 + 4 + 30 + 1


def test_the_window_of_the_desk_is_todays(desk):
    window = Window.at(local_datetime(2026, 11, 18, 10))
    assert (window.today, window.soon) == (TODAY, on(19))
