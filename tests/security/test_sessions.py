"""Sessions that end: SESSION_IDLE_MINUTES without activity, SESSION_MAX_HOURS in all; the page's own check of
the time left is not activity, the "stay signed in" keep-alive is."""

import datetime as dt
import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.sessions import LAST_ACTIVE, STARTED
from tests.support.api import issue_token, token_client

PAGE = "/notifications/"
STATUS = "/accounts/session/"
KEEP_ALIVE = "/accounts/session/keep-alive/"


@pytest.fixture
def start(clock):
    return clock.set(timezone.now().replace(microsecond=0))


@pytest.fixture
def head(signed_in, start):
    return signed_in("head")


def at(clock, start, **delta):
    clock.set(start + dt.timedelta(**delta))


def assert_sent_to_login(response, path=PAGE):
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={path}"


def test_signing_in_starts_both_clocks(head, start):
    assert head.session[STARTED] == head.session[LAST_ACTIVE] == start.timestamp()


def test_an_idle_session_ends_and_the_login_page_says_why(head, clock, start, settings):
    at(clock, start, minutes=settings.SESSION_IDLE_MINUTES - 1)
    assert head.get(PAGE).status_code == 200
    at(clock, start, minutes=2 * settings.SESSION_IDLE_MINUTES - 2)
    assert head.get(PAGE).status_code == 200

    at(clock, start, minutes=3 * settings.SESSION_IDLE_MINUTES - 2)
    response = head.get(PAGE)

    assert_sent_to_login(response)
    assert SESSION_KEY not in head.session
    login = head.get(response.url)
    assert login.status_code == 200
    assert [str(message) for message in login.context["messages"]] == [
        f"Bạn đã được đăng xuất sau {settings.SESSION_IDLE_MINUTES} phút không thao tác. Vui lòng đăng nhập lại."]
    # Signed out for good: the next page asks for a sign-in again, with no second message.
    assert_sent_to_login(head.get(PAGE))


def test_a_session_ends_after_its_maximum_whatever_the_activity(head, clock, start, settings):
    step = settings.SESSION_IDLE_MINUTES - 5
    minutes = step
    while minutes < settings.SESSION_MAX_HOURS * 60:
        at(clock, start, minutes=minutes)
        assert head.get(PAGE).status_code == 200, minutes
        minutes += step

    at(clock, start, hours=settings.SESSION_MAX_HOURS)
    response = head.get(PAGE)

    assert_sent_to_login(response)
    login = head.get(response.url)
    assert [str(message) for message in login.context["messages"]] == [
        f"Bạn đã được đăng xuất: một phiên làm việc kéo dài tối đa {settings.SESSION_MAX_HOURS} giờ. "
        "Vui lòng đăng nhập lại."]


def test_checking_the_time_left_is_not_activity(head, clock, start, settings):
    idle = settings.SESSION_IDLE_MINUTES
    at(clock, start, minutes=idle - 2)
    status = head.get(STATUS)
    # Any request marked passive is not activity either (what a polling script sends).
    head.get(PAGE, headers={"X-Session-Passive": "1"})

    assert status.status_code == 200
    assert status.json() == {"seconds_left": 120, "idle_seconds": idle * 60,
                             "warning_seconds": settings.SESSION_IDLE_WARNING_MINUTES * 60}
    assert status["Cache-Control"].startswith("max-age=0")
    at(clock, start, minutes=idle)
    ended = head.get(STATUS)
    assert (ended.status_code, ended.json()["code"]) == (401, "session_expired")
    assert SESSION_KEY not in head.session
    # The page that found the end goes to the login page next, which says why.
    login = head.get(reverse("login"))
    assert [str(message) for message in login.context["messages"]] == [ended.json()["detail"]]


def test_staying_signed_in_counts_as_activity(head, clock, start, settings):
    idle = settings.SESSION_IDLE_MINUTES
    at(clock, start, minutes=idle - 1)

    stay = head.post(KEEP_ALIVE)

    assert stay.status_code == 200
    assert stay.json()["seconds_left"] == idle * 60
    at(clock, start, minutes=2 * idle - 2)
    assert head.get(PAGE).status_code == 200


def test_the_keep_alive_needs_the_csrf_token(city, start):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(city.user("head"))
    page = browser.get(PAGE)
    token = re.search(r'data-csrf-token="([^"]+)"', page.content.decode()).group(1)

    assert browser.post(KEEP_ALIVE).status_code == 403
    assert browser.post(KEEP_ALIVE, headers={"X-CSRFToken": token}).status_code == 200


def test_session_routes_answer_only_their_methods_and_only_signed_in(head, signed_in):
    assert head.post(STATUS).status_code == 405
    assert head.get(KEEP_ALIVE).status_code == 405
    anonymous = signed_in("anonymous")
    assert anonymous.get(STATUS).status_code == 401
    assert anonymous.post(KEEP_ALIVE).status_code == 401


def test_an_api_call_on_an_ended_session_is_401_json_not_a_redirect(city, api, clock, start, settings):
    client = api("head")
    assert client.get("/api/v1/cases/").status_code == 200

    at(clock, start, minutes=settings.SESSION_IDLE_MINUTES + 1)
    response = client.get("/api/v1/cases/")

    assert response.status_code == 401
    assert response.json()["code"] == "session_expired"
    assert response["WWW-Authenticate"] == "Token"


def test_an_ended_session_leaves_the_api_tokens_alone(city, head, clock, start, settings):
    token = issue_token(city.user("head"))
    at(clock, start, minutes=settings.SESSION_IDLE_MINUTES + 1)

    assert_sent_to_login(head.get(PAGE))

    assert token_client(token).get("/api/v1/cases/").status_code == 200


def test_a_token_call_that_carries_an_ended_session_goes_on_with_its_token(city, head, clock, start, settings):
    token = issue_token(city.user("head"), made_at=start)
    at(clock, start, minutes=settings.SESSION_IDLE_MINUTES + 1)

    response = head.get("/api/v1/cases/", headers={"Authorization": f"Token {token}"})

    assert response.status_code == 200
    assert SESSION_KEY not in head.session


def test_pages_tell_the_warning_script_the_session_clock(head, settings, signed_in):
    body = head.get(PAGE).content.decode()

    tag = re.search(r"<body[^>]*>", body).group(0)
    assert f'data-session-idle-seconds="{settings.SESSION_IDLE_MINUTES * 60}"' in tag
    assert f'data-session-warning-seconds="{settings.SESSION_IDLE_WARNING_MINUTES * 60}"' in tag
    assert f'data-session-keep-alive-url="{KEEP_ALIVE}"' in tag
    assert 'data-test="session-warning"' in body
    assert re.search(r'<script src="[^"]*js/session\.js" defer></script>', body)
    # The strict content policy runs no inline script: every script tag loads a file.
    assert all("src=" in script for script in re.findall(r"<script[^>]*>", body))

    anonymous = signed_in("anonymous").get(reverse("login")).content.decode()
    assert "data-session-idle-seconds" not in anonymous and "session.js" not in anonymous


def test_a_session_from_before_the_clocks_starts_them_at_its_next_request(head, clock, start, settings):
    session = head.session
    del session[STARTED], session[LAST_ACTIVE]
    session.save()
    later = start + dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES + 5)
    clock.set(later)

    assert head.get(PAGE).status_code == 200
    assert head.session[STARTED] == head.session[LAST_ACTIVE] == later.timestamp()
