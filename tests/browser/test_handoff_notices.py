"""Hand-off notices in a real browser: a case the clerk logs reaches its unit's head in the bell, whose menu
opens on the page without leaving it, at desktop and phone widths; opening a notice reads it and shows the
case; the head turns off mail for one kind, and the page keeps the choice."""

import pytest

from cases.models import NoticeKind, Notification
from core.models import MailChoice

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1366, 390])
def test_the_head_sees_the_new_case_in_the_bell_menu_and_opens_it(page, sign_in, snapshot, city, log_case, width):
    case = log_case(title="Xin cấp phép xây dựng nhà ở số 7 Lê Lợi")
    sign_in("head")
    page.set_viewport_size({"width": width, "height": 844 if width == 390 else 900})
    page.goto("/cases/")
    assert page.inner_text("[data-test=nav-unread-count]").startswith("1")
    here = page.url

    page.click("[data-test=nav-bell]")
    menu = page.locator("[data-test=bell-menu].show")
    menu.locator("[data-test=bell-notice]").first.wait_for()
    snapshot(f"bell-menu-{width}")

    # Still on the page it was opened from, the menu inside the screen.
    assert page.url == here
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    item = menu.locator("[data-test=bell-notice]")
    assert item.count() == 1
    assert item.inner_text().startswith(f"Hồ sơ mới chuyển đến đơn vị: {case.reference}")

    item.locator("button").click()
    page.wait_for_url(f"**/cases/{case.reference}/")
    assert page.locator("[data-test=nav-unread-count]").count() == 0
    assert Notification.objects.get(recipient=city.user("head"), kind=NoticeKind.ROUTED).read_at is not None


def test_the_head_turns_off_mail_for_new_cases(page, sign_in, snapshot, city):
    sign_in("head")
    page.click("[data-test=nav-bell]")
    page.locator("[data-test=bell-menu].show [data-test=bell-empty]").wait_for()
    page.click("[data-test=bell-mail]")
    page.wait_for_url("**/notifications/mail/")

    page.uncheck("[data-test=mail-routed]")
    snapshot("mail-choices-1366")
    page.click("[data-test=save-mail-choices]")
    page.wait_for_selector("[data-test=message-success]")

    assert not page.is_checked("[data-test=mail-routed]")
    assert page.is_checked("[data-test=mail-opinion_given]")
    assert list(MailChoice.objects.filter(user=city.user("head"), mail=False).values_list("kind", flat=True)) == [
        NoticeKind.ROUTED]
