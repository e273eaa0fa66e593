"""What the pages of every app share: paging, how a refused or invalid move is told to the person, and the
answers Django gives on the site's behalf: a request it cannot read (handler400), one that may not (handler403) or
finds nothing (handler404), a method the address does not take (405, core/middleware.py), a form whose security
token has gone stale (CSRF_FAILURE_VIEW) and a failure (handler500)."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest, DisallowedHost, RequestDataTooBig, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.headers import API_PREFIX
from core.refusals import Refused

PAGE_SIZE = 25


class UnreadableInput(BadRequest):
    """A path, query or body with a NUL character or bytes that are not UTF-8 text (core/middleware.py)."""


def add_service_errors(form: Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


def error_sentences(form: Form) -> str:
    """A form's errors as one line for a message: “Label: what is wrong”, hidden fields without a label."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        text = " ".join(str(error) for error in errors)
        parts.append(f"{field.label}: {text}" if field is not None and not field.widget.is_hidden else text)
    return "; ".join(parts)


def next_page(request) -> str | None:
    """The page a form asked to come back to, if it is one of this site's."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


def not_done(action_title: str, reason: str) -> str:
    return _("%(action)s was not done: %(reason)s") % {"action": action_title, "reason": reason}


def tell_refusal(request, action_title, refusal: Refused) -> None:
    """A refused move, as the person who tried it reads it; the service has recorded it already."""
    messages.error(request, _("%(action)s was refused: %(detail)s") % {"action": action_title,
                                                                       "detail": refusal.detail},
                   extra_tags="refusal")


def tell_invalid(request, form: Form, action_title, error: ValidationError | None = None) -> None:
    """Bad input, on the form (with the service's field errors, if any) and as one message."""
    if error is not None:
        add_service_errors(form, error)
    messages.error(request, not_done(action_title, error_sentences(form)))


# --- Requests the site cannot read ---------------------------------------------------------------------------
# One answer for each kind, whoever meets it: the middleware that refuses unreadable input before any view,
# and Django's handler400 for what a view or Django itself refuses (a body over DATA_UPLOAD_MAX_MEMORY_SIZE is
# found only when something reads it). The API gets its error format `{detail, code}`, a person a page.


def _answer(request: HttpRequest, *, status: int, code: str, detail: str, template: str,
            context: dict | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": detail, "code": code}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    return render(request, template, {"detail": detail, "back_url": _back_url(request), **(context or {})},
                  status=status)


def _back_url(request: HttpRequest) -> str:
    """Where “go back” leads without the browser's history: the page the form was on, if it is this site's. With
    the history (static/js/form-limits.js) the browser goes back to the form as it was, with what was typed."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        host = request.get_host()
    except DisallowedHost:
        host = ""
    if referer and host and url_has_allowed_host_and_scheme(referer, allowed_hosts={host},
                                                            require_https=request.is_secure()):
        return referer
    return reverse("home")


def unreadable_input(request: HttpRequest, detail: str | None = None) -> HttpResponse:
    return _answer(request, status=400, code="unreadable_input", template="400.html", detail=detail or _(
        "The request contains a NUL character or bytes that are not UTF-8 text; nothing was saved. Remove the "
        "character (it often comes pasted from another program) and try again."))


def too_large(request: HttpRequest) -> HttpResponse:
    megabytes = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:g}"
    return _answer(request, status=413, code="too_large", template="413.html",
                   detail=_("The request is larger than %(limit)s MB, without its files; nothing was saved.")
                   % {"limit": megabytes},
                   context={"body_mb": megabytes, "description_chars": settings.MAX_DESCRIPTION_CHARS,
                            "note_chars": settings.MAX_NOTE_CHARS,
                            "file_mb": f"{settings.ATTACHMENT_MAX_BYTES / 2**20:g}"})


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler400: a body too large is 413 (Django calls it a SuspiciousOperation, answered 400), an
    unreadable or malformed one the unreadable-input answer, anything else a short 400."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    if isinstance(exception, UnreadableInput):
        return unreadable_input(request)
    if isinstance(exception, MultiPartParserError):
        return unreadable_input(request, _("The form's data is malformed and could not be read; nothing was saved."))
    return _answer(request, status=400, code="bad_request", template="400.html",
                   detail=_("The request could not be read; nothing was saved."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler403: the page in the site's look, JSON under /api/ (REST framework answers its own views)."""
    return _answer(request, status=403, code="permission_denied", template="403.html",
                   detail=_("Your role does not allow this."))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler404: an address no page has, or a record the person may not know of."""
    return _answer(request, status=404, code="not_found", template="404.html",
                   detail=_("There is nothing at this address."))


def method_not_allowed(request: HttpRequest, refused: HttpResponseNotAllowed) -> HttpResponse:
    """A page's 405 (`require_POST` and the like answer an empty one): what the address takes, in words, with the
    same status and `Allow` header."""
    allowed = [method.strip() for method in refused.get("Allow", "").split(",") if method.strip()]
    response = render(request, "405.html", {"back_url": _back_url(request), "forms_only": "GET" not in allowed},
                      status=405)
    response["Allow"] = refused["Allow"]
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500, with the request's id (cityops/requestlog.py) for the person to quote. The page reads
    only its context: whatever failed (the database, a template) is not asked again."""
    request_id = getattr(request, "request_id", "")
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("The server failed; the error has been recorded."), "code": "server_error",
                             "request_id": request_id}, status=500, json_dumps_params={"ensure_ascii": False})
    return HttpResponse(render_to_string("500.html", {"request_id": request_id,
                                                      "LANGUAGE_CODE": translation.get_language()}), status=500)


