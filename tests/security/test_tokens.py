"""API tokens that end: after API_TOKEN_HOURS, when their owner or an admin revokes them, and when the person
signs out, changes their password by any path or is deactivated. Only their digest is stored."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from knox.models import AuthToken

from tests.support.api import issue_token, obtain_token, token_client
from tests.support.world import PASSWORD

CASES = "/api/v1/cases/"
TOKENS = "/api/v1/auth/tokens/"
NEW_PASSWORD = "another-horse-battery-7"


def works(token) -> bool:
    return token_client(token).get(CASES).status_code == 200


def test_a_token_ends_after_api_token_hours(city, settings):
    assert settings.API_TOKEN_HOURS == 10
    now = timezone.now()
    nine_hours = issue_token(city.user("clerk"), made_at=now - dt.timedelta(hours=9))
    eleven_hours = issue_token(city.user("clerk"), made_at=now - dt.timedelta(hours=11))
    four_hundred_days = issue_token(city.user("clerk"), made_at=now - dt.timedelta(days=400))

    assert works(nine_hours)
    response = token_client(eleven_hours).get(CASES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert not works(four_hundred_days)
    # An expired token is deleted when it is presented, not merely refused.
    assert AuthToken.objects.filter(user=city.user("clerk")).count() == 1


def test_expired_tokens_nobody_presents_are_removed_at_the_next_sign_in(city):
    clerk = city.user("clerk")
    live = issue_token(clerk, made_at=timezone.now() - dt.timedelta(hours=9))
    for hours in (11, 30):
        issue_token(clerk, made_at=timezone.now() - dt.timedelta(hours=hours))
    issue_token(city.user("head"), made_at=timezone.now() - dt.timedelta(hours=11))

    # A request with a live token reads that token only, and leaves the others as they are.
    assert works(live)
    assert AuthToken.objects.filter(user=clerk).count() == 3

    fresh = obtain_token("clerk").json()["token"]

    assert works(live) and works(fresh)
    assert AuthToken.objects.filter(user=clerk).count() == 2
    # Another person's expired token waits for their own sign-in (or for being presented).
    assert AuthToken.objects.filter(user=city.user("head")).count() == 1


def test_a_fresh_token_stops_working_once_the_clock_passes_its_expiry(city, clock):
    token = obtain_token("clerk").json()["token"]
    assert works(token)

    clock.set(timezone.now() + dt.timedelta(hours=10, minutes=1))

    assert not works(token)


def test_the_owner_lists_their_own_live_tokens_without_secrets(city):
    mine = obtain_token("clerk").json()["token"]
    other = obtain_token("clerk").json()["token"]
    issue_token(city.user("clerk"), made_at=timezone.now() - dt.timedelta(hours=11))
    obtain_token("head")

    response = token_client(mine).get(TOKENS)

    assert response.status_code == 200
    rows = response.json()
    assert [set(row) for row in rows] == [{"token_key", "created", "expiry", "current"}] * 2
    assert {row["token_key"]: row["current"] for row in rows} == {mine[:15]: True, other[:15]: False}
    assert mine not in response.content.decode() and other not in response.content.decode()
    for stored in AuthToken.objects.all():
        assert stored.digest not in response.content.decode()


def test_the_owner_revokes_a_token_by_its_handle(city):
    kept = obtain_token("clerk").json()["token"]
    revoked = obtain_token("clerk").json()["token"]

    response = token_client(kept).delete(f"{TOKENS}{revoked[:15]}/")

    assert response.status_code == 204
    assert not works(revoked)
    assert works(kept)


def test_nobody_revokes_another_persons_token(city):
    theirs = obtain_token("head").json()["token"]

    response = token_client(obtain_token("clerk").json()["token"]).delete(f"{TOKENS}{theirs[:15]}/")

    assert response.status_code == 404
    assert works(theirs)


def test_tokens_are_listed_and_revoked_from_a_signed_in_session_too(city, api):
    token = obtain_token("clerk").json()["token"]
    client = api("clerk")

    assert [row["current"] for row in client.get(TOKENS).json()] == [False]
    assert client.delete(f"{TOKENS}{token[:15]}/").status_code == 204
    assert not works(token)


def test_api_logout_revokes_the_token_it_is_made_with_only(city):
    current = obtain_token("clerk").json()["token"]
    other = obtain_token("clerk").json()["token"]

    assert token_client(current).post("/api/v1/auth/logout/").status_code == 204

    assert not works(current)
    assert works(other)


def test_anonymous_token_routes_are_401(city):
    client = token_client("0" * 64)
    for response in (client.get(TOKENS), client.delete(f"{TOKENS}abc/"), client.post("/api/v1/auth/logout/")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"


def test_signing_out_of_the_site_ends_every_token(city):
    tokens = [obtain_token("clerk").json()["token"] for _ in range(2)]
    theirs = obtain_token("head").json()["token"]
    browser = Client()
    browser.force_login(city.user("clerk"))

    assert browser.post("/accounts/logout/").status_code == 302

    assert not any(works(token) for token in tokens)
    assert works(theirs)


def change_with_set_password(city, user):
    user.set_password(NEW_PASSWORD)
    user.save()


def change_with_set_password_alone(city, user):
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])


def change_in_the_admin(city, user):
    admin = Client()
    admin.force_login(city.user("admin"))
    response = admin.post(f"/admin/auth/user/{user.pk}/password/",
                          {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 302, response.content.decode()[:2000]


def change_on_the_password_change_form(city, user):
    browser = Client()
    browser.force_login(user)
    response = browser.post("/accounts/password_change/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD,
                                                          "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


def change_by_reset_link(city, user):
    browser = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = browser.get(f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/")
    assert link.status_code == 302
    response = browser.post(link.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.parametrize("change", [change_with_set_password, change_with_set_password_alone, change_in_the_admin,
                                    change_on_the_password_change_form, change_by_reset_link])
def test_a_password_change_ends_every_token(city, change):
    user = get_user_model().objects.get(username="clerk")
    tokens = [issue_token(user) for _ in range(2)]
    theirs = issue_token(city.user("head"))

    change(city, user)

    assert get_user_model().objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert not any(works(token) for token in tokens)
    assert not AuthToken.objects.filter(user=user).exists()
    assert works(theirs)


def test_saving_a_user_for_another_reason_keeps_the_tokens(city):
    user = get_user_model().objects.get(username="clerk")
    token = issue_token(user)

    user.first_name = "Thu"
    user.save()
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])

    assert works(token)


def test_deactivation_ends_every_token_and_a_reactivated_user_starts_with_none(city):
    user = get_user_model().objects.get(username="clerk")
    token = issue_token(user)

    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not AuthToken.objects.filter(user=user).exists()

    user.is_active = True
    user.save()
    assert not works(token)
    assert not AuthToken.objects.filter(user=user).exists()


def test_a_reactivation_clears_tokens_left_by_a_bulk_deactivation(city):
    # A queryset update() sends no signal: knox refuses the inactive user's token meanwhile, and the
    # reactivation, a save, clears it.
    user = get_user_model().objects.get(username="clerk")
    token = issue_token(user)
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert not works(token)

    user.refresh_from_db()
    user.is_active = True
    user.save()

    assert not works(token)
    assert not AuthToken.objects.filter(user=user).exists()


def test_the_admin_lists_tokens_by_handle_never_by_secret_or_digest(city):
    secret = obtain_token("clerk").json()["token"]
    stored = AuthToken.objects.get(user=city.user("clerk"))
    admin = Client()
    admin.force_login(city.user("admin"))

    listed = admin.get("/admin/knox/authtoken/")
    searched = admin.get("/admin/knox/authtoken/", {"q": "clerk"})
    shown = admin.get(f"/admin/knox/authtoken/{stored.pk}/change/")
    confirm = admin.get(f"/admin/knox/authtoken/{stored.pk}/delete/")

    for page in (listed, searched, shown, confirm):
        assert page.status_code == 200
        body = page.content.decode()
        assert secret not in body
        # The digest is the row's primary key, so the admin's links and checkboxes address the row by it (it
        # cannot be presented as a token: knox hashes what it is given); it is never shown as text.
        assert stored.digest not in body.replace(f"/{stored.pk}/", "/").replace(f'value="{stored.pk}"', "")
    assert stored.token_key in listed.content.decode()
    assert admin.get("/admin/knox/authtoken/add/").status_code == 403


def test_an_admin_revokes_a_token_in_the_admin(city):
    secret = obtain_token("clerk").json()["token"]
    stored = AuthToken.objects.get(user=city.user("clerk"))
    admin = Client()
    admin.force_login(city.user("admin"))

    response = admin.post(f"/admin/knox/authtoken/{stored.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not works(secret)


def test_an_admin_revokes_tokens_in_bulk(city):
    secrets = [obtain_token(name).json()["token"] for name in ("clerk", "head")]
    admin = Client()
    admin.force_login(city.user("admin"))

    response = admin.post("/admin/knox/authtoken/", {"action": "delete_selected", "post": "yes",
                                                     "_selected_action": list(
                                                         AuthToken.objects.values_list("pk", flat=True))})

    assert response.status_code == 302
    assert not any(works(secret) for secret in secrets)
