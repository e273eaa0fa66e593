"""Hostile requests against every address of the site, as anonymous, clerk, head and admin: none is a 500.

The corpus is made from lists, so that an address or a filter added later is attacked too: every URL pattern of
the site (the admin's included) with a NUL, bytes that are not UTF-8, an overlong value and a number beyond 64
bits in each of its parameters; every list, desk and report with NUL and %ff in its query, dates at the ends of
Python's calendar (9999-12-31, 0001-01-01) in every date filter and numbers far beyond any page in every paging
parameter; every admin list's date drill-down to the last day of 9999 and to years that are none; and the
site's forms and JSON endpoints with JSON nested a thousand deep or 200,000 items wide, 5 MB bodies, NUL in
fields, wrong content types and broken multipart. Where the answer is certain it is checked (400 for unreadable
input, 413 for a body too large that is read); everything else must simply not be a server error. The tally by
status is printed (`pytest -s` shows it).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from cases.services import attachment_add
from oversight.staff_figures import Figure
from tests.support.cases import pdf_upload

ROLES = ("anonymous", "clerk", "head", "admin")
BIG = 5 * 1024 * 1024
BOUNDARY = "cityops-corpus-boundary"
# One JSON line per request when set, for the counts in CI's log.
TALLY = os.environ.get("HOSTILE_CORPUS_TALLY", "")


@dataclass(frozen=True)
class Probe:
    """One hostile request, and the statuses it may answer (empty: anything but a server error)."""

    label: str
    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    content_type: str = ""
    expect: frozenset[int] = field(default_factory=frozenset)
    extra: tuple[tuple[str, str], ...] = ()


def routes(patterns=None, prefix=""):
    """Every route of the site as its pattern's text, includes flattened."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


# A path converter `<int:name>`, a named group `(?P<name>...)` or an unnamed one `(...)` (taken for an id).
PARAMETER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>|\(\?P<(?P<group>\w+)>(?:[^()]|\([^()]*\))*\)"
                       r"|\((?![?])(?:[^()]|\([^()]*\))*\)")


def fill(route: str, values: dict[str, str], hostile: tuple[str, str] | None = None) -> str:
    """The route as a path: each parameter its known value, or the hostile one for the parameter named."""

    def value(match):
        name = match.group("name") or match.group("group") or "id"
        if hostile is not None and name == hostile[0]:
            return hostile[1]
        return values.get(name, "x")

    path = PARAMETER.sub(value, route)
    # What is left of a regular expression: anchors, escapes and the admin's optional groups.
    path = path.replace("^", "").replace("$", "").replace("\\", "").replace("(?:", "").replace(")?", "")
    return "/" + path.lstrip("/")


def parameters(route: str) -> list[str]:
    return list(dict.fromkeys(match.group("name") or match.group("group") or "id"
                              for match in PARAMETER.finditer(route)))


# In a path, %00 and %FF are bytes (the test client decodes them, as a server does): %00 is a raw NUL.
HOSTILE_VALUES = {"NUL": "%00", "not UTF-8": "%FF%FE", "overlong": "A" * 4000, "double-encoded NUL": "%2500",
                  "a number beyond 64 bits": "9" * 30}
UNREADABLE = {"NUL", "not UTF-8", "double-encoded NUL"}
# The admin's two hundred routes get what reaches their views; the door refuses the rest the same for any route.
ADMIN_VALUES = {"NUL", "overlong", "a number beyond 64 bits"}

LISTS_AND_REPORTS = [
    "/cases/", "/overdue/", "/overdue/export.csv", "/overdue/export.xlsx", "/reports/deadlines/",
    "/reports/consultations/", "/reports/departments/", "/reports/departments/export.csv", "/oversight/staff-report/",
    f"/oversight/staff-report/head/{Figure.HANDLED.value}/", "/oversight/inspections/", "/oversight/violations/",
    "/oversight/commendations/", "/consultations/", "/submissions/", "/disputes/", "/triage/", "/notifications/",
    "/routing/tester/", "/api/v1/cases/", "/api/v1/consultations/", "/api/v1/overdue/", "/api/v1/submissions/",
    "/api/v1/disputes/", "/api/v1/calendar/days/", "/api/v1/authority-rules/", "/api/v1/staff/",
    "/api/v1/departments/", "/api/v1/case-types/", "/api/v1/auth/tokens/", "/admin/cases/case/",
]
DATE_NAMES = ("from", "to", "since", "until", "received_on", "date", "date__gte", "date__year")
PAGING_NAMES = ("page", "cpage", "page_size", "department", "status", "kind", "assignee", "case_type", "owner",
                "outcome", "deadline", "q", "key_task", "overdue", "required", "figure")


def dates(value: str) -> str:
    return "&".join(f"{name}={value}" for name in DATE_NAMES)


