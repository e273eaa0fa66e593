"""A case's actions from its page: one POST per action, each judged by its service (DESIGN.md §2, §4).

Every action is tried by the role that may take it, by an outsider (404), an overseer (refused and
recorded, or 403), anonymously (login), with the wrong method (405), from a stale page (case_changed)
and with bad input (nothing changes). The detail page offers each action only to those who may take it
and keeps a flat query count.
"""

import dataclasses
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from cases.actions import CASE_ACTIONS
from cases.models import Attachment, CaseEvent, EventAction, Return, Status
from cases.services import case_assign, case_route
from core.refusals import Refused
from tests.support.cases import ACTIONS as SERVICE_ACTIONS
from tests.support.cases import footprint, last_event_id


def action_url(case, action):
    return reverse("case-action", args=[case.reference, action])


def detail_url(case):
    return reverse("case-detail", args=[case.reference])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


# action -> (the stage it starts from, the role that takes it, its input beyond the version)
TAKEN_BY = {
    "accept": ("routed", "specialist", {}),
    "assign": ("routed", "head", {"assignee": "specialist"}),
    "propose": ("in_progress", "specialist", {"note": "Đề nghị cấp phép có điều kiện"}),
    "resolve": ("in_progress", "deputy", {"note": "Đã cấp giấy phép xây dựng"}),
    "submit": ("city_level_in_progress", "head", {"summary": "Tờ trình số 12/TTr-SXD"}),
    "decide": ("submitted", "city_office", {"outcome": "approved", "note": "Đồng ý theo tờ trình"}),
    "request-supplement": ("in_progress", "specialist", {"items": "Bản vẽ thiết kế có chữ ký"}),
    "complete-supplement": ("awaiting_supplement", "specialist", {"note": "Đã nhận đủ"}),
    "return": ("misrouted", "specialist", {"reason": "Không thuộc chức năng của Sở Xây dựng"}),
    "transfer": ("misrouted", "head", {"to": "stc", "reason": "Chuyển Sở Tài chính theo quy định"}),
    "dispute": ("routed", "specialist", {"reason": "Quy định giao nhầm thẩm quyền"}),
}
# A required field of each action with input, to leave empty.
REQUIRED_FIELD = {"assign": "assignee", "propose": "note", "resolve": "note", "submit": "summary",
                  "decide": "outcome", "request-supplement": "items", "return": "reason", "transfer": "reason",
                  "dispute": "reason"}
SELECTS = {"assignee", "outcome", "to"}


def spec(action):
    return SERVICE_ACTIONS[action.replace("-", "_")]


def post_data(case, action, **overrides):
    # Confirmed, as the second step of a move that cannot be taken back sends it (a no-op for the others).
    return {"version": case.version, **TAKEN_BY[action][2], "confirmed": "yes", **overrides}


def test_the_page_runs_the_registrys_services():
    # consult and reconcile are tried in test_views_consult.py, extend and key-task in test_views_extension.py,
    # route in test_views_triage.py.
    assert set(CASE_ACTIONS) == {*TAKEN_BY, "attachments", "consult", "reconcile", "extend", "key-task", "route"}
    for action in TAKEN_BY:
        assert CASE_ACTIONS[action].service is spec(action).service


@pytest.mark.parametrize("action", TAKEN_BY)
def test_the_role_that_may_take_it_does(signed_in, city, stages, action):
    stage, role, _fields = TAKEN_BY[action]
    case = stages(stage)
    response = signed_in(role).post(action_url(case, action), post_data(case, action))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == spec(action).status_after
    event = case.events.order_by("-id").first()
    assert (event.action, event.actor) == (spec(action).event, city.user(role))
    assert [level for level, _text in messages_of(response)] == ["success"]
    # A returned or transferred case leaves the unit's sight: back to the queue instead of a 404.
    gone = action in ("return", "transfer")
    assert response.url == (reverse("case-list") if gone else detail_url(case))


def test_the_inputs_reach_the_service(signed_in, city, stages):
    case = stages.routed()
    signed_in("head").post(action_url(case, "assign"), post_data(case, "assign", assignee="deputy"))
    case.refresh_from_db()
    assert case.assignee == city.user("deputy")
    case = stages.misrouted()
    signed_in("head").post(action_url(case, "transfer"), post_data(case, "transfer"))
    case.refresh_from_db()
    assert case.owner == city.outsider
    assert case.events.get(action=EventAction.TRANSFERRED).note == "Chuyển Sở Tài chính theo quy định"


