"""Races answer honestly: whoever loses a race gets 409 `case_changed` (or its rule's code) and the attempt is
recorded, on the page and through the API; never a 404 for a case they were looking at. A unit that never held
the case still gets 404, with nothing recorded, as for any case it cannot see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases.models import CaseEvent, EventAction, Status
from cases.services import case_assign, case_transfer
from core.refusals import RefusalCode
from tests.support.api import act
from tests.support.concurrency import run_together, skip_unless_postgres

pytestmark = pytest.mark.django_db


def refusals(case) -> list[tuple[str, str, str]]:
    return [(event.actor.username, event.payload["attempted"], event.payload["code"])
            for event in CaseEvent.objects.filter(case=case, action=EventAction.REFUSED).select_related("actor")]


@pytest.fixture
def transferred(city, stages):
    """An in-progress case of the owner, its specialist's; the version everyone saw; then the head transfers it
    to the unit the rules give it to now, and the owner's people lose sight of it."""
    case = stages.misrouted("in_progress")
    seen = case.version
    case_transfer(case=case, actor=city.user("head"), to=city.outsider, reason="Thuộc thẩm quyền Sở Tài chính")
    return case, seen


def test_the_api_loser_gets_409_case_changed_and_the_attempt_is_recorded(api, transferred):
    case, seen = transferred
    response = act(api("specialist"), case, "resolve", {"note": "Đã cấp phép", "version": seen})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == RefusalCode.CASE_CHANGED
    assert refusals(case) == [("specialist", "resolve", RefusalCode.CASE_CHANGED)]


def test_without_a_version_the_loser_gets_the_rules_own_code(api, transferred):
    case, _seen = transferred
    response = act(api("specialist"), case, "resolve", {"note": "Đã cấp phép"})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] in {RefusalCode.NOT_OWNER, RefusalCode.INVALID_TRANSITION}
    assert [code for _actor, _attempted, code in refusals(case)] == [response.json()["code"]]


def test_an_input_made_for_the_case_as_it_was_is_a_lost_race_not_a_field_error(api, city, transferred):
    case, seen = transferred
    # The head's own specialist is no handler of the unit that owns the case now.
    response = act(api("head"), case, "assign", {"assignee": city.user("deputy").username, "version": seen})
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == RefusalCode.CASE_CHANGED
    assert refusals(case) == [("head", "assign", RefusalCode.CASE_CHANGED)]


def test_the_page_tells_the_loser_and_records_the_attempt(signed_in, transferred):
    case, seen = transferred
    response = signed_in("specialist").post(reverse("case-action", args=[case.reference, "resolve"]),
                                            {"note": "Đã cấp phép", "version": seen}, follow=True)
    assert response.status_code == 200
    # The case is no longer theirs to see: back to the list, with why.
    assert response.redirect_chain[-1][0] == reverse("case-list")
    assert [message.level_tag for message in response.context["messages"]] == ["error"]
    assert refusals(case) == [("specialist", "resolve", RefusalCode.CASE_CHANGED)]


def test_a_unit_that_never_held_the_case_still_gets_404_and_leaves_no_trace(api, signed_in, transferred):
    case, seen = transferred
    assert act(api("consulted_head"), case, "accept", {"version": seen}).status_code == 404
    page = signed_in("consulted_specialist").post(reverse("case-action", args=[case.reference, "resolve"]),
                                                  {"note": "x", "version": seen})
    assert page.status_code == 404
    assert refusals(case) == []


def test_a_stale_version_on_a_case_still_in_sight_is_refused_before_its_input_is_read(api, city, stages):
    case = stages.in_progress()
    seen = case.version
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))
    response = act(api("head"), case, "assign", {"assignee": "no-such-person", "version": seen})
    assert response.status_code == 409
    assert response.json()["code"] == RefusalCode.CASE_CHANGED
    assert refusals(case) == [("head", "assign", RefusalCode.CASE_CHANGED)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_two_requests_at_once_one_wins_and_the_other_is_a_recorded_409(api, city, stages, repeat):
    skip_unless_postgres()
    case = stages.misrouted("in_progress")
    seen = case.version
    head, deputy = api("head"), api("deputy")
    answers = run_together(
        lambda: act(head, case, "transfer", {"to": city.outsider.code, "reason": "Chuyển Sở Tài chính",
                                             "version": seen}),
        lambda: act(deputy, case, "resolve", {"note": "Đã cấp phép", "version": seen}))
    outcomes = [answer.status_code for answer in answers]
    assert sorted(outcomes) == [200, 409], [answer.json() for answer in answers]
    case.refresh_from_db()
    winner = "transfer" if outcomes[0] == 200 else "resolve"
    assert case.status == (Status.ROUTED if winner == "transfer" else Status.RESOLVED)
    loser = ("deputy", "resolve") if winner == "transfer" else ("head", "transfer")
    assert refusals(case) == [(*loser, RefusalCode.CASE_CHANGED)]
