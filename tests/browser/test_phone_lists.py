"""Every list page on a 390 px phone: no page scrolls sideways, each row reads as a card whose action (or, where a
row has none, its reference link) lies inside the screen; the filters fold behind one button; a refusal in a
case's history is no taller than its text needs.

Each page is opened as the person who uses it, with at least one row in it. People sign in at the desktop width
(the navigation bar hides the signed-in name on a phone), then the window narrows to the phone's 390 × 844. The
UI runs in Vietnamese; elements are found by data-test attributes and URLs. Due dates are set relative to today,
because the live server runs on the real clock.
"""

import datetime as dt

import pytest
from django.utils import timezone, translation

from cases.models import Case, Consultation
from cases.services import case_accept, case_consult, case_dispute, case_transfer
from core.refusals import Refused
from departments.workdays import local_date
from oversight.models import CommendationLevel, InspectionKind, Severity, ViolationKind, ViolationSource
from oversight.services import commendation_record, inspection_record, violation_record

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

LONG_TITLE = ("Xin cấp phép xây dựng nhà ở riêng lẻ bốn tầng kèm tầng hầm để xe tại thửa đất số 125, tờ bản đồ số 18, "
              "phường Lê Chân")
QUESTION = ("Đề nghị cho ý kiến về phương án giao đất, bồi thường và giải phóng mặt bằng để xây dựng chợ An Dương, "
            "trong đó có nguồn vốn ngân sách thành phố năm 2027 và tiến độ bàn giao mặt bằng")
LONG_REASON = ("Công trình nằm trong hành lang bảo vệ đê, theo Luật Đê điều thuộc thẩm quyền của Sở Nông nghiệp và "
               "Môi trường; đề nghị sửa quy định phân công cho đúng thẩm quyền")


def days_ago(days):
    return local_date(timezone.now()) - dt.timedelta(days=days)


@pytest.fixture
def lists(city, log_case, stages, consulting, oversight_choices):
    """At least one row on every list page, with the long titles and notes a real day brings."""
    head, inspector = city.user("head"), city.user("inspector")
    # Triage: a case no rule routes. The queue and the overdue desk: one case ten days late, one key task.
    triaged = stages.triage(title=LONG_TITLE)
    late = case_accept(case=log_case(title=LONG_TITLE, key_task=True), actor=city.user("specialist"))
    Case.unscoped.filter(pk=late.pk).update(due_date=days_ago(10))
    disputed = log_case(title="Cấp phép xây dựng trạm bơm tiêu úng ven đê sông Lạch Tray")
    dispute = case_dispute(case=disputed, actor=head, reason=LONG_REASON)
    # A refusal in a case's history, with the long explanation the rules give.
    refused = log_case(title="Cấp phép xây dựng nhà ở số 8 Trần Phú")
    with pytest.raises(Refused):
        case_transfer(case=refused, actor=head, to=city.outsider, reason="Đề nghị Sở Tài chính xử lý")
    # A city-level matter waiting for the City Committee.
    submitted = stages.submitted(title=LONG_TITLE)
    # A land case of Sở Nông nghiệp và Môi trường asks Sở Xây dựng's opinion (now overdue, on the desk) and
    # Sở Tài chính's; an appraisal case of Sở Xây dựng asks Sở Nông nghiệp và Môi trường's.
    land = case_accept(case=log_case(title="Giao đất xây dựng chợ An Dương", case_type=city.land),
                       actor=city.user("consulted_head"))
    case_consult(case=land, actor=city.user("consulted_head"), departments=[city.owner, city.outsider],
                 question=QUESTION)
    Consultation.unscoped.filter(case=land, department=city.owner).update(due_date=days_ago(8))
    appraisal = consulting.case(title=LONG_TITLE)
    consulting.ask(appraisal, question=QUESTION)
    # Oversight records, today.
    inspection = inspection_record(actor=inspector, department=city.owner, kind=InspectionKind.SURPRISE,
                                   inspected_on=days_ago(1), team=[inspector, city.user("home_affairs")],
                                   findings="Bộ phận một cửa yêu cầu thêm giấy tờ không có trong danh mục.")
    violation = violation_record(actor=inspector, person=city.user("specialist"), discovered_on=days_ago(1),
                                 source=ViolationSource.SURPRISE_INSPECTION, inspection=inspection,
                                 kind=ViolationKind.objects.get(code="harassment"),
                                 severity=Severity.objects.get(code="less-serious"),
                                 description="Yêu cầu bản sao công chứng sổ hộ khẩu.")
    commendation = commendation_record(actor=city.user("home_affairs"), person=city.user("deputy"),
                                       level=CommendationLevel.objects.get(code="unit-certificate"),
                                       reason="Giải quyết dứt điểm hồ sơ tồn đọng từ năm 2025 của phường Lê Chân.",
                                       awarded_on=days_ago(2))
    return {"triaged": triaged, "late": late, "dispute": dispute, "refused": refused, "submitted": submitted,
            "land": land, "appraisal": appraisal, "inspection": inspection, "violation": violation,
            "commendation": commendation}