QUERIES = {
    "NUL in every filter": "&".join(f"{name}=%00" for name in (*DATE_NAMES, *PAGING_NAMES)),
    "not UTF-8 in every filter": "&".join(f"{name}=%ff" for name in (*DATE_NAMES, *PAGING_NAMES)),
    "NUL in a parameter's name": "q%00=1",
    "dates in 9999": dates("9999-12-31"),
    "dates in year 1": dates("0001-01-01"),
    "a period ending 9999-12-31": "to=9999-12-31",
    "a period from 9999-12-31": "from=9999-12-31",
    "a period ending 0001-01-01": "to=0001-01-01&until=0001-01-01",
    "dates that do not exist": dates("2026-02-30") + "&" + dates("99999999-01-01"),
    "huge numbers": "&".join(f"{name}={10**40}" for name in PAGING_NAMES),
    "negative numbers": "&".join(f"{name}=-{2**63}" for name in PAGING_NAMES),
}
UNREADABLE_QUERIES = {"NUL in every filter", "not UTF-8 in every filter", "NUL in a parameter's name"}


def drill_downs():
    """Every admin list with a date drill-down, and its three parameters."""
    for model, model_admin in admin.site._registry.items():
        if model_admin.date_hierarchy:
            field = model_admin.date_hierarchy
            yield (f"/admin/{model._meta.app_label}/{model._meta.model_name}/",
                   tuple(f"{field}__{part}" for part in ("year", "month", "day")))


DRILL_DOWNS = {
    "the last day of 9999": ("9999", "12", "31"),
    "year 0": ("0", "1", "1"),
    "a year of 5,000 digits": ("9" * 5000, "1", "1"),
    "the 32nd of a 13th month": ("2026", "13", "32"),
}


def nested(depth: int, *, objects: bool = False) -> bytes:
    if objects:
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return ("[" * depth + "1" + "]" * depth).encode()


def multipart(fields: dict[str, bytes], files: dict[str, bytes] | None = None) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
             for name, value in fields.items()]
    parts += [(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="bien-ban.pdf"\r\n'
               "Content-Type: application/pdf\r\n\r\n").encode() + value + b"\r\n"
              for name, value in (files or {}).items()]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
# name -> (body, content type, statuses it must answer when the endpoint reads it, or empty)
BODIES = {
    "JSON nested 1,000 deep": (nested(1000), "application/json", frozenset()),
    "JSON objects nested 1,000 deep": (nested(1000, objects=True), "application/json", frozenset()),
    "JSON brackets never closed": (b"[" * 100_000, "application/json", frozenset()),
    "JSON 200,000 items wide": (json.dumps(list(range(200_000))).encode(), "application/json", frozenset()),
    "JSON with NUL in a value": (b'{"title": "nh\\u0000a", "note": "x"}', "application/json", frozenset({400})),
    "JSON with NUL in a key": (b'{"ti\\u0000tle": "x"}', "application/json", frozenset({400})),
    "JSON not UTF-8": (b'{"title": "\xff\xfe"}', "application/json", frozenset({400})),
    "JSON of 5 MB": (b'{"title": "' + b"y" * BIG + b'"}', "application/json", frozenset()),
    "JSON in an unsafe charset": (b'{"title": "x"}', "application/json; charset=bz2_codec", frozenset()),
    "form of 5 MB": (b"title=" + b"y" * BIG, "application/x-www-form-urlencoded", frozenset()),
    "form with NUL": (b"title=a%00b&note=%00", "application/x-www-form-urlencoded", frozenset({400})),
    "form not UTF-8": (b"title=%ff%fe&note=x", "application/x-www-form-urlencoded", frozenset({400})),
    "multipart field of 5 MB": (multipart({"title": b"y" * BIG}), MULTIPART, frozenset()),
    "multipart with NUL in a field": (multipart({"title": b"a\x00b", "note": b"x"}), MULTIPART, frozenset({400})),
    "multipart not UTF-8": (multipart({"note": b"\xff\xfe"}), MULTIPART, frozenset({400})),
    "multipart without a boundary": (b"--x\r\n\r\n", "multipart/form-data", frozenset({400})),
    "multipart broken": (b"--" + BOUNDARY.encode() + b"\r\ngarbage", MULTIPART, frozenset()),
    "plain text": (b"title=x", "text/plain", frozenset()),
    "XML": (b"<?xml version='1.0'?><case><title>x</title></case>", "application/xml", frozenset()),
}


# What an endpoint that reads the body whoever sends it must answer: the token endpoint (anonymous), the sign-in
# and language pages, and any multipart POST (Django parses it before the view).
READ_BY_ANYONE = {
    ("JSON nested 1,000 deep", "/api/v1/auth/token/"): 400,
    ("JSON objects nested 1,000 deep", "/api/v1/auth/token/"): 400,
    ("JSON brackets never closed", "/api/v1/auth/token/"): 400,
    ("JSON of 5 MB", "/api/v1/auth/token/"): 413,
    ("form of 5 MB", "/accounts/login/"): 413,
    ("form of 5 MB", "/i18n/setlang/"): 413,
}


