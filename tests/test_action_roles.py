"""Every move of the registry, by every role of the shared city, through the service, the page and the API: the
three agree (STYLE.md §14).

The table below is keyed by the registry (`cases.actions`): a move added to the registry without its row, or a
row without every role, fails `test_the_table_covers_every_move_and_every_role`. Each cell says what the move
does for that person: it is made (`OK`), refused with a rule code and recorded (`refused(code)`), forbidden to
their role (`DENIED`, 403, nothing recorded), or the record does not exist for them (`HIDDEN`, 404, nothing
recorded). A service has no 404: called directly for someone who does not see the record, it answers with its
rule's own refusal (`not_owner` for a move of a unit's, 403 for a role's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS, Action
from cases.models import Case, CaseEvent, EventAction
from core.refusals import Refused
from departments.workdays import get_calendar
from tests.support.api import ROLES
from tests.support.cases import PDF_BYTES

OK, DENIED, HIDDEN = "ok", "denied", "hidden"

SXD = {"head", "deputy", "specialist", "clerk"}
SNNMT = {"consulted_head", "consulted_specialist"}
HANDLERS = {"head", "deputy", "specialist"}
LEADS = {"head", "deputy"}
WHOLE_CITY = {"city_office", "inspector", "home_affairs", "admin"}
NOTE = "Ghi chú của cán bộ xử lý"


def refused(code: str) -> str:
    return f"refused:{code}"


def owner_move(may: set[str], *, also_seen_by: set[str] = frozenset()) -> dict[str, str]:
    """A move of the owner department's: `may` make it; its other staff are forbidden; whoever else sees the
    case (every case for the city-wide roles, this one for `also_seen_by`) is refused as not the owner; to
    anyone else the case does not exist."""
    def outcome(role):
        if role in may:
            return OK
        if role in SXD:
            return DENIED
        if role in WHOLE_CITY | also_seen_by:
            return refused("not_owner")
        return HIDDEN
    return {role: outcome(role) for role in ROLES}


def role_move(may: set[str], seen_by: set[str]) -> dict[str, str]:
    """A move only some roles make: they may; others who see the record are forbidden; to anyone else it does
    not exist."""
    return {role: OK if role in may else DENIED if role in seen_by else HIDDEN for role in ROLES}


@dataclass(frozen=True)
class Row:
    start: Callable  # (world) -> the record the move is made on
    data: Callable  # (record) -> the move's input, as Python values
    expected: dict[str, str]


def next_working_day_after(day: dt.date) -> dt.date:
    return get_calendar().add_working_days(day, 1)


def pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("bien-ban.pdf", PDF_BYTES, content_type="application/pdf")


class World:
    """Fresh records at the stage each move starts from, made through the services."""

    def __init__(self, city, stages, consulting):
        self.city, self.stages, self.consulting = city, stages, consulting

    def disagreement(self):
        """An appraisal case of the owner on which the consulted unit disagreed: a reconciliation is due."""
        case = self.consulting.case()
        [asked] = self.consulting.ask(case)
        self.consulting.disagree(asked)
        return Case.unscoped.get(pk=case.pk)

    def permit_consultation(self):
        """A building permit of the owner on which the consulted unit's opinion is asked."""
        case = self.stages.in_progress()
        [asked] = self.consulting.ask(case, self.city.consulted, justification="Gần hành lang thủy lợi")
        return asked


