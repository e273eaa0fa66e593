"""The overdue desk in a real browser: the head of Sở Xây dựng opens it, finds the longest overdue case on top,
reassigns it in place to the specialist and stays on the desk, which now names the new assignee. An inspector
reads the city's deadline view, drawn by the vendored Chart.js, and opens one unit's desk from it.

The UI runs in Vietnamese; elements are found by ids, names, data-test attributes and URLs. Due dates are set
relative to today, because the live server runs on the real clock.
"""

import datetime as dt

import pytest
from django.utils import timezone

from cases.measures import Window
from cases.models import Case, EventAction, Status

pytestmark = pytest.mark.browser


def set_due(case, due_date):
    Case.unscoped.filter(pk=case.pk).update(due_date=due_date)


def test_the_head_reassigns_the_most_overdue_case_from_the_desk(page, sign_in, snapshot, city, log_case):
    window = Window.at(timezone.now())
    late = log_case(title="Cấp phép sửa chữa nhà số 5 Điện Biên Phủ")
    soon = log_case(title="Cấp phép xây dựng nhà ở số 21 Lê Lợi")
    log_case(title="Cấp phép công trình chưa đến hạn")  # due in 15 working days: not on the desk
    set_due(late, window.today - dt.timedelta(days=10))
    set_due(soon, window.soon)

    sign_in("head")
    page.click("[data-test=nav-overdue-desk]")
    page.wait_for_selector("[data-test=desk-cases]")
    assert page.url.endswith("/overdue/")
    rows = page.locator("[data-test=desk-case]")
    assert [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())] == [late.reference,
                                                                                          soon.reference]
    first = rows.first
    assert int(first.locator("[data-test=days-late]").inner_text()) >= 6  # ten calendar days, in working days
    assert first.locator("[data-test=overdue-badge]").is_visible()
    assert "Luật Xây dựng 2014, Điều 103" in first.locator("[data-test=legal-basis]").inner_text()
    assert rows.nth(1).locator("[data-test=due-soon-badge]").is_visible()
    snapshot("overdue-desk")

    first.locator("[data-test=reassign-select]").select_option("specialist")
    first.locator("[data-test=reassign-submit]").click()
    page.wait_for_selector("[data-test=message-success]")
    assert page.url.endswith("/overdue/")
    assert late.reference in page.inner_text("[data-test=message-success]")
    row = page.locator(f"[data-test=desk-case][data-reference='{late.reference}']")
    assert row.locator("[data-test=assignee]").inner_text() == "Phạm Minh Tuấn"
    # The assignee is named above the form; the form itself starts blank again, ready for the next move.
    assert row.locator("[data-test=reassign-select]").input_value() == ""
    snapshot("overdue-desk-reassigned")

    late.refresh_from_db()
    assert (late.assignee, late.status) == (city.user("specialist"), Status.IN_PROGRESS)
    assert late.events.filter(action=EventAction.ASSIGNED, actor=city.user("head")).exists()


def test_an_inspector_reads_the_city_chart_and_opens_a_units_desk(page, sign_in, snapshot, city, log_case):
    window = Window.at(timezone.now())
    late = log_case(title="Cấp phép sửa chữa nhà số 5 Điện Biên Phủ")
    set_due(late, window.today - dt.timedelta(days=10))
    log_case(title="Giao đất xây dựng chợ An Dương", case_type=city.land)

    sign_in("inspector")
    page.click("[data-test=nav-reports]")
    page.click("[data-test=nav-deadlines]")
    page.wait_for_selector("[data-test=deadline-figures]")
    # The script marks the canvas once Chart.js has drawn one bar per unit.
    page.wait_for_selector("#deadline-chart[data-ready='2']")
    assert page.evaluate("Chart.getChart('deadline-chart').data.datasets.map(d => d.data)") == [[1, 0], [0, 0],
                                                                                                [0, 1]]
    row = page.locator("[data-test=figures-row][data-unit=sxd]")
    assert row.locator("[data-test=overdue]").inner_text() == "1"
    snapshot("city-deadlines")

    row.locator("[data-test=desk-link]").click()
    page.wait_for_selector("[data-test=desk-cases]")
    assert page.url.endswith("/overdue/?department=sxd")
    assert page.locator("[data-test=desk-case]").get_attribute("data-reference") == late.reference
    assert page.locator("[data-test=reassign-form]").count() == 0  # an inspector reads, the unit's head acts
