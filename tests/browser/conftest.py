"""Browser tests drive Debian's Chromium through Playwright against pytest-django's live server.

Playwright's sync API runs an event loop in this thread, so Django's guard against ORM calls from async
code would trip on the live server's fixtures; the tests make no async ORM calls, so it is switched off.
"""

import os
from pathlib import Path

import pytest

from tests.support.world import PASSWORD

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install Debian's chromium package to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    # A Vietnamese official's browser: LocaleMiddleware follows Accept-Language, and Vietnamese is the default.
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    """Sign in through the login form, as a person would; lands on the page `home` sends them to."""

    def sign_in(username):
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("[data-test=login-submit]")
        page.wait_for_selector("[data-test=current-user]")

    return sign_in


@pytest.fixture
def snapshot(page):
    """Save a full-page screenshot when BROWSER_SCREENSHOTS names a folder (for reviewing the look by eye)."""
    folder = os.environ.get("BROWSER_SCREENSHOTS")

    def take(name):
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def oversight_choices(transactional_db):
    """The lists that migration seeds: a transactional test's database is emptied after each test, taking the
    migration's rows with it, so a journey that picks from them seeds them again (the same function)."""
    from importlib import import_module

    from django.apps import apps

    import_module("oversight.migrations.0002_choices").create_choices(apps, None)