@pytest.mark.parametrize("action", TAKEN_BY)
def test_an_outsider_gets_404_and_nothing_is_recorded(signed_in, stages, action):
    case = stages(TAKEN_BY[action][0])
    before, last = footprint(case), last_event_id(case)
    assert signed_in("outsider_head").post(action_url(case, action), post_data(case, action)).status_code == 404
    assert footprint(case) == before
    assert last_event_id(case) == last


@pytest.mark.parametrize("action", [action for action in TAKEN_BY if action != "decide"])
def test_an_overseer_sees_the_case_but_is_refused_and_the_refusal_is_recorded(signed_in, city, stages, action):
    case = stages(TAKEN_BY[action][0])
    before = footprint(case)
    response = signed_in("inspector").post(action_url(case, action), post_data(case, action), follow=True)
    assert response.status_code == 200
    assert footprint(case) == before
    event = case.events.order_by("-id").first()
    assert (event.action, event.actor, event.payload["code"]) == (EventAction.REFUSED, city.user("inspector"),
                                                                  "not_owner")
    html = response.content.decode()
    assert 'data-refusal="true"' in html
    assert "Chỉ cơ quan chủ trì xử lý mới được thao tác trên hồ sơ này." in html  # the reader's language


@pytest.mark.parametrize(("action", "role"), [("decide", "head"), ("decide", "inspector"), ("transfer", "specialist"),
                                              ("resolve", "specialist"), ("submit", "specialist"),
                                              ("assign", "specialist"), ("accept", "clerk")])
def test_a_role_that_may_not_take_it_gets_403_and_nothing_changes(signed_in, stages, action, role):
    case = stages(TAKEN_BY[action][0])
    before, last = footprint(case), last_event_id(case)
    assert signed_in(role).post(action_url(case, action), post_data(case, action)).status_code == 403
    assert footprint(case) == before
    assert last_event_id(case) == last


@pytest.mark.parametrize("action", TAKEN_BY)
def test_anonymous_is_sent_to_login(signed_in, stages, action):
    case = stages(TAKEN_BY[action][0])
    before = footprint(case)
    response = signed_in("anonymous").post(action_url(case, action), post_data(case, action))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert footprint(case) == before


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_wrong_method(signed_in, stages, method):
    case = stages.routed()
    assert getattr(signed_in("specialist"), method)(action_url(case, "accept")).status_code == 405
    case.refresh_from_db()
    assert case.status == Status.ROUTED


def test_an_unknown_action_is_not_a_page(signed_in, stages):
    case = stages.routed()
    assert signed_in("head").post(f"/cases/{case.reference}/delete/", {"version": 1}).status_code == 404


@pytest.mark.parametrize("action", TAKEN_BY)
def test_a_stale_page_is_refused_with_case_changed(signed_in, city, stages, action):
    stage, role, _fields = TAKEN_BY[action]
    case = stages(stage)
    before = footprint(case)
    response = signed_in(role).post(action_url(case, action), post_data(case, action, version=case.version + 1))
    assert response.status_code == 302
    assert footprint(case) == before
    event = case.events.order_by("-id").first()
    assert (event.action, event.payload["code"], event.payload["attempted"]) == (
        EventAction.REFUSED, "case_changed", spec(action).service.__name__.removeprefix("case_"))
    assert [level for level, _text in messages_of(response)] == ["error"]


def test_acting_on_a_page_someone_else_changed_since(signed_in, city, stages):
    case = stages.routed()
    page = signed_in("specialist").get(detail_url(case))
    version = page.context["case"].version
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))
    response = signed_in("specialist").post(action_url(case, "accept"), {"version": version}, follow=True)
    case.refresh_from_db()
    assert case.assignee == city.user("deputy")  # the head's choice stands
    assert "Hồ sơ đã được người khác cập nhật sau khi bạn mở" in response.content.decode()