def expected(kind: str, method: str, path: str, default: frozenset[int]) -> frozenset[int]:
    if (kind, path) in READ_BY_ANYONE:
        return frozenset({READ_BY_ANYONE[kind, path]})
    if kind == "multipart field of 5 MB" and method == "POST":
        return frozenset({413})
    return default


def post_targets(values: dict[str, str]) -> list[tuple[str, str]]:
    """The endpoints that read a body: (method, path)."""
    reference, consultation = values["reference"], values["consultation_id"]
    return [
        ("POST", "/api/v1/auth/token/"), ("POST", "/api/v1/cases/"), ("POST", f"/api/v1/cases/{reference}/propose/"),
        ("POST", f"/api/v1/cases/{reference}/attachments/"), ("POST", f"/api/v1/cases/{reference}/extend/"),
        ("POST", "/api/v1/routing/preview/"), ("POST", "/api/v1/calendar/days/"),
        ("POST", f"/api/v1/consultations/{consultation}/respond/"), ("PATCH", "/api/v1/case-types/building-permit/"),
        ("POST", "/cases/new/"), ("POST", f"/cases/{reference}/propose/"), ("POST", "/oversight/inspections/new/"),
        ("POST", "/accounts/login/"), ("POST", "/i18n/setlang/"),
    ]


def corpus(values: dict[str, str]) -> list[Probe]:
    probes = []
    for route in routes():
        for name in parameters(route):
            for kind, hostile in HOSTILE_VALUES.items():
                if route.startswith("admin/") and kind not in ADMIN_VALUES:
                    continue
                probes.append(Probe(f"{kind} in <{name}> of {route}", "GET", fill(route, values, (name, hostile)),
                                    expect=frozenset({400}) if kind in UNREADABLE else frozenset()))
        if not parameters(route):
            probes.append(Probe(f"NUL after {route}", "GET", fill(route, values) + "%00", expect=frozenset({400})))
    for path in LISTS_AND_REPORTS:
        for kind, query in QUERIES.items():
            probes.append(Probe(f"{kind} on {path}", "GET", path, query,
                                expect=frozenset({400}) if kind in UNREADABLE_QUERIES else frozenset()))
    for path, names in drill_downs():
        for kind, parts in DRILL_DOWNS.items():
            probes.append(Probe(f"a drill-down to {kind} on {path}", "GET", path,
                                "&".join(f"{name}={part}" for name, part in zip(names, parts, strict=True))))
    for method, path in post_targets(values):
        for kind, (body, content_type, expect) in BODIES.items():
            probes.append(Probe(f"{kind} to {method} {path}", method, path, body=body, content_type=content_type,
                                expect=expected(kind, method, path, expect)))
        probes.append(Probe(f"a Content-Length that is no number to {path}", method, path, body=b"{}",
                            content_type="application/json", extra=(("CONTENT_LENGTH", "many"),),
                            expect=frozenset({400})))
    return probes


def send(client: Client, probe: Probe):
    path = f"{probe.path}?{probe.query}" if probe.query else probe.path
    extra = dict(probe.extra)
    if probe.body is None:
        return client.generic(probe.method, path, **extra)
    return client.generic(probe.method, path, probe.body, content_type=probe.content_type, **extra)


@pytest.fixture
def world(city, stages, consulting, inspection, media_root):
    """A case at work with a consultation and a file, an inspection, and the value of each URL parameter that
    names one of them (any other parameter gets a plausible one)."""
    case = consulting.case()
    consultation = consulting.ask(case)[0]
    upload = pdf_upload()
    attachment = attachment_add(case=case, actor=city.user("specialist"), upload=upload)
    return {"reference": case.reference, "consultation_id": str(consultation.pk), "pk": str(consultation.pk),
            "attachment_id": str(attachment.pk), "inspection_id": str(inspection.pk), "code": "sxd",
            "username": "head", "figure": Figure.HANDLED.value, "fmt": "csv", "action": "propose",
            "date": "2026-11-02", "token_key": "abcdefgh", "source": "cases.notification", "notification_id": "1",
            "object_id": "1", "id": "1", "app_label": "cases", "uidb64": "MQ", "token": "set-password"}


def client_as(city, role: str) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(city.user(role))
    return client


def test_no_hostile_request_is_a_server_error(city, world):
    probes = corpus(world)
    assert len(probes) >= 200
    tally: Counter[int] = Counter()
    failures = []
    for role in ROLES:
        client = client_as(city, role)
        for probe in probes:
            status = send(client, probe).status_code
            tally[status] += 1
            if TALLY:
                with open(TALLY, "a", encoding="utf-8") as out:
                    out.write(json.dumps({"probe": probe.label, "role": role, "status": status,
                                          "failed": status >= 500}) + "\n")
            if status >= 500 or (probe.expect and status not in probe.expect):
                failures.append(f"{role}: {probe.label} → {status}")
    print(f"\n{len(probes)} hostile requests × {len(ROLES)} roles, by status: {dict(sorted(tally.items()))}")
    assert failures == [], "\n".join(failures)
    assert tally[400] > 0 and 500 not in tally