# --- A form sent with a stale security token --------------------------------------------------------------------
# Signing in rotates the CSRF token, so a form left open in another tab no longer carries a valid one; so does a
# form opened before the session ended. Django's own answer was an English page, and what was typed was lost.
# This one says what happened and holds the form again, with a fresh token, for one click to send it: every
# posted field but the token and passwords, as hidden inputs, the typed text shown. Files cannot be sent again.
#
# Only for a form of this site: a request from another site (Origin or Referer not ours, Sec-Fetch-Site
# cross-site) is refused as before, never turned into a form ready to send with a valid token.

# Django's reasons when the token is missing or wrong (django.middleware.csrf), as opposed to the Origin and
# Referer checks, which a form of this site passes.
TOKEN_REASONS = ("CSRF cookie ", "CSRF token ")
# Fields a page fills in itself: sent again, not shown as typed.
NOT_TYPED = frozenset({"next", "version", "seen_version", "action", "post"})
# A choice's code (a slug, "on" of a tick box): sent again, not shown.
CODE = re.compile(r"[a-z0-9_-]+")


def _same_site_form(request: HttpRequest, reason: str) -> bool:
    if not reason.startswith(TOKEN_REASONS):
        return False
    if request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.get_host()}"


def _secret(name: str) -> bool:
    return "password" in name.lower() or name == "csrfmiddlewaretoken"


def _typed(name: str, value: str) -> bool:
    text = value.strip()
    return (bool(text) and name not in NOT_TYPED and not name.startswith("_") and not CODE.fullmatch(text)
            and any(character.isalpha() for character in text))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: 403, with the form to send again (templates/403_csrf.html); JSON under /api/."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": _("The security token of the request is missing or has expired; nothing was "
                                         "saved. Reload the page or sign in again."), "code": "csrf_failed"},
                            status=403, json_dumps_params={"ensure_ascii": False})
    context: dict = {"back_url": _back_url(request), "send_again": False}
    if request.method == "POST" and _same_site_form(request, reason):
        hidden, typed, passwords = [], [], False
        for name, values in request.POST.lists():
            if _secret(name):
                passwords = passwords or name != "csrfmiddlewaretoken"
                continue
            for value in values:
                hidden.append((name, value))
                if _typed(name, value):
                    typed.append(value)
        context.update(send_again=True, action=request.get_full_path(), hidden=hidden, typed=typed,
                       signing_in=request.path == resolve_url(settings.LOGIN_URL),
                       passwords_left_out=passwords, files_left_out=bool(request.FILES),
                       multipart=(request.content_type or "") == "multipart/form-data")
    return render(request, "403_csrf.html", context, status=403)
