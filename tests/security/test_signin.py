"""Sign-in that resists guessing: django-axes locks a (username, address) pair out after LOGIN_FAILURE_LIMIT
failures on any of the three doors (the login page, the admin's login, the API's token endpoint), for
LOGIN_COOLOFF_MINUTES; an admin lifts it early; password reset mails are limited; old hashes become Argon2.

Axes stamps attempts with its own `now`, bound when it was imported, so moving Django's clock does not move
its cool-off: the tests age the stored attempt instead, which is what the cool-off is computed from.
"""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.db.models import F
from django.test import Client
from rest_framework.test import APIClient

from core.signin import lockout_message
from tests.support.api import TOKEN_URL, issue_token, token_client
from tests.support.world import PASSWORD

WRONG = "not-the-password"


def login_page(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def admin_login(client, username, password):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password,
                                                      "next": "/admin/"})


def token_endpoint(client, username, password):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


# door -> (how to knock, status of a wrong password, status of the right one)
DOORS = {
    "login page": (login_page, 200, 302),
    "admin login": (admin_login, 200, 302),
    "token endpoint": (token_endpoint, 400, 200),
}


def age_attempts(by: dt.timedelta) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


def assert_locked_out(door, response):
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    if door == "token endpoint":
        assert response.json() == {"detail": lockout_message(), "code": "locked_out"}
    else:
        assert response["Content-Type"].startswith("text/html")
        assert lockout_message() in response.content.decode()


@pytest.mark.parametrize("door", DOORS)
def test_lockout_after_the_fifth_failure_then_sign_in_after_the_cool_off(city, settings, door):
    knock, wrong_status, right_status = DOORS[door]
    client = APIClient()
    username = "admin"

    statuses = [knock(client, username, WRONG).status_code for _ in range(settings.LOGIN_FAILURE_LIMIT)]

    assert statuses == [wrong_status] * 4 + [429]
    # Locked: the right password is refused too, without being checked.
    assert_locked_out(door, knock(client, username, PASSWORD))
    # A minute before the cool-off ends the pair is still locked...
    age_attempts(dt.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES - 1))
    assert knock(client, username, PASSWORD).status_code == 429
    # ...(and that refusal started the cool-off again); once it has passed, the right password signs in.
    age_attempts(dt.timedelta(minutes=settings.LOGIN_COOLOFF_MINUTES, seconds=1))
    assert knock(client, username, PASSWORD).status_code == right_status
    assert not AccessAttempt.objects.exists()


def test_the_three_doors_count_together(city):
    client = APIClient()
    login_page(client, "admin", WRONG)
    login_page(client, "admin", WRONG)
    admin_login(client, "admin", WRONG)
    admin_login(client, "admin", WRONG)

    assert token_endpoint(client, "admin", WRONG).status_code == 429
    for door, (knock, _wrong, _right) in DOORS.items():
        assert_locked_out(door, knock(client, "admin", PASSWORD))


def test_the_lock_holds_one_username_from_one_address(city):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(5):
        login_page(attacker, "clerk", WRONG)
    assert login_page(attacker, "clerk", PASSWORD).status_code == 429

    # The clerk at their own desk is not locked out by someone guessing elsewhere...
    assert login_page(Client(REMOTE_ADDR="10.0.0.7"), "clerk", PASSWORD).status_code == 302
    # ...nor is another person at the guessing computer.
    assert login_page(attacker, "head", PASSWORD).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(city):
    client = Client()
    for _ in range(4):
        login_page(client, "clerk", WRONG)
    assert login_page(client, "clerk", PASSWORD).status_code == 302

    client.logout()
    for _ in range(4):
        assert login_page(client, "clerk", WRONG).status_code == 200


def test_the_lockout_page_speaks_the_site_language(city):
    client = Client()
    for _ in range(5):
        response = login_page(client, "clerk", WRONG)

    assert response.status_code == 429
    assert 'lang="vi"' in response.content.decode()
    assert "data-test=\"locked-out-message\"" in response.content.decode()


