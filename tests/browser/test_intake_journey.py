"""A case's first day, in a real browser: logged at the intake desk, found and opened by the owner's head.

The UI runs in Vietnamese by default and has no translations yet, so elements are found by ids, names,
data-test attributes and URLs, never by visible English text.
"""

import re

import pytest
from django.utils import timezone

from cases.models import Case
from departments.workdays import get_calendar, local_date

pytestmark = pytest.mark.browser


def test_a_clerk_logs_a_case_and_the_owner_finds_it(page, sign_in, snapshot, city):
    sign_in("clerk")
    assert page.url.endswith("/cases/new/")  # the intake desk starts at intake
    page.fill("#id_title", "Xin cấp phép xây dựng nhà ở riêng lẻ số 25 Lạch Tray")
    page.fill("#id_description", "Nhà 5 tầng trên thửa đất 90 m².")
    page.select_option("#id_case_type", "building-permit")
    page.select_option("#id_locality", "p-le-chan")
    page.fill("#id_applicant_name", "Đỗ Thị Mai")
    page.fill("#id_applicant_contact", "0904 111 222")
    page.click("[data-test=preview-routing]")

    owner = page.locator("[data-test=preview-owner]")
    assert owner.inner_text() == "Sở Xây dựng"
    due = get_calendar().due_date(local_date(timezone.now()), 15)
    assert page.locator("[data-test=preview-due-date] time").get_attribute("datetime") == due.isoformat()
    assert Case.unscoped.count() == 0
    snapshot("intake-preview")

    page.click("[data-test=save-case]")
    page.wait_for_url(re.compile(r"/cases/[A-Z0-9]+-\d{6}-\d{4}/$"))
    reference = page.locator("[data-test=case-reference]").inner_text()
    assert reference in page.locator("[data-test=message-success]").inner_text()
    assert Case.unscoped.get().reference == reference

    page.click("[data-test=logout]")
    page.wait_for_url("**/accounts/login/")
    sign_in("head")
    assert page.url.endswith("/cases/")
    row = page.locator(f"[data-test=queue-row][data-reference='{reference}']")
    assert row.count() == 1
    snapshot("queue")
    row.locator("[data-test=case-link]").click()
    page.wait_for_url(f"**/cases/{reference}/")
    actions = page.locator("[data-test=event-history] [data-test=event]")
    assert [actions.nth(i).get_attribute("data-action") for i in range(actions.count())] == ["created", "routed"]
    assert "Đỗ Thị Mai" in page.inner_text("[data-test=case-facts]")
    snapshot("detail")


def test_switching_to_english_changes_the_ui_language(page, sign_in, city):
    sign_in("clerk")
    assert page.get_attribute("html", "lang") == "vi"
    vietnamese_logout = page.inner_text("[data-test=logout]")
    page.click("[data-test=lang-en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url.endswith("/cases/new/")  # back where the switch was pressed
    # Django ships Vietnamese for its own words, so the log-out button changes language too.
    assert page.inner_text("[data-test=logout]") != vietnamese_logout
    assert page.get_attribute("[data-test=lang-en]", "aria-pressed") == "true"
