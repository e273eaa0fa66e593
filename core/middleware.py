"""Input that cannot be read as text is refused at the door: the path and the query before Django's URL resolver
sees them, the body before any view does.

PostgreSQL cannot hold or even compare a string with a NUL character: psycopg refuses to send such a query, so a
NUL in a path parameter, a filter or a form field that reaches a look-up was a 500. Bytes that are not UTF-8
are no better: Django replaces them silently with U+FFFD, and a name or a note would be stored garbled. So a NUL
(raw or %00) or bytes that are not UTF-8 (once percent-decoded) anywhere in the path, the query string, a form
body (its keys and values; of a multipart body its fields, never its files' contents) or a JSON body (a NUL
escaped as \\u0000 in a string or a key) answer 400: `{detail, code: "unreadable_input"}` under /api/, a short
page otherwise (core/pages.py). CityOps reads only UTF-8, whatever charset a request declares.

The path and the query are refused before the other middleware run, and the refusal is passed through those
that put the site's headers on every answer. The body is checked in `process_view`, once the session and the
person are known, so that its refusal is answered as any page is. It is read at most once: Django keeps it, and
its own parsing and REST framework's read that copy. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is not read here;
whoever reads it later meets RequestDataTooBig, which handler400 answers 413 (core/pages.py). Multipart bodies are
parsed by Django's own `request.POST`, which streams the files to the upload handlers as it always does; REST
framework then reads the parsed form rather than the spent stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from io import BytesIO
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase, HttpResponseNotAllowed
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils import translation
from django.utils.module_loading import import_string

from core import pages
from core.headers import API_PREFIX

# The middleware after this one that put headers on every answer (HSTS, CSP, Permissions-Policy, no-store,
# framing): a refusal answered here, before them, is passed through them all the same, in their order.
HEADER_MIDDLEWARE = frozenset({
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.headers.SecurityHeaders",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
})
# Methods whose body nobody reads.
BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# A NUL escaped in a JSON string: `\u0000` after an even number of backslashes (`\\u0000` is a backslash and
# the text "u0000").
JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
# What Django puts where a form field's bytes were not UTF-8: no keyboard types it.
REPLACEMENT = "\ufffd"


def readable(raw: bytes, *, percent_encoded: bool) -> bool:
    """No NUL and only UTF-8 in `raw`, percent-decoded first (with `+` for a space) when it is a query or form."""
    if percent_encoded and b"%" in raw:
        raw = unquote_to_bytes(raw.replace(b"+", b" "))
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def readable_json(raw: bytes) -> bool:
    if b"\x00" in raw:
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\\u0000" not in text or JSON_NUL.search(text) is None


def readable_fields(names_and_values: Iterable[tuple[str, list]]) -> bool:
    """The fields of a parsed multipart form: Django decoded them, leaving U+FFFD where bytes were not UTF-8."""
    for name, values in names_and_values:
        for text in (name, *(value for value in values if isinstance(value, str))):
            if "\x00" in text or REPLACEMENT in text:
                return False
    return True


class _SkipFiles(FileUploadHandler):
    """Reads past a file's contents: only the fields of a multipart body are checked."""

    def receive_data_chunk(self, raw_data, start):
        return None

    def file_complete(self, file_size):
        return None


class RefuseUnreadableInput:
    """The path and the query before Django resolves the address; the body before any view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        handler: Callable = self._refuse
        for path in reversed([path for path in settings.MIDDLEWARE if path in HEADER_MIDDLEWARE]):
            handler = convert_exception_to_response(import_string(path)(handler))
        self.refuse = handler

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # What static/js/form-limits.js checks a form against before it is sent (templates/base.html).
        request.max_body_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # type: ignore[attr-defined]
        problem = self.address_problem(request)
        if problem is None:
            return self.get_response(request)
        request.unreadable_input = problem  # type: ignore[attr-defined]
        return self.refuse(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponseBase | None:
        """The body, checked before any view (and before the CSRF check reads the form), once the session and the
        person are known: a refusal is then answered like any page, in the person's language, signed in."""
        problem = self.body_problem(request)
        return None if problem is None else pages.bad_request(request, problem)

    def _refuse(self, request: HttpRequest) -> HttpResponseBase:
        # Django's locale middleware has not run: the answer is in the reader's language all the same.
        with translation.override(translation.get_language_from_request(request)):
            return pages.bad_request(request, request.unreadable_input)  # type: ignore[attr-defined]

    def address_problem(self, request: HttpRequest) -> Exception | None:
        """Why the path or the query cannot be read, or None."""
        # Django has percent-encoded again the path's bytes that are not UTF-8, so the path is decoded once
        # more: no address of the site holds a percent sign, and a doubly encoded %2500 is a NUL all the same.
        if not readable(request.path_info.encode("utf-8"), percent_encoded=True):
            return pages.UnreadableInput("path")
        try:
            query = request.META.get("QUERY_STRING", "").encode("iso-8859-1")  # WSGI's way of carrying bytes
        except UnicodeEncodeError:
            return pages.UnreadableInput("query string")
        if not readable(query, percent_encoded=True):
            return pages.UnreadableInput("query string")
        return None

    def body_problem(self, request: HttpRequest) -> Exception | None:
        if request.method in BODILESS:
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return pages.UnreadableInput("Content-Length")
        if length <= 0:
            return None
        content_type = request.content_type or ""
        within_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE is None or length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            if content_type == MULTIPART:
                return self.multipart_problem(request, within_limit=within_limit)
            if not within_limit:
                return None
            if content_type == FORM:
                return None if readable(request.body, percent_encoded=True) else pages.UnreadableInput("form")
            if content_type == "application/json" or content_type.endswith("+json"):
                return None if readable_json(request.body) else pages.UnreadableInput("JSON")
        except (SuspiciousOperation, MultiPartParserError) as error:
            # Too large, too many fields or files, or not multipart at all: what Django would answer 400 or 413
            # later, answered now; the stream is spent, so nothing after this could read the form again.
            return error
        return None

    def multipart_problem(self, request: HttpRequest, *, within_limit: bool) -> Exception | None:
        if request.method == "POST":
            # Django's own parse, which a page's form and REST framework then use as it is.
            fields = [*request.POST.lists(), *((name, []) for name in request.FILES)]
        elif within_limit:
            # Django parses a form only for POST; REST framework parses another method's itself, from the copy
            # of the body Django keeps. The fields are read here from that copy, the files skipped.
            post, files = MultiPartParser(request.META, BytesIO(request.body), [_SkipFiles(request)],
                                          request.encoding).parse()
            fields = [*post.lists(), *((name, []) for name in files)]
        else:
            return None
        return None if readable_fields(fields) else pages.UnreadableInput("form")


class MethodNotAllowedPage:
    """A page's answer to a method it does not take is the site's 405 page: `require_POST`, `require_GET` and a
    class-based view's `http_method_not_allowed` answer an empty 405, a blank page for whoever opened a form's
    address from a bookmark. The status and the `Allow` header stay; the API keeps REST framework's JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (isinstance(response, HttpResponseNotAllowed) and not response.content
                and not request.path.startswith(API_PREFIX)):
            return pages.method_not_allowed(request, response)
        return response
