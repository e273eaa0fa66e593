"""The warning before an idle session ends, in a real browser: it appears before the end, "stay signed in" keeps
the session and what was typed; left alone, the session ends and the page keeps what was typed.

The live server runs in this process, so the settings below shorten its session clock to seconds.
"""

import pytest

pytestmark = pytest.mark.browser

IDLE_SECONDS = 12
WARNING_SECONDS = 9
DESCRIPTION = "Nhà 5 tầng trên thửa đất 90 m², mặt tiền 5 m."


@pytest.fixture
def short_session(settings):
    settings.SESSION_IDLE_MINUTES = IDLE_SECONDS / 60
    settings.SESSION_IDLE_WARNING_MINUTES = WARNING_SECONDS / 60


def open_new_case_and_type(page, sign_in):
    sign_in("clerk")
    page.goto("/cases/new/")
    page.fill("#id_description", DESCRIPTION)


def test_the_warning_appears_and_staying_keeps_the_session(page, sign_in, city, short_session, snapshot):
    open_new_case_and_type(page, sign_in)
    warning = page.locator("[data-test=session-warning]")
    assert not warning.is_visible()

    # Due at IDLE - WARNING seconds after the page loaded.
    warning.wait_for(state="visible", timeout=(IDLE_SECONDS - WARNING_SECONDS + 4) * 1000)
    snapshot("session-warning")
    assert page.locator("[data-session-warning-text]").inner_text()
    page.click("[data-test=session-stay]")
    warning.wait_for(state="hidden")

    # Past the end the page would have had without the keep-alive, the session is still there...
    page.wait_for_timeout(WARNING_SECONDS * 1000)
    assert page.input_value("#id_description") == DESCRIPTION
    page.goto("/cases/new/")
    assert page.locator("[data-test=current-user]").count() == 1
    assert "/accounts/login/" not in page.url


def test_left_alone_the_session_ends_and_the_page_keeps_what_was_typed(page, sign_in, city, short_session):
    open_new_case_and_type(page, sign_in)

    ended = page.locator("[data-test=session-warning]")
    page.wait_for_function(
        "() => !document.querySelector('[data-session-stay]') ||"
        " document.querySelector('[data-session-stay]').hidden",
        timeout=(IDLE_SECONDS + 5) * 1000)

    assert ended.is_visible()
    assert page.input_value("#id_description") == DESCRIPTION
    page.goto("/cases/new/")
    assert "/accounts/login/" in page.url
    assert page.locator("[data-test=message-warning]").count() == 1