TABLE: dict[tuple[str, str], Row] = {
    ("case", "accept"): Row(lambda w: w.stages.routed(), lambda r: {}, owner_move(HANDLERS)),
    ("case", "assign"): Row(lambda w: w.stages.routed(), lambda r: {"assignee": "specialist"}, owner_move(LEADS)),
    ("case", "propose"): Row(lambda w: w.stages.in_progress(), lambda r: {"note": NOTE}, owner_move(HANDLERS)),
    ("case", "consult"): Row(lambda w: w.stages.in_progress(),
                             lambda r: {"departments": ["stc"], "question": "Ý kiến về nguồn vốn",
                                        "justification": "Dự án dùng vốn ngân sách"}, owner_move(HANDLERS)),
    ("case", "resolve"): Row(lambda w: w.stages.in_progress(), lambda r: {"note": NOTE}, owner_move(LEADS)),
    ("case", "submit"): Row(lambda w: w.stages.city_level(), lambda r: {"summary": "Tờ trình số 12"},
                            owner_move(LEADS)),
    ("case", "decide"): Row(lambda w: w.stages.submitted(), lambda r: {"outcome": "approved", "note": ""},
                            role_move({"city_office", "admin"}, seen_by=SXD | WHOLE_CITY)),
    ("case", "request-supplement"): Row(lambda w: w.stages.in_progress(), lambda r: {"items": "Bản vẽ mặt bằng"},
                                        owner_move(HANDLERS)),
    ("case", "complete-supplement"): Row(lambda w: w.stages.awaiting_supplement(), lambda r: {"note": ""},
                                         owner_move(HANDLERS)),
    ("case", "return"): Row(lambda w: w.stages.misrouted(), lambda r: {"reason": "Không thuộc chức năng"},
                            owner_move(HANDLERS)),
    ("case", "transfer"): Row(lambda w: w.stages.misrouted(), lambda r: {"to": "stc", "reason": "Theo quy định"},
                              owner_move(LEADS)),
    ("case", "dispute"): Row(lambda w: w.stages.routed(), lambda r: {"reason": "Quy định giao nhầm"},
                             owner_move(HANDLERS)),
    ("case", "attachments"): Row(lambda w: w.stages.routed(), lambda r: {"file": pdf()},
                                 role_move(SXD, seen_by=SXD | WHOLE_CITY)),
    ("case", "reconcile"): Row(lambda w: w.disagreement(),
                               lambda r: {"consultation": r.consultations.get().pk, "note": "Đã thống nhất"},
                               owner_move(LEADS, also_seen_by=SNNMT)),
    ("case", "extend"): Row(lambda w: w.stages.in_progress(),
                            lambda r: {"due_date": next_working_day_after(r.due_date).isoformat(),
                                       "reason": "Chờ kết quả thẩm định"}, owner_move(LEADS)),
    ("case", "key-task"): Row(lambda w: w.stages.routed(), lambda r: {"key_task": True},
                              role_move({"head", "deputy", "city_office"}, seen_by=SXD | WHOLE_CITY)),
    ("case", "route"): Row(lambda w: w.stages.triage(), lambda r: {"to": "stc"},
                           role_move({"clerk", "admin"}, seen_by={"clerk"} | WHOLE_CITY)),
    ("consultation", "respond"): Row(lambda w: w.permit_consultation(), lambda r: {"position": "agree"},
                                     role_move(SNNMT, seen_by=SNNMT)),
    ("consultation", "assign"): Row(lambda w: w.permit_consultation(), lambda r: {"assignee": "consulted_specialist"},
                                    role_move({"consulted_head"}, seen_by=SNNMT)),
}

REGISTRY = {**{("case", slug): action for slug, action in CASE_ACTIONS.items()},
            **{("consultation", slug): action for slug, action in CONSULTATION_ACTIONS.items()}}
CELLS = [(key, role) for key in TABLE for role in ROLES]


def test_the_table_covers_every_move_and_every_role():
    assert set(TABLE) == set(REGISTRY)
    for key, row in TABLE.items():
        assert set(row.expected) == set(ROLES), key


def service_expected(action: Action, expected: str) -> str:
    """What the service answers when called directly: no 404 there, the rule's own refusal instead."""
    if expected != HIDDEN:
        return expected
    return refused("not_owner") if action.move.who.refuses_outsiders else DENIED


@pytest.fixture
def world(city, stages, consulting, media_root):
    return World(city, stages, consulting)


def trail(record):
    case = record if isinstance(record, Case) else record.case
    return CaseEvent.objects.filter(case_id=case.pk)


def assert_recorded(record, before: int, outcome: str, user, action: Action) -> None:
    """A refusal leaves exactly one event naming who tried what and why not; anything else but success none."""
    events = trail(record)
    if outcome.startswith("refused:"):
        assert events.count() == before + 1
        event = events.latest("id")
        assert (event.action, event.actor, event.payload["code"], event.payload["attempted"]) == (
            EventAction.REFUSED, user, outcome.split(":", 1)[1], action.move.attempted)
    elif outcome != OK:
        assert events.count() == before


