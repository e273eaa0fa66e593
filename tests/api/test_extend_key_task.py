"""`cases/{reference}/extend/` and `cases/{reference}/key-task/` (DESIGN.md §3 Extension, §5): each answers
200 with the case detail; refusals are 409 `{code, detail}` and recorded; bad input is 400 and changes
nothing; a role that may not is 403, a unit that does not see the case 404.

Received Monday 2 June 2025 with 15 working days: due Monday 23 June; "now" is Wednesday 18 June.
"""

import datetime as dt

import pytest
from drf_spectacular.generators import SchemaGenerator

from cases.models import CaseEvent
from cases.services import case_extend, case_resolve, case_set_key_task
from tests.support.api import DETAIL_FIELDS, act, request_footprint
from tests.support.world import local_datetime

URL = "/api/v1/cases/"
RECEIVED = local_datetime(2025, 6, 2, 9)
NOW = local_datetime(2025, 6, 18, 10)
REASON = "Chờ kết quả kiểm tra hiện trạng công trình"
BODY = {"due_date": "2025-06-30", "reason": REASON}
EXTENSION_FIELDS = {"extended_at", "due_date_before_extension", "extension_reason"}


@pytest.fixture
def stages(stages, clock):
    """The shared stages, every case received on Monday 2 June; the clock then stands on 18 June."""

    def at(stage, **fields):
        clock.set(RECEIVED)
        case = getattr(stages, stage)(received_at=RECEIVED, **fields)
        clock.set(NOW)
        return case

    return at


@pytest.fixture
def case(stages):
    return stages("in_progress")


def test_extend_answers_with_the_case_detail(api, case):
    client = api("head")

    response = act(client, case, "extend", {**BODY, "version": case.version})

    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == DETAIL_FIELDS | EXTENSION_FIELDS
    assert data == client.get(f"{URL}{case.reference}/").json()
    assert {key: data[key] for key in ("due_date", "due_date_before_extension", "extension_reason", "version")} == {
        "due_date": "2025-06-30", "due_date_before_extension": "2025-06-23", "extension_reason": REASON,
        "version": case.version + 1}
    assert data["extended_at"].startswith("2025-06-18T10:00:00")
    assert (data["events"][-1]["action"], data["events"][-1]["actor"], data["events"][-1]["note"]) == (
        "extended", "head", REASON)


def test_the_detail_shows_no_extension_before_one(api, case):
    data = api("inspector").get(f"{URL}{case.reference}/").json()

    assert {key: data[key] for key in EXTENSION_FIELDS} == {
        "extended_at": None, "due_date_before_extension": None, "extension_reason": ""}


@pytest.mark.parametrize(("key_task", "event"), [(True, "key_task_set"), (False, "key_task_cleared")])
def test_key_task_answers_with_the_case_detail(api, city, case, key_task, event):
    if not key_task:
        case = case_set_key_task(case=case, actor=city.user("head"), key_task=True)

    response = act(api("city_office"), case, "key-task", {"key_task": key_task, "version": case.version})

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["key_task"], data["version"]) == (key_task, case.version + 1)
    assert (data["events"][-1]["action"], data["events"][-1]["actor"]) == (event, "city_office")


def test_a_marked_case_leads_the_list(api, stages):
    first, second = stages("in_progress"), stages("in_progress")

    act(api("deputy"), second, "key-task", {"key_task": True})

    references = [row["reference"] for row in api("head").get(URL).json()["results"]]
    assert references[:2] == [second.reference, first.reference]


@pytest.mark.parametrize("action", ["extend", "key-task"])
def test_only_post(api, case, action):
    assert api("head").get(f"{URL}{case.reference}/{action}/").status_code == 405


def due_today(stages, clock):
    case = stages("in_progress")
    clock.set(local_datetime(2025, 6, 23, 9))
    return case


# (how to get the case, actor, action, body, refusal code, attempted)
REFUSALS = [
    ("extended", "deputy", "extend", {"due_date": "2025-07-07", "reason": "Thêm lần nữa"}, "already_extended",
     "extend"),
    ("due_today", "head", "extend", BODY, "extension_too_late", "extend"),
    ("in_progress", "inspector", "extend", BODY, "not_owner", "extend"),
    ("in_progress", "city_office", "extend", BODY, "not_owner", "extend"),
    ("awaiting_supplement", "head", "extend", BODY, "invalid_transition", "extend"),
    ("in_progress", "head", "extend", {**BODY, "version": 99}, "case_changed", "extend"),
    ("resolved", "head", "key-task", {"key_task": True}, "invalid_transition", "set_key_task"),
    ("in_progress", "city_office", "key-task", {"key_task": True, "version": 99}, "case_changed", "set_key_task"),
]


def prepare(city, stages, clock, stage):
    if stage == "extended":
        return case_extend(case=stages("in_progress"), actor=city.user("head"), due_date=dt.date(2025, 6, 30),
                           reason=REASON)
    if stage == "due_today":
        return due_today(stages, clock)
    if stage == "resolved":
        return case_resolve(case=stages("in_progress"), actor=city.user("head"), note="Đã cấp giấy phép")
    return stages(stage)