@pytest.mark.parametrize("action", REQUIRED_FIELD)
def test_an_empty_required_field_changes_nothing(signed_in, stages, action):
    stage, role, _fields = TAKEN_BY[action]
    case = stages(stage)
    before, last = footprint(case), last_event_id(case)
    field = REQUIRED_FIELD[action]
    # Blank text is stripped to nothing; an empty select sends nothing.
    empty = "" if field in SELECTS else "  \n "
    response = signed_in(role).post(action_url(case, action), post_data(case, action, **{field: empty}),
                                    HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert footprint(case) == before
    assert last_event_id(case) == last
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "This field is required." in text


@pytest.mark.parametrize(("action", "field", "value"), [("assign", "assignee", "no-such-person"),
                                                        ("transfer", "to", "no-such-unit"),
                                                        ("decide", "outcome", "postponed")])
def test_an_unknown_choice_changes_nothing(signed_in, stages, action, field, value):
    stage, role, _fields = TAKEN_BY[action]
    case = stages(stage)
    before, last = footprint(case), last_event_id(case)
    response = signed_in(role).post(action_url(case, action), post_data(case, action, **{field: value}),
                                    HTTP_ACCEPT_LANGUAGE="en")
    assert footprint(case) == before
    assert last_event_id(case) == last
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Select a valid choice" in text


@pytest.mark.parametrize("person", ["outsider_specialist", "clerk"])
def test_assigning_someone_who_does_not_handle_the_units_cases_is_told_why(signed_in, stages, person):
    """The page judges the person as the API does: the service names who may not take the case."""
    stage, role, _fields = TAKEN_BY["assign"]
    case = stages(stage)
    before, last = footprint(case), last_event_id(case)
    response = signed_in(role).post(action_url(case, "assign"), post_data(case, "assign", assignee=person),
                                    HTTP_ACCEPT_LANGUAGE="en")
    assert (footprint(case), last_event_id(case)) == (before, last)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert f"Assignee: {person} does not handle cases in Sở Xây dựng." in text


def test_a_transfer_to_a_unit_the_page_does_not_offer_meets_the_recorded_refusal(signed_in, city, stages):
    """A unit the page does not list, posted by hand, is refused as through the API, and the attempt recorded."""
    case = stages.misrouted()
    before = footprint(case)
    response = signed_in("head").post(action_url(case, "transfer"), post_data(case, "transfer", to="ubnd"),
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert footprint(case) == before
    refusal = case.events.get(action=EventAction.REFUSED)
    assert (refusal.actor, refusal.payload["code"]) == (city.user("head"), "target_not_competent")
    [(level, _text)] = messages_of(response)
    assert level == "error"


def test_a_missing_version_asks_for_a_reload(signed_in, stages):
    case = stages.routed()
    response = signed_in("specialist").post(action_url(case, "accept"), {}, HTTP_ACCEPT_LANGUAGE="en")
    case.refresh_from_db()
    assert case.status == Status.ROUTED
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "reload it" in text
    assert "Version" not in text  # a hidden field is not named to the reader


def test_a_service_validation_error_is_told_with_its_field(signed_in, stages, monkeypatch):
    def invalid(**kwargs):
        raise ValidationError({"note": "Nội dung đề xuất quá ngắn.", "other": "Thiếu căn cứ."})

    invalid.move = CASE_ACTIONS["propose"].move

    monkeypatch.setitem(CASE_ACTIONS, "propose", dataclasses.replace(CASE_ACTIONS["propose"], service=invalid))
    case = stages.in_progress()
    response = signed_in("specialist").post(action_url(case, "propose"), post_data(case, "propose"),
                                            HTTP_ACCEPT_LANGUAGE="en")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Proposed resolution: Nội dung đề xuất quá ngắn." in text
    assert "Thiếu căn cứ." in text


def test_a_safe_next_page_is_followed_and_another_site_is_not(signed_in, city, stages):
    case = stages.submitted()
    client = signed_in("city_office")
    response = client.post(action_url(case, "decide"), post_data(case, "decide", next=reverse("submissions")))
    assert response.url == reverse("submissions")
    case = stages.submitted()
    response = client.post(action_url(case, "decide"), post_data(case, "decide", next="https://example.com/"))
    assert response.url == detail_url(case)


# The owner is told whom the rules name, and refused when it tries to pass on its own work ------------------


def test_own_authority_work_cannot_be_passed_on_and_the_refusal_is_shown_and_recorded(signed_in, city, stages):
    case = stages.routed()
    client = signed_in("head")
    html = client.get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-test="action-transfer"' in html  # offered, so that the server's refusal is what the head meets
    assert 'data-unit="sxd"' in html
    assert "give this case to your unit" in html
    before = footprint(case)
    response = client.post(action_url(case, "transfer"), post_data(case, "transfer"), follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert footprint(case) == before
    refused = case.events.get(action=EventAction.REFUSED)
    assert (refused.payload["code"], refused.payload["attempted"], refused.actor) == (
        "within_own_authority", "transfer", city.user("head"))
    html = response.content.decode()
    assert 'data-refusal="true"' in html
    assert "it cannot be passed to another unit" in html
    assert 'data-action="refused"' in html


def test_the_transfer_form_names_and_preselects_the_competent_unit(signed_in, city, stages):
    case = stages.misrouted()
    response = signed_in("head").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    transfer = next(action for action in response.context["actions"] if action["slug"] == "transfer")
    assert transfer["competent"] == city.outsider
    assert transfer["form"]["to"].value() == city.outsider.code
    assert city.owner.code not in [code for code, _label in transfer["form"].fields["to"].choices if code]
    assert "name Sở Tài chính as the competent unit" in response.content.decode()


def test_the_return_form_says_when_the_rules_name_no_unit(signed_in, city, stages):
    case = stages.routed()
    city.permit_rule.delete()
    html = signed_in("specialist").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "name no competent unit" in html
    assert 'data-test="action-return"' in html


def test_a_return_is_shown_with_its_facts_once_the_case_is_routed_again(signed_in, city, stages):
    case = stages.misrouted()
    signed_in("specialist").post(action_url(case, "return"), post_data(case, "return"))
    case.refresh_from_db()
    case_route(case=case, actor=city.user("clerk"), to=city.outsider)
    response = signed_in("outsider_head").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    for text in ['data-test="returns"', 'data-late="false"', "Sở Xây dựng", "Phạm Minh Tuấn",
                 "Không thuộc chức năng của Sở Xây dựng", "On time", "Sở Tài chính"]:
        assert text in html, text


# What the page offers whom -----------------------------------------------------------------------------------

OFFERED = [
    ("routed", "specialist", {"accept", "return", "dispute", "attachments"}),
    ("routed", "head", {"accept", "assign", "return", "transfer", "dispute", "attachments", "extend", "key-task"}),
    ("in_progress", "specialist", {"propose", "consult", "request-supplement", "return", "dispute", "attachments"}),
    ("in_progress", "head", {"assign", "propose", "consult", "resolve", "request-supplement", "return", "transfer",
                             "dispute", "attachments", "extend", "key-task"}),
    ("city_level_in_progress", "deputy", {"assign", "propose", "consult", "submit", "request-supplement", "return",
                                          "transfer", "dispute", "attachments", "extend", "key-task"}),
    ("awaiting_supplement", "specialist", {"complete-supplement", "attachments"}),
    ("submitted", "head", {"attachments", "extend", "key-task"}),
    ("submitted", "city_office", {"decide", "key-task"}),
    ("submitted", "admin", {"decide"}),
    ("resolved", "head", {"attachments"}),
    ("routed", "clerk", {"attachments"}),
    ("routed", "inspector", set()),
]


@pytest.mark.parametrize(("stage", "role", "offered"), OFFERED)
def test_the_page_offers_the_actions_of_the_role_and_state(signed_in, stages, stage, role, offered):
    case = stages(stage)
    response = signed_in(role).get(detail_url(case))
    assert {action["slug"] for action in response.context["actions"]} == offered
    html = response.content.decode()
    for action in offered:
        assert f'data-test="action-{action}"' in html
        assert f'action="{action_url(case, action)}"' in html
    assert html.count(f'name="version" value="{case.version}"') == len(offered - {"attachments"})
    if not offered:
        assert 'data-test="no-actions"' in html


def test_a_supplement_is_not_offered_twice(signed_in, stages):
    case = stages.awaiting_supplement()
    client = signed_in("specialist")
    client.post(action_url(case, "complete-supplement"), post_data(case, "complete-supplement"))
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    assert "request-supplement" not in {action["slug"] for action in client.get(detail_url(case)).context["actions"]}
    # Posted anyway, the service refuses it, and the refusal is recorded.
    client.post(action_url(case, "request-supplement"), post_data(case, "request-supplement"))
    assert case.events.order_by("-id").first().payload["code"] == "supplement_already_requested"


def test_a_second_dispute_by_the_same_unit_is_refused(signed_in, stages):
    case = stages.routed()
    client = signed_in("specialist")
    client.post(action_url(case, "dispute"), post_data(case, "dispute"))
    case.refresh_from_db()
    response = client.post(action_url(case, "dispute"), post_data(case, "dispute"), follow=True)
    assert case.events.order_by("-id").first().payload["code"] == "dispute_already_open"
    html = response.content.decode()
    assert 'data-test="open-disputes"' in html
    assert "Quy định giao nhầm thẩm quyền" in html


def test_a_city_decision_shows_on_the_case(signed_in, city, stages):
    case = stages.submitted()
    signed_in("city_office").post(action_url(case, "decide"), post_data(case, "decide"))
    html = signed_in("head").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ['data-test="case-outcome" data-outcome="approved"', 'data-test="submission" data-outcome="approved"',
                 "Tờ trình điều chỉnh quy hoạch", "Đồng ý theo tờ trình", 'data-status="resolved"']:
        assert text in html, text


# A flat query count ------------------------------------------------------------------------------------------


def _grow(case, city, count):
    """`count` refusals, files and returns on the case (rows written directly: only their number matters)."""
    for number in range(count):
        with pytest.raises(Refused):
            case_route(case=case, actor=city.user("clerk"), to=city.outsider)
        Attachment.objects.create(case=case, file=f"cases/{case.pk}/{number}.pdf", original_name=f"{number}.pdf",
                                  content_type="application/pdf", size=1000 + number, sha256="ab" * 32,
                                  uploaded_by=city.user("specialist"))
        Return.objects.create(case=case, department=city.outsider, returned_by=city.user("outsider_head"),
                              reason=f"Trả lại lần {number}", competent_department=city.owner)


@pytest.mark.parametrize("role", ["head", "inspector"])
def test_the_detail_query_count_does_not_grow(signed_in, city, stages, role):
    counts = {}
    client = signed_in(role)
    for rows in (1, 10):
        case = stages.in_progress()
        _grow(case, city, rows)
        client.get(detail_url(case))  # warm the routing index and the calendar, cached per process
        with CaptureQueriesContext(connection) as queries:
            response = client.get(detail_url(case))
        assert len(response.context["case"].attachments.all()) == rows
        assert len(response.context["case"].returns.all()) == rows
        assert len(response.context["events"]) == CaseEvent.objects.filter(case=case).count()
        counts[rows] = len(queries)
    assert counts[1] == counts[10], counts
    assert counts[10] <= 16  # the history's people, read once


# Moves that cannot be taken back ask once more ------------------------------------------------------------


@pytest.mark.parametrize("action", ["resolve", "submit", "decide", "return", "transfer"])
def test_an_irreversible_move_shows_what_it_will_do_and_changes_nothing_yet(signed_in, stages, action):
    stage, role, fields = TAKEN_BY[action]
    case = stages(stage)
    before = footprint(case)

    response = signed_in(role).post(action_url(case, action), {"version": case.version, **fields})

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-test="confirm-action" data-action="{action}"' in html
    with translation.override("vi"):
        assert escape(str(CASE_ACTIONS[action].confirm)) in html
    assert '<input type="hidden" name="confirmed" value="yes">' in html
    assert f'<input type="hidden" name="version" value="{case.version}">' in html
    for value in fields.values():
        assert f'value="{value}"' in html  # sent again as typed
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # a plain form: no inline script
    assert footprint(case) == before


def test_confirming_makes_the_move_and_a_stale_confirmation_is_refused(signed_in, city, stages):
    case = stages.in_progress()
    data = {"version": case.version, "note": "Đã cấp giấy phép xây dựng"}
    first = signed_in("deputy").post(action_url(case, "resolve"), data)
    assert first.status_code == 200
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))  # someone moved meanwhile

    signed_in("deputy").post(action_url(case, "resolve"), {**data, "confirmed": "yes"})

    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    assert case.events.order_by("-id").first().payload["code"] == "case_changed"