def test_an_admin_unlocks_by_deleting_the_access_attempt(city):
    guesser = Client()
    for _ in range(5):
        login_page(guesser, "clerk", WRONG)
    assert login_page(guesser, "clerk", PASSWORD).status_code == 429
    [attempt] = AccessAttempt.objects.all()
    assert (attempt.username, attempt.failures_since_start) == ("clerk", 6)

    admin = Client(REMOTE_ADDR="10.0.0.1")
    admin.force_login(city.user("admin"))
    listed = admin.get("/admin/axes/accessattempt/")
    assert listed.status_code == 200 and "clerk" in listed.content.decode()
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert login_page(guesser, "clerk", PASSWORD).status_code == 302


# --- password reset ------------------------------------------------------------------------------------------


@pytest.fixture
def reset_limits(settings):
    # A cache of this test's own: the counters must start at nothing, whatever cache the settings name.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "password-reset-tests"}}
    settings.PASSWORD_RESET_PER_HOUR = 3
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def ask_reset(client, email):
    return client.post("/accounts/password_reset/", {"email": email})


def test_password_reset_sends_at_most_the_limit_per_address(city, reset_limits):
    email = city.user("clerk").email
    answers = [ask_reset(Client(REMOTE_ADDR=f"10.0.1.{n}"), email) for n in range(5)]

    assert len(mail.outbox) == 3
    assert {mail_.to[0] for mail_ in mail.outbox} == {email}
    # Past the limit the answer is the one a sent mail gets: nothing tells a prober what happened.
    assert {(answer.status_code, answer.url) for answer in answers} == {(302, "/accounts/password_reset/done/")}


def test_password_reset_sends_at_most_the_limit_per_client(city, reset_limits):
    prober = Client(REMOTE_ADDR="203.0.113.50")
    for name in ["clerk", "head", "deputy", "specialist", "inspector"]:
        assert ask_reset(prober, city.user(name).email).status_code == 302

    assert len(mail.outbox) == 3
    # Someone else, from another computer, is not held back by the prober.
    ask_reset(Client(REMOTE_ADDR="10.0.0.8"), city.user("inspector").email)
    assert len(mail.outbox) == 4


def test_unknown_addresses_count_against_the_client_too(city, reset_limits):
    prober = Client(REMOTE_ADDR="203.0.113.51")
    for n in range(3):
        ask_reset(prober, f"nobody{n}@example.test")

    ask_reset(prober, city.user("clerk").email)

    assert mail.outbox == []


def test_password_reset_pages_render(city, reset_limits):
    client = Client()
    form = client.get("/accounts/password_reset/")
    done = client.get("/accounts/password_reset/done/")

    assert form.status_code == 200 and 'data-test="password-reset-form"' in form.content.decode()
    assert done.status_code == 200 and 'data-test="password-reset-done"' in done.content.decode()
    assert 'data-test="password-reset-link"' in client.get("/accounts/login/").content.decode()


# --- hashing -------------------------------------------------------------------------------------------------


def test_an_older_hash_becomes_argon2_at_the_next_sign_in_and_keeps_the_tokens(city, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    User = get_user_model()
    User.objects.filter(username="clerk").update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    token = issue_token(city.user("clerk"))

    assert login_page(Client(), "clerk", PASSWORD).status_code == 302

    stored = User.objects.get(username="clerk").password
    assert stored.startswith("argon2$")
    # The same password in a new hash is not a password change: the person's tokens live on.
    assert token_client(token).get("/api/v1/cases/").status_code == 200
    assert login_page(Client(), "clerk", PASSWORD).status_code == 302


def test_argon2_is_the_first_hasher():
    from cityops import settings as site_settings

    assert site_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


# --- signing out -----------------------------------------------------------------------------------------------

def test_signing_out_is_a_post_and_the_login_page_then_says_so(city):
    client = Client()
    client.force_login(city.user("head"))
    token = issue_token(city.user("head"))

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain == [("/accounts/login/", 302)]
    assert "Bạn đã đăng xuất" in response.content.decode()
    assert client.get("/cases/").status_code == 302
    # Signing out of the site ends the person's API tokens too.
    assert token_client(token).get("/api/v1/cases/").status_code == 401


def test_a_typed_logout_address_asks_first_and_signs_nobody_out(city):
    client = Client()
    client.force_login(city.user("head"))

    page = client.get("/accounts/logout/")

    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-test="logout-confirm"' in body and 'method="post" action="/accounts/logout/"' in body
    assert client.get("/cases/").status_code == 200


def test_a_typed_logout_address_takes_someone_signed_out_to_the_login_page(db):
    response = Client().get("/accounts/logout/")

    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