@pytest.mark.parametrize(("stage", "actor", "action", "body", "code", "attempted"), REFUSALS,
                         ids=[f"{row[2]}-{row[4]}-{row[1]}" for row in REFUSALS])
def test_refusals_are_409_with_code_and_recorded(api, city, stages, clock, stage, actor, action, body, code,
                                                 attempted):
    case = prepare(city, stages, clock, stage)
    case_row, events, *rest = request_footprint(case)

    response = act(api(actor), case, action, body)

    assert response.status_code == 409, response.json()
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == code
    assert request_footprint(case) == (case_row, events + 1, *rest)
    refusal = CaseEvent.objects.filter(case=case).latest("id")
    assert (refusal.action, refusal.actor, refusal.payload["code"], refusal.payload["attempted"]) == (
        "refused", city.user(actor), code, attempted)
    assert refusal.note == response.json()["detail"]


def test_too_late_names_the_due_date(api, stages, clock):
    case = due_today(stages, clock)

    response = act(api("head"), case, "extend", BODY)

    assert "23/06/2025" in response.json()["detail"]


# (body, field at fault)
BAD_EXTEND = [
    ({"reason": REASON}, "due_date"),
    ({"due_date": "30/06/2025", "reason": REASON}, "due_date"),
    ({"due_date": "2025-02-30", "reason": REASON}, "due_date"),
    ({"due_date": None, "reason": REASON}, "due_date"),
    ({"due_date": "2025-06-23", "reason": REASON}, "due_date"),  # not after the current due date
    ({"due_date": "2025-06-28", "reason": REASON}, "due_date"),  # a Saturday
    ({"due_date": "2025-09-02", "reason": REASON}, "due_date"),  # National Day
    ({"due_date": "2025-06-30"}, "reason"),
    ({"due_date": "2025-06-30", "reason": "   "}, "reason"),
    ({"due_date": "2025-06-30", "reason": "x" * 10_001}, "reason"),
    ({**BODY, "version": "abc"}, "version"),
]
BAD_KEY_TASK = [({}, "key_task"), ({"key_task": None}, "key_task"), ({"key_task": "perhaps"}, "key_task"),
                ({"key_task": [True]}, "key_task"), ({"key_task": True, "version": 0}, "version")]


@pytest.mark.parametrize(("action", "body", "field"), [("extend", *row) for row in BAD_EXTEND]
                         + [("key-task", *row) for row in BAD_KEY_TASK],
                         ids=[f"extend-{n}" for n in range(len(BAD_EXTEND))]
                         + [f"key-task-{n}" for n in range(len(BAD_KEY_TASK))])
def test_bad_input_is_400_and_changes_nothing(api, case, action, body, field):
    before = request_footprint(case)

    response = act(api("head"), case, action, body)

    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert request_footprint(case) == before


@pytest.mark.parametrize("action", ["extend", "key-task"])
@pytest.mark.parametrize("payload", [b'{"due_date": ', b"[1, 2]", b"null", b"\xff\xfe"])
def test_malformed_json_is_400(api, case, action, payload):
    before = request_footprint(case)

    response = api("head").post(f"{URL}{case.reference}/{action}/", payload, content_type="application/json")

    assert response.status_code == 400
    assert request_footprint(case) == before


# Who may: a unit that does not see the case gets 404; a member without the role, or an overseer who may not
# flag key tasks, gets 403; an overseer who sees the case is refused the extension as not its owner (above).
ROLE_ERRORS = [
    ("extend", "specialist", 403), ("extend", "clerk", 403), ("extend", "outsider_head", 404),
    ("extend", "nobody", 404), ("key-task", "specialist", 403), ("key-task", "clerk", 403),
    ("key-task", "inspector", 403), ("key-task", "home_affairs", 403), ("key-task", "admin", 403),
    ("key-task", "outsider_head", 404),
]


@pytest.mark.parametrize(("action", "role", "status"), ROLE_ERRORS, ids=[f"{a}-{r}" for a, r, _s in ROLE_ERRORS])
def test_role_errors(api, case, action, role, status):
    before = request_footprint(case)
    body = BODY if action == "extend" else {"key_task": True}

    response = act(api(role), case, action, body)

    assert response.status_code == status
    assert request_footprint(case) == before


@pytest.mark.parametrize("action", ["extend", "key-task"])
def test_anonymous_is_401(api, case, action):
    assert act(api(), case, action, BODY).status_code == 401


def test_the_schema_documents_both_actions(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path, fields in [("/api/v1/cases/{reference}/extend/", {"due_date", "reason", "version"}),
                         ("/api/v1/cases/{reference}/key-task/", {"key_task", "version"})]:
        operation = schema["paths"][path]["post"]
        assert {"200", "409"} <= set(operation["responses"])
        request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert set(schema["components"]["schemas"][request]["properties"]) == fields
    detail = schema["components"]["schemas"]["CaseDetail"]["properties"]
    assert set(detail) >= EXTENSION_FIELDS
