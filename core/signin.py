"""Sign-in that resists guessing: the lockout answer of django-axes, and a password reset that cannot be used to
flood a mailbox.

django-axes counts failed sign-ins per (username, client address) on every door that calls `authenticate()`
with the request: the login page, the admin's login and the API's token endpoint. After
`LOGIN_FAILURE_LIMIT` failures the pair is refused for `LOGIN_COOLOFF_MINUTES` (a failure during the lockout
starts the cool-off again); an admin lifts it early by deleting the pair's row under "Access attempts".
"""

from __future__ import annotations

import hashlib
import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

LOCKED_OUT = "locked_out"


def lockout_message() -> str:
    return _("Too many failed sign-in attempts. Sign-in for this account from this computer is locked for "
             "%(minutes)d minutes; try again later, or ask an administrator to unlock it.") % {
        "minutes": settings.LOGIN_COOLOFF_MINUTES}


def lockout_payload() -> dict:
    return {"detail": lockout_message(), "code": LOCKED_OUT}


def _answers_json(request) -> bool:
    return request.path.startswith("/api/")


def locked_out(request, original_response=None, credentials=None, *args, **kwargs):
    """The answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): 429, a page for people, JSON for the API."""
    retry_after = str(settings.LOGIN_COOLOFF_MINUTES * 60)
    response: HttpResponse
    if _answers_json(request):
        response = JsonResponse(lockout_payload(), status=429)
    else:
        response = render(request, "registration/locked_out.html",
                          {"message": lockout_message(), "minutes": settings.LOGIN_COOLOFF_MINUTES}, status=429)
    response["Retry-After"] = retry_after
    return response


# --- signing out ---------------------------------------------------------------------------------------------

class LogoutView(auth_views.LogoutView):
    """Signing out is a POST (the menu's button), as Django requires, so that no link or image can sign a person
    out. An address typed or bookmarked (a GET) asks first, with the same button, instead of an empty 405; a
    person already signed out is taken to the login page. Either way the login page then says so."""

    http_method_names = ["get", "post", "options"]

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        return render(request, "registration/logout_confirm.html")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out. Sign in again to continue."))
        return response


# --- password reset ------------------------------------------------------------------------------------------

RESET_WINDOW_SECONDS = 3600


def _counter_key(kind: str, value: str) -> str:
    # Hashed: the cache holds no address in clear.
    return f"password-reset:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def _over_limit(key: str) -> bool:
    """Count one request against the key's window (an hour from its first request); true past the limit."""
    cache.add(key, 0, RESET_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, RESET_WINDOW_SECONDS)
        count = 1
    return count > settings.PASSWORD_RESET_PER_HOUR


def reset_allowed(request, email: str) -> bool:
    """At most PASSWORD_RESET_PER_HOUR mails per address and per client address an hour.

    Both counters move on every request, whether the address belongs to anyone or not, so that what is
    counted says nothing about which addresses exist.
    """
    address = get_client_ip_address(request) or ""
    by_email = _over_limit(_counter_key("email", email.strip().lower()))
    by_client = _over_limit(_counter_key("client", address))
    return not (by_email or by_client)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, limited per address and per client.

    Past the limit no mail is sent and the page answers exactly as when one is: "if the address is ours, a
    mail is on its way". A different answer would tell a prober that someone asked for this address within the
    hour, and the person who really owns it already has the mails of this hour in their inbox.
    """

    template_name = "registration/password_reset_form.html"

    def form_valid(self, form):
        if reset_allowed(self.request, form.cleaned_data["email"]):
            return super().form_valid(form)
        logger.warning("Password reset over the hourly limit; no mail sent")
        return HttpResponseRedirect(self.get_success_url())