# Each list page: who opens it, where, its rows, and what in a row must be reachable on the phone (its action,
# or its reference link where a row has none).
PAGES = [
    ("triage", "clerk", "/triage/", "[data-test=triage-row]", "[data-test=route-submit]"),
    ("queue-clerk", "clerk", "/cases/", "[data-test=queue-row]", "[data-test=case-link]"),
    ("queue-head", "head", "/cases/", "[data-test=queue-row]", "[data-test=case-link]"),
    ("overdue-desk", "head", "/overdue/", "[data-test=desk-case]", "[data-test=reassign-submit]"),
    ("overdue-desk-opinions", "head", "/overdue/", "[data-test=desk-consultation]", "[data-test=reassign-submit]"),
    ("consultation-inbox", "consulted_head", "/consultations/", "[data-test=inbox-row]",
     "[data-test=respond-toggle]"),
    ("disputes", "admin", "/disputes/", "[data-test=dispute-row]", "[data-test=settle-submit]"),
    ("submissions", "city_office", "/submissions/", "[data-test=submission-row]", "[data-test=decide-submit]"),
    ("notifications", "head", "/notifications/", "[data-test=notification]", "[data-test=open]"),
    ("report-departments", "inspector", "/reports/departments/", "[data-test=figures-row]",
     "[data-test=desk-link]"),
    ("report-consultations", "inspector", "/reports/consultations/", "[data-test=figures-row]", "th"),
    ("report-deadlines", "inspector", "/reports/deadlines/", "[data-test=figures-row]", "[data-test=desk-link]"),
    ("staff-report", "inspector", "/oversight/staff-report/", "[data-test=staff-row]", "[data-test=evidence-link]"),
    ("staff-evidence", "inspector", "/oversight/staff-report/specialist/overdue/", "[data-test=evidence-row]",
     "[data-test=case-link]"),
    ("staff-evidence-refusals", "inspector", "/oversight/staff-report/head/refusals/", "[data-test=evidence-row]",
     "[data-test=case-link]"),
    ("oversight-home", "inspector", "/oversight/", "[data-test=due-first-row]", "a"),
    ("inspections", "inspector", "/oversight/inspections/", "[data-test=inspection-row]",
     "[data-test=inspection-link]"),
    ("violations", "inspector", "/oversight/violations/", "[data-test=violation-row]", "[data-test=violation-link]"),
    ("commendations", "home_affairs", "/oversight/commendations/", "[data-test=commendation-row]",
     "[data-test=commended]"),
]