def service_inputs(action: Action, record, data: dict, city) -> dict:
    """The input as the service takes it: the page form's own cleaning turns codes into records."""
    form = action.page_form(record, {**page_data(action, record, data)}, {"file": data["file"]} if "file" in data
                            else None)
    assert form.is_valid(), form.errors
    arguments = form.service_arguments()
    arguments.pop("expected_version", None)
    return arguments


def page_data(action: Action, record, data: dict) -> dict:
    case = record if action.subject == "case" else record.case
    posted = {name: value for name, value in data.items() if name != "file"}
    if action.versioned:
        posted["version"] = case.version
    if action.confirm:
        posted["confirmed"] = "yes"  # the confirmation page's second post
    return posted


@pytest.mark.parametrize(("key", "role"), CELLS, ids=[f"{key[1]}-{role}" for key, role in CELLS])
def test_the_service(world, city, key, role):
    action, row = REGISTRY[key], TABLE[key]
    record = row.start(world)
    user = city.user(role)
    arguments = service_inputs(action, record, row.data(record), city)
    before = trail(record).count()
    expected = service_expected(action, row.expected[role])

    try:
        action.service(**{action.subject: record}, actor=user, **arguments)
        outcome = OK
    except Refused as refusal:
        outcome = refused(refusal.code)
    except PermissionDenied:
        outcome = DENIED

    assert outcome == expected
    assert_recorded(record, before, outcome, user, action)
    if outcome.startswith("refused:"):
        assert outcome.split(":", 1)[1] in action.refuses  # the declared codes are the ones it refuses with


def page_url(action: Action, record) -> str:
    if action.subject == "case":
        return reverse("case-action", args=[record.reference, action.slug])
    return reverse(f"consultation-{action.slug}", args=[record.pk])


@pytest.mark.parametrize(("key", "role"), CELLS, ids=[f"{key[1]}-{role}" for key, role in CELLS])
def test_the_page(client, world, city, key, role):
    action, row = REGISTRY[key], TABLE[key]
    record = row.start(world)
    user = city.user(role)
    data = row.data(record)
    before = trail(record).count()
    client.force_login(user)

    response = client.post(page_url(action, record), {**page_data(action, record, data),
                                                      **({"file": data["file"]} if "file" in data else {})},
                           follow=True)

    if response.redirect_chain:
        levels = {message.level_tag for message in response.context["messages"]}
        outcome = OK if levels == {"success"} else "refused" if b'data-refusal="true"' in response.content else "bad"
        if outcome == "refused":
            outcome = refused(trail(record).latest("id").payload["code"])
    else:
        outcome = {403: DENIED, 404: HIDDEN}.get(response.status_code, str(response.status_code))
    assert outcome == row.expected[role]
    assert_recorded(record, before, outcome, user, action)


def api_url(action: Action, record) -> str:
    if action.subject == "case":
        return f"/api/v1/cases/{record.reference}/{action.slug}/"
    return f"/api/v1/consultations/{record.pk}/{action.slug}/"


@pytest.mark.parametrize(("key", "role"), CELLS, ids=[f"{key[1]}-{role}" for key, role in CELLS])
def test_the_api(world, city, key, role):
    action, row = REGISTRY[key], TABLE[key]
    record = row.start(world)
    user = city.user(role)
    data = row.data(record)
    before = trail(record).count()
    client = APIClient()
    client.force_authenticate(user)

    if "file" in data:
        response = client.post(api_url(action, record), {"file": data["file"]}, format="multipart")
    else:
        response = client.post(api_url(action, record), data, format="json")

    if response.status_code == 409:
        outcome = refused(response.json()["code"])
    else:
        outcome = {200: OK, 201: OK, 403: DENIED, 404: HIDDEN}.get(response.status_code, str(response.status_code))
    assert outcome == row.expected[role], response.content
    assert_recorded(record, before, outcome, user, action)


@pytest.mark.parametrize("key", list(TABLE), ids=[key[1] for key in TABLE])
def test_a_visitor_signs_in_first(client, world, key):
    action, row = REGISTRY[key], TABLE[key]
    record = row.start(world)

    page = client.post(page_url(action, record), {})
    api = APIClient().post(api_url(action, record), {}, format="json")

    assert page.status_code == 302 and page.url.startswith(reverse("login"))
    assert api.status_code == 401
