"""Sessions that end: after SESSION_IDLE_MINUTES without the person doing anything, and SESSION_MAX_HOURS after
they signed in whatever they did, so that a browser left open on a shared office computer does not stay a
way in to citizens' files.

The session holds two moments: when the person signed in and when they last did something. A request counts
as something done unless it is passive: the page's own check of the time left (`session_status`), or any
request that says `X-Session-Passive: 1` (what a script that polls, a notification bell for one, must send).
Otherwise a page left open would keep itself signed in forever. The "stay signed in" button of the warning
(static/js/session.js) is the person acting, so its keep-alive counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

STARTED = "cityops_session_started"
LAST_ACTIVE = "cityops_session_last_active"
PASSIVE_HEADER = "HTTP_X_SESSION_PASSIVE"
ENDED = "session_expired"


def _now() -> float:
    return timezone.now().timestamp()


def idle_seconds() -> int:
    return int(settings.SESSION_IDLE_MINUTES * 60)


def max_seconds() -> int:
    return int(settings.SESSION_MAX_HOURS * 3600)


def warning_seconds() -> int:
    return int(settings.SESSION_IDLE_WARNING_MINUTES * 60)


@dataclass(frozen=True)
class Lifetime:
    """What the pages tell session.js: the idle limit, when to warn, and how long this session has left."""

    idle_seconds: int
    warning_seconds: int
    seconds_left: int


def _lifetime(session, now: float) -> Lifetime:
    left = min(session[LAST_ACTIVE] + idle_seconds(), session[STARTED] + max_seconds()) - now
    # Rounded up: a page told 0 takes the session for ended, so 0 must mean that the server has ended it.
    return Lifetime(idle_seconds(), warning_seconds(), max(0, math.ceil(left)))


def stamp_sign_in(sender, request, user, **kwargs):
    """A new session starts both clocks. The token endpoint also announces a sign-in, but makes no session."""
    session = getattr(request, "session", None)
    if session is not None and session.get(SESSION_KEY) is not None:
        now = _now()
        session[STARTED] = now
        session[LAST_ACTIVE] = now


def connect() -> None:
    user_logged_in.connect(stamp_sign_in, dispatch_uid="core.sessions.stamp_sign_in")


def _ended_because(session, now: float) -> str | None:
    if now - session[STARTED] >= max_seconds():
        return _("You have been signed out: a session lasts at most %(hours)d hours. Please sign in again.") % {
            "hours": settings.SESSION_MAX_HOURS}
    if now - session[LAST_ACTIVE] >= idle_seconds():
        return _("You have been signed out after %(minutes)d minutes without activity. Please sign in again.") % {
            "minutes": settings.SESSION_IDLE_MINUTES}
    return None


def _is_passive(request) -> bool:
    return request.META.get(PASSIVE_HEADER) == "1" or request.path == reverse("session-status")


def _answers_json(request) -> bool:
    return request.path in {reverse("session-status"), reverse("session-keep-alive")}


class SessionLifetime:
    """Ends a signed-in session that has been idle or open too long, before any view sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if session.get(SESSION_KEY) is None:
            return self.get_response(request)
        now = _now()
        if STARTED not in session or LAST_ACTIVE not in session:
            # A session from before the clocks were kept starts them now.
            session.setdefault(STARTED, now)
            session.setdefault(LAST_ACTIVE, now)
        reason = _ended_because(session, now)
        if reason is not None:
            ended = self._end(request, reason)
            if ended is not None:
                return ended
        else:
            if self._counts_as_activity(request, session, now):
                session[LAST_ACTIVE] = now
            request.session_lifetime = _lifetime(session, now)
        return self.get_response(request)

    @staticmethod
    def _counts_as_activity(request, session, now: float) -> bool:
        if request.path == reverse("session-keep-alive"):
            return True
        if _is_passive(request):
            return False
        # The moment is written only once it has moved by a twentieth of the idle limit (a minute at most):
        # a session row written on every click would be a database write per page for nothing, and ending at
        # most a minute early is no loss.
        return now - session[LAST_ACTIVE] >= min(60, idle_seconds() / 20)

    def _end(self, request, reason: str):
        # Not `logout()`: its signal revokes the person's API tokens, which an idle browser tab must not do.
        request.session.flush()
        request.user = AnonymousUser()
        if request.META.get("HTTP_AUTHORIZATION"):
            # An API call with its own token goes on: only the session it also carried has ended.
            return None
        if request.path.startswith("/api/"):
            refusal = JsonResponse({"detail": reason, "code": ENDED}, status=401)
            refusal["WWW-Authenticate"] = "Token"
            return refusal
        response: HttpResponse
        if _answers_json(request):
            # The page's own check found the end: the page says so, and the login page it goes to next says why.
            response = JsonResponse({"detail": reason, "code": ENDED}, status=401)
        else:
            response = redirect_to_login(request.get_full_path())
        # The message middleware runs inside this one, so the message is stored here, by hand.
        storage = default_storage(request)
        storage.add(messages.WARNING, reason)
        storage.update(response)
        return response


def _status(request):
    if not request.user.is_authenticated or not hasattr(request, "session_lifetime"):
        return JsonResponse({"detail": _("You are not signed in."), "code": ENDED}, status=401)
    lifetime = request.session_lifetime
    return JsonResponse({"seconds_left": lifetime.seconds_left, "idle_seconds": lifetime.idle_seconds,
                         "warning_seconds": lifetime.warning_seconds})


@never_cache
@require_GET
def session_status(request):
    """How long the session has left; asking does not count as activity."""
    return _status(request)


@never_cache
@require_POST
def session_keep_alive(request):
    """The person chose to stay signed in: the middleware has already counted this request as activity."""
    return _status(request)