# The right edge of the farthest thing shown in an element, its elements' boxes and its text's lines: a row whose
# every part is on screen ends inside it.
RIGHT_EDGE = """row => {
  const shown = [row, ...row.querySelectorAll('*')]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden');
  const edges = shown.map(e => e.getBoundingClientRect().right);
  const walker = document.createTreeWalker(row, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    for (const line of range.getClientRects()) edges.push(line.right);
  }
  return Math.max(...edges);
}"""


def in_vietnamese(text):
    with translation.override("vi"):
        return translation.gettext(text)


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def inside_the_screen(locator, width=PHONE["width"]):
    # Measured where it is, without scrolling: scrolling it into view would also scroll a table sideways.
    box = locator.bounding_box()
    assert box is not None, "not shown"
    return box["x"] >= 0 and box["x"] + box["width"] <= width


def open_on_a_phone(page, sign_in, user, url):
    sign_in(user)
    page.set_viewport_size(PHONE)
    page.goto(url)


@pytest.mark.parametrize(("name", "user", "url", "row", "action"), PAGES, ids=[p[0] for p in PAGES])
def test_a_list_page_fits_a_phone(page, sign_in, snapshot, lists, name, user, url, row, action):
    open_on_a_phone(page, sign_in, user, url)
    rows = page.locator(row)
    rows.first.wait_for()
    width = page_width(page)
    print(f"\n{name}: scrollWidth {width} px at 390 px, {rows.count()} row(s)")  # noqa: T201 (the report's figures)
    snapshot(f"phone-{name}")
    assert width <= PHONE["width"], f"{name} is {width} px wide"
    # Nor does a table scroll sideways inside its card: every row is a card the screen's width.
    assert page.evaluate("""Math.max(0, ...[...document.querySelectorAll('.table-responsive')]
        .map(box => box.scrollWidth - box.clientWidth))""") == 0, f"{name}: a table scrolls sideways"
    for i in range(rows.count()):
        target = rows.nth(i).locator(action).first
        assert inside_the_screen(target), f"{name}: row {i}'s {action} is off screen: {target.bounding_box()}"
        assert rows.nth(i).evaluate(RIGHT_EDGE) <= PHONE["width"], f"{name}: row {i} runs off the screen"


def test_a_queue_card_shows_code_title_unit_status_and_due_date(page, sign_in, lists):
    late = lists["late"]
    open_on_a_phone(page, sign_in, "head", "/cases/")
    card = page.locator(f"[data-test=queue-row][data-reference='{late.reference}']")
    for part in ("[data-test=case-link]", "[data-test=status]", "[data-test=overdue-badge]",
                 "[data-test=key-task-badge]"):
        assert inside_the_screen(card.locator(part)), part
    text = card.inner_text()
    assert late.title[:40] in text
    assert late.case_type.name in text
    # Each part is named by its column's heading, in Vietnamese, shown before it.
    labels = card.locator("[data-label]").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c, '::before').content)")
    assert labels == ['"Loại công việc"', '"Trạng thái"', '"Thời điểm tiếp nhận"', '"Người xử lý"', '"Hạn xử lý"']
    assert page.locator("[data-test=queue-table] thead").bounding_box()["width"] <= 1  # hidden from sight only
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_the_desk_card_shows_the_days_late_and_the_reassign_form(page, sign_in, lists):
    open_on_a_phone(page, sign_in, "head", "/overdue/")
    card = page.locator(f"[data-test=desk-case][data-reference='{lists['late'].reference}']")
    for part in ("[data-test=case-link]", "[data-test=days-late]", "[data-test=overdue-badge]",
                 "[data-test=reassign-select]", "[data-test=reassign-submit]"):
        assert inside_the_screen(card.locator(part)), part
    assert int(card.locator("[data-test=days-late]").inner_text()) >= 6


