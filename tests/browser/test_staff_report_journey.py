"""Home Affairs reads the staff performance report in a real browser: the specialist of Sở Xây dựng, behind on
three cases, is on the needs-review list; the reason's link opens the evidence, which names those cases, and
one of them opens from there.

The UI runs in Vietnamese; elements are found by data-test attributes and URLs. Due dates are set relative to
today, because the live server runs on the real clock; the report's lines are the admins' defaults (three
cases overdue now put a person on the list).
"""

import datetime as dt

import pytest
from django.utils import timezone

from cases.measures import working_days_late
from cases.models import Case
from cases.services import case_accept
from departments.workdays import local_date

pytestmark = pytest.mark.browser


def overdue_case(city, log_case, title, days):
    case = case_accept(case=log_case(title=title), actor=city.user("specialist"))
    Case.unscoped.filter(pk=case.pk).update(due_date=local_date(timezone.now()) - dt.timedelta(days=days))
    case.refresh_from_db()
    return case


def test_home_affairs_follows_a_needs_review_row_to_its_evidence(page, sign_in, snapshot, city, log_case):
    late = [overdue_case(city, log_case, title, days) for title, days in [
        ("Cấp phép sửa chữa nhà số 5 Điện Biên Phủ", 20), ("Cấp phép xây dựng nhà ở số 21 Lê Lợi", 12),
        ("Cấp phép cải tạo trụ sở phường Lê Chân", 5)]]
    on_time = case_accept(case=log_case(title="Cấp phép công trình chưa đến hạn"), actor=city.user("deputy"))

    sign_in("home_affairs")
    page.click("[data-test=nav-oversight]")
    page.click("[data-test=nav-staff-report]")
    page.wait_for_selector("[data-test=staff-table]")
    assert page.url.endswith("/oversight/staff-report/")
    review = page.locator("[data-test=review-row]")
    assert review.count() == 1
    row = page.locator("[data-test=review-row][data-person=specialist]")
    assert row.locator("[data-test=person-name]").inner_text() == "Phạm Minh Tuấn"
    assert row.locator("[data-test=record-violation]").is_visible()
    table_row = page.locator("[data-test=staff-row][data-person=specialist]")
    assert table_row.locator("[data-figure=overdue]").inner_text() == "3"
    snapshot("staff-report")

    reason = row.locator("[data-test=reason-link][data-reason=overdue]")
    reason.click()
    page.wait_for_selector("[data-test=evidence]")
    assert "/oversight/staff-report/specialist/overdue/" in page.url
    assert "Phạm Minh Tuấn" in page.inner_text("[data-test=evidence-heading]")
    rows = page.locator("[data-test=evidence-row]")
    # Longest overdue first: the page lists what the number counted, and nothing else.
    assert [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())] == [
        case.reference for case in late]
    assert on_time.reference not in page.inner_text("[data-test=evidence]")
    today = local_date(timezone.now())
    assert int(rows.first.locator("[data-test=days-late]").inner_text()) == working_days_late(late[0].due_date, today)
    snapshot("staff-evidence")

    rows.first.locator("[data-test=case-link]").click()
    page.wait_for_selector("[data-test=case-reference]")
    assert page.url.endswith(f"/cases/{late[0].reference}/")
    assert page.inner_text("[data-test=case-title]") == late[0].title
    assert page.inner_text("[data-test=case-reference]") == late[0].reference

    page.go_back()
    page.click("[data-test=back-to-report]")
    page.wait_for_selector("[data-test=staff-table]")
    assert page.locator("[data-test=review-row][data-person=specialist]").is_visible()
