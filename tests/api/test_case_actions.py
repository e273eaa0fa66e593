"""The case actions over HTTP: each answers with the case as its detail shows it, refusals are 409 and
recorded, bad input is 400 and changes nothing (DESIGN.md §5)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import Case, CaseEvent
from cases.services import (
    attachment_add,
    case_complete_supplement,
    case_decide,
    case_dispute,
    case_return,
    case_route,
    case_submit,
)
from tests.support.api import API_ACTIONS, DETAIL_FIELDS, DISPUTE_FIELDS, URL, act, request_footprint
from tests.support.cases import PDF_BYTES
from tests.support.world import local_datetime


@pytest.mark.parametrize("action", API_ACTIONS)
def test_each_action_answers_with_the_case_detail(api, stages, action):
    stage, actor, body, event, status_after = API_ACTIONS[action]
    case = getattr(stages, stage)()
    client = api(actor)

    response = act(client, case, action, body)

    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == DETAIL_FIELDS
    shown = client.get(f"{URL}{case.reference}/")
    # A returned case leaves the unit's sight; an overseer's view is the same document.
    shown = shown if shown.status_code == 200 else api("inspector").get(f"{URL}{case.reference}/")
    assert data == shown.json()
    assert (data["status"], data["version"]) == (status_after, case.version + 1)
    assert (data["events"][-1]["action"], data["events"][-1]["actor"]) == (event, actor)


@pytest.mark.parametrize("action", API_ACTIONS)
def test_each_action_takes_only_post(api, stages, action):
    stage, actor, *_ = API_ACTIONS[action]
    case = getattr(stages, stage)()

    assert api(actor).get(f"{URL}{case.reference}/{action}/").status_code == 405


def test_accept_names_the_acceptor_assignee(api, stages):
    case = stages.routed()

    data = act(api("specialist"), case, "accept").json()

    assert (data["assignee"], data["status"]) == ("specialist", "in_progress")
    assert data["accepted_at"] is not None


def test_assign_names_the_assignee(api, stages):
    case = stages.in_progress()

    data = act(api("head"), case, "assign", {"assignee": "deputy"}).json()

    assert data["assignee"] == "deputy"
    assert data["events"][-1]["action"] == "assigned"


def test_propose_keeps_the_note(api, stages):
    data = act(api("specialist"), stages.in_progress(), "propose", {"note": "Đủ điều kiện cấp phép"}).json()

    assert data["events"][-1]["note"] == "Đủ điều kiện cấp phép"


def test_return_names_the_competent_department(api, stages):
    case = stages.misrouted()

    data = act(api("specialist"), case, "return", {"reason": "Không thuộc chức năng của Sở"}).json()

    assert (data["status"], data["owner"], data["assignee"], data["triage_reason"]) == (
        "triage", None, None, "returned")
    assert data["competent_department"] == "stc"
    [returned] = data["returns"]
    assert {key: returned[key] for key in ("department", "returned_by", "reason", "late", "competent_department")} == {
        "department": "sxd", "returned_by": "specialist", "reason": "Không thuộc chức năng của Sở", "late": False,
        "competent_department": "stc"}
    assert returned["returned_at"]


def test_return_with_no_rule_says_there_is_no_competent_department(api, stages):
    case = stages.unruled()

    data = act(api("head"), case, "return", {"reason": "Không rõ thẩm quyền"}).json()

    assert data["competent_department"] is None
    assert data["returns"][0]["competent_department"] is None


def test_transfer_hands_the_case_to_the_competent_unit(api, stages):
    data = act(api("head"), stages.misrouted(), "transfer", {"to": "stc", "reason": "Theo quy định mới"}).json()

    assert (data["owner"], data["status"], data["assignee"], data["competent_department"]) == (
        "stc", "routed", None, "stc")
    assert data["events"][-1]["to_department"] == "stc"


def test_submit_lists_the_submission(api, stages):
    data = act(api("head"), stages.city_level(), "submit", {"summary": "Tờ trình số 12/TTr-SXD"}).json()

    [submission] = data["submissions"]
    assert {key: submission[key] for key in ("submitted_by", "summary", "outcome", "decided_by", "decided_at",
                                             "decision_note")} == {
        "submitted_by": "head", "summary": "Tờ trình số 12/TTr-SXD", "outcome": "", "decided_by": None,
        "decided_at": None, "decision_note": ""}
    assert (data["decision_level"], data["legal_basis"]) == ("city_committee", "Luật Quy hoạch đô thị 2009, Điều 44")


@pytest.mark.parametrize(("outcome", "status", "case_outcome"), [
    ("approved", "resolved", "approved"), ("rejected", "resolved", "rejected"), ("rework", "in_progress", "")])
def test_decide_records_the_outcome(api, stages, outcome, status, case_outcome):
    data = act(api("city_office"), stages.submitted(), "decide", {"outcome": outcome, "note": "Ý kiến Chủ tịch"}).json()

    assert (data["status"], data["outcome"]) == (status, case_outcome)
    assert (data["resolved_at"] is not None) == (status == "resolved")
    [submission] = data["submissions"]
    assert (submission["outcome"], submission["decided_by"], submission["decision_note"]) == (
        outcome, "city_office", "Ý kiến Chủ tịch")


def test_resolve_settles_a_department_level_case(api, stages):
    data = act(api("head"), stages.in_progress(), "resolve", {"note": "Đã cấp giấy phép"}).json()

    assert (data["status"], data["outcome"]) == ("resolved", "")
    assert data["resolved_at"] is not None


def test_supplement_request_and_completion(api, stages):
    case = stages.in_progress()
    client = api("specialist")

    asked = act(client, case, "request-supplement", {"items": "Bản sao sổ đỏ"}).json()
    completed = act(client, case, "complete-supplement").json()

    assert (asked["status"], asked["supplement_items"]) == ("awaiting_supplement", "Bản sao sổ đỏ")
    assert asked["supplement_requested_at"] is not None
    assert completed["status"] == "in_progress"
    assert completed["events"][-1]["note"] == ""


def test_dispute_answers_201_with_the_dispute(api, city, stages):
    case = stages.routed()

    response = act(api("specialist"), case, "dispute", {"reason": "Quy định giao nhầm cho Sở"})

    assert response.status_code == 201
    data = response.json()
    assert set(data) == DISPUTE_FIELDS
    assert {key: data[key] for key in ("case", "rule", "department", "filed_by", "reason", "status", "settled_by")} == {
        "case": case.reference, "rule": city.permit_rule.pk, "department": "sxd", "filed_by": "specialist",
        "reason": "Quy định giao nhầm cho Sở", "status": "open", "settled_by": None}
    case.refresh_from_db()
    assert case.status == "routed"
    assert CaseEvent.objects.filter(case=case, action="dispute_filed").count() == 1


def test_the_version_the_client_saw_is_checked(api, stages):
    case = stages.routed()

    stale = act(api("head"), case, "accept", {"version": case.version + 1})
    current = act(api("head"), case, "accept", {"version": case.version})

    assert stale.status_code == 409
    assert stale.json()["code"] == "case_changed"
    assert current.status_code == 200


def test_a_stale_version_is_refused_after_someone_else_acted(api, stages):
    case = stages.routed()
    seen = api("deputy").get(f"{URL}{case.reference}/").json()["version"]
    act(api("specialist"), case, "accept")

    response = act(api("head"), case, "assign", {"assignee": "deputy", "version": seen})

    assert response.status_code == 409
    assert response.json()["code"] == "case_changed"
    case.refresh_from_db()
    assert case.assignee.username == "specialist"


def too_late(stages):
    return stages.in_progress(received_at=local_datetime(2025, 1, 6))


def asked_once(stages):
    case = stages.awaiting_supplement()
    return case_complete_supplement(case=case, actor=stages.city.user("specialist"))


def disputed(stages):
    case = stages.routed()
    case_dispute(case=case, actor=stages.city.user("head"), reason="Quy định chưa đúng")
    return Case.unscoped.get(pk=case.pk)


# (how to get the case, actor, action, body, refusal code, attempted)
REFUSALS = [
    ("in_progress", "specialist", "accept", {}, "invalid_transition", "accept"),
    ("routed", "inspector", "accept", {}, "not_owner", "accept"),
    ("routed", "admin", "propose", {"note": "x"}, "not_owner", "propose"),
    ("routed", "specialist", "return", {"reason": "Không phải việc của Sở"}, "within_own_authority", "return"),
    ("routed", "head", "transfer", {"to": "stc", "reason": "Đẩy sang Sở Tài chính"}, "within_own_authority",
     "transfer"),
    ("misrouted", "head", "transfer", {"to": "snnmt", "reason": "Sai đơn vị"}, "target_not_competent", "transfer"),
    ("in_progress", "head", "submit", {"summary": "Xin ý kiến UBND"}, "within_own_authority", "submit"),
    ("city_level", "head", "resolve", {"note": "Tự quyết"}, "invalid_transition", "resolve"),
    ("routed", "city_office", "decide", {"outcome": "approved"}, "invalid_transition", "decide"),
    (asked_once, "specialist", "request-supplement", {"items": "Thêm giấy tờ"}, "supplement_already_requested",
     "request_supplement"),
    (too_late, "specialist", "request-supplement", {"items": "Thêm giấy tờ"}, "supplement_too_late",
     "request_supplement"),
    (disputed, "specialist", "dispute", {"reason": "Lần nữa"}, "dispute_already_open", "dispute"),
    ("routed", "specialist", "accept", {"version": 99}, "case_changed", "accept"),
]


def prepare(stages, stage):
    return stage(stages) if callable(stage) else getattr(stages, stage)()


@pytest.mark.parametrize(("stage", "actor", "action", "body", "code", "attempted"), REFUSALS,
                         ids=[f"{row[2]}-{row[4]}" for row in REFUSALS])
def test_refusals_are_409_with_code_and_recorded(api, city, stages, stage, actor, action, body, code, attempted):
    case = prepare(stages, stage)
    case_row, events, *rest = request_footprint(case)

    response = act(api(actor), case, action, body)

    assert response.status_code == 409
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == code
    assert request_footprint(case) == (case_row, events + 1, *rest)
    refusal = CaseEvent.objects.filter(case=case).latest("id")
    assert (refusal.action, refusal.actor, refusal.payload["code"], refusal.payload["attempted"]) == (
        "refused", city.user(actor), code, attempted)
    assert refusal.note == response.json()["detail"]


def test_refused_return_names_the_rule_that_gives_the_case_to_the_unit(api, stages):
    response = act(api("specialist"), stages.routed(), "return", {"reason": "Không phải việc của Sở"})

    assert response.json()["code"] == "within_own_authority"
    assert "Luật Xây dựng 2014, Điều 103" in response.json()["detail"]


def test_refused_transfer_names_the_competent_unit(api, stages):
    response = act(api("head"), stages.misrouted(), "transfer", {"to": "snnmt", "reason": "Sai đơn vị"})

    assert "stc" in response.json()["detail"]


# (stage, actor, action, body, field at fault)
BAD_INPUT = [
    ("misrouted", "specialist", "return", {}, "reason"),
    ("misrouted", "specialist", "return", {"reason": "   "}, "reason"),
    ("misrouted", "specialist", "return", {"reason": "x" * 10_001}, "reason"),
    ("misrouted", "head", "transfer", {"reason": "Theo quy định"}, "to"),
    ("misrouted", "head", "transfer", {"to": "khong-co", "reason": "Theo quy định"}, "to"),
    ("misrouted", "head", "transfer", {"to": "stc"}, "reason"),
    ("city_level", "head", "submit", {}, "summary"),
    ("in_progress", "specialist", "propose", {}, "note"),
    ("in_progress", "head", "resolve", {"note": ""}, "note"),
    ("submitted", "city_office", "decide", {}, "outcome"),
    ("submitted", "city_office", "decide", {"outcome": "maybe"}, "outcome"),
    ("routed", "head", "assign", {}, "assignee"),
    ("routed", "head", "assign", {"assignee": "khong-ai"}, "assignee"),
    ("routed", "head", "assign", {"assignee": "outsider_specialist"}, "assignee"),
    ("routed", "head", "assign", {"assignee": "clerk"}, "assignee"),
    ("in_progress", "specialist", "request-supplement", {}, "items"),
    ("routed", "specialist", "dispute", {}, "reason"),
    ("routed", "specialist", "accept", {"version": "abc"}, "version"),
    ("routed", "specialist", "accept", {"version": 1.5}, "version"),
    ("routed", "specialist", "accept", {"version": 0}, "version"),
    ("routed", "specialist", "accept", {"version": [1]}, "version"),
]


@pytest.mark.parametrize(("stage", "actor", "action", "body", "field"), BAD_INPUT,
                         ids=[f"{row[2]}-{row[4]}-{n}" for n, row in enumerate(BAD_INPUT)])
def test_bad_input_is_400_and_changes_nothing(api, stages, stage, actor, action, body, field):
    case = getattr(stages, stage)()
    before = request_footprint(case)

    response = act(api(actor), case, action, body)

    assert response.status_code == 400
    assert field in response.json()
    assert request_footprint(case) == before


@pytest.mark.parametrize("action", API_ACTIONS)
@pytest.mark.parametrize("payload", [b'{"note": ', b"[1, 2]", b"null", b"\xff\xfe"])
def test_malformed_json_is_400_and_changes_nothing(api, stages, action, payload):
    stage, actor, *_ = API_ACTIONS[action]
    case = getattr(stages, stage)()
    before = request_footprint(case)

    response = api(actor).post(f"{URL}{case.reference}/{action}/", payload, content_type="application/json")

    assert response.status_code == 400
    assert request_footprint(case) == before


def test_unknown_case_is_404(api, city):
    assert act(api("head"), Case(reference="SXD-000000-0001"), "accept").status_code == 404


def test_anonymous_is_told_to_sign_in(api, stages):
    case = stages.routed()

    assert act(api(), case, "accept").status_code == 401


def detail_queries(client, case):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{URL}{case.reference}/")
    assert response.status_code == 200
    return len(queries)


def upload(name="to-trinh.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def test_detail_queries_do_not_grow_with_its_lists(api, city, stages, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = api("inspector")
    head, clerk = city.user("head"), city.user("clerk")

    def returned_often(rounds):
        case = stages.unruled()
        for n in range(rounds):
            attachment_add(case=case, actor=city.user("specialist"), upload=upload(f"ho-so-{n}.pdf"))
            case = case_return(case=case, actor=city.user(["head", "deputy", "specialist"][n % 3]),
                               reason=f"Lần trả {n}")
            case = case_route(case=case, actor=clerk, to=city.owner)
        return case

    def reworked_often(rounds):
        case = stages.city_level()
        for _ in range(rounds):
            case = case_submit(case=case, actor=head, summary="Tờ trình")
            case = case_decide(case=case, actor=city.user("city_office"), outcome="rework", note="Bổ sung")
        return case

    assert detail_queries(client, returned_often(1)) == detail_queries(client, returned_often(4))
    assert detail_queries(client, reworked_often(1)) == detail_queries(client, reworked_often(4))
    many = client.get(f"{URL}{returned_often(3).reference}/").json()
    assert (len(many["returns"]), len(many["attachments"])) == (3, 3)


def test_the_schema_documents_every_action(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    for action in [*API_ACTIONS, "dispute"]:
        operation = paths[f"/api/v1/cases/{{reference}}/{action}/"]["post"]
        assert "409" in operation["responses"], action
    assert "201" in paths["/api/v1/cases/{reference}/dispute/"]["post"]["responses"]