def test_the_answer_form_unfolds_inside_the_screen(page, sign_in, snapshot, lists):
    open_on_a_phone(page, sign_in, "consulted_head", "/consultations/")
    row = page.locator(f"[data-test=inbox-row][data-reference='{lists['appraisal'].reference}']")
    assert inside_the_screen(row.locator("[data-test=assign-submit]"))
    row.locator("[data-test=respond-toggle]").click()
    form = page.locator(f"[data-test=respond-row].show[data-id='{row.get_attribute('data-id')}']")
    form.wait_for()
    snapshot("phone-consultation-answer")
    assert page_width(page) <= PHONE["width"]
    assert inside_the_screen(form.locator("[data-test=respond-submit]"))


@pytest.mark.parametrize(("user", "url", "filters"), [
    ("head", "/cases/", "[data-test=queue-filters]"),
    ("head", "/overdue/", "[data-test=desk-filters]"),
    ("inspector", "/oversight/violations/", "[data-test=list-filters]"),
    ("inspector", "/oversight/inspections/", "[data-test=list-filters]"),
    ("admin", "/disputes/", "[data-test=dispute-filter]"),
], ids=["queue", "overdue-desk", "violations", "inspections", "disputes"])
def test_the_filters_fold_behind_one_button_on_a_phone(page, sign_in, snapshot, lists, user, url, filters):
    sign_in(user)
    page.goto(url)
    toggle = page.locator("[data-test=filters-toggle]")
    assert page.locator(filters).is_visible() and not toggle.is_visible()  # the desktop as it was

    page.set_viewport_size(PHONE)
    page.goto(url)
    assert toggle.is_visible() and not page.locator(filters).is_visible()
    assert toggle.inner_text().startswith(in_vietnamese("Filters"))
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.locator(f".collapse.show {filters}").wait_for()
    assert page.locator(filters).is_visible()
    snapshot(f"phone-filters-{url.strip('/').replace('/', '-')}")
    assert page_width(page) <= PHONE["width"]


@pytest.mark.parametrize(("user", "url", "filters"), [
    ("head", "/cases/?status=in_progress", "[data-test=queue-filters]"),
    ("head", "/overdue/?kind=overdue", "[data-test=desk-filters]"),
    ("inspector", "/oversight/violations/?status=open", "[data-test=list-filters]"),
    ("admin", "/disputes/?status=any", "[data-test=dispute-filter]"),
], ids=["queue", "overdue-desk", "violations", "disputes"])
def test_an_active_filter_starts_unfolded_and_the_button_says_so(page, sign_in, lists, user, url, filters):
    open_on_a_phone(page, sign_in, user, url)
    assert page.locator(filters).is_visible()
    toggle = page.locator("[data-test=filters-toggle]")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert toggle.locator("[data-test=filters-on]").inner_text() == "1"


def test_a_refusal_in_the_case_history_reads_as_a_timeline_entry(page, sign_in, snapshot, lists):
    case = lists["refused"]
    open_on_a_phone(page, sign_in, "head", f"/cases/{case.reference}/")
    refusal = page.locator("[data-test=event-history] [data-test=event][data-action=refused]")
    refusal.scroll_into_view_if_needed()
    snapshot("phone-case-history")
    assert page_width(page) <= PHONE["width"]
    note = case.events.get(action="refused").note
    box = refusal.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # The note wraps at the card's width: a few lines of text, not a word per line.
    lines = len(note) * 8 / box["width"]  # about 8 px a character at the page's size
    assert box["height"] < 200 + lines * 24, f"{box['height']} px for a note of {len(note)} characters"
    assert page.locator("[data-test=event-history] tbody").evaluate(RIGHT_EDGE) <= PHONE["width"]


def test_the_desktop_keeps_its_tables(page, sign_in, snapshot, lists):
    sign_in("head")
    page.goto("/cases/")
    assert page.locator("[data-test=queue-table] thead").is_visible()
    assert page.locator("[data-test=queue-row]").first.evaluate("r => getComputedStyle(r).display") == "table-row"
    snapshot("desktop-queue")
    page.goto("/overdue/")
    assert page.locator("[data-test=desk-cases-table] thead").is_visible()
    snapshot("desktop-overdue-desk")
