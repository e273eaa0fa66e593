"""The city office's queue of matters waiting for the City Committee, and recording its decisions there."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import EventAction, Outcome, Status, Submission
from cases.services import case_decide
from tests.support.cases import footprint, last_event_id

URL = reverse("submissions")


def decide_url(case):
    return reverse("case-action", args=[case.reference, "decide"])


def references(response):
    return [row["submission"].case.reference for row in response.context["rows"]]


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


@pytest.mark.parametrize("role", ["city_office", "admin"])
def test_the_city_office_and_admins_see_pending_submissions_oldest_first(signed_in, city, stages, role):
    first = stages.submitted(title="Điều chỉnh quy hoạch khu đô thị Bắc sông Cấm")
    second = stages.submitted(title="Điều chỉnh quy hoạch chợ Sắt")
    decided = stages.submitted(title="Đã quyết định")
    case_decide(case=decided, actor=city.user("city_office"), outcome=Outcome.REJECTED)
    # Submitted in the other order than logged: the queue follows the submission time.
    Submission.objects.filter(case=first).update(submitted_at=timezone.now() - dt.timedelta(hours=1))
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    assert references(response) == [first.reference, second.reference]
    html = response.content.decode()
    for text in [f'href="{reverse("case-detail", args=[first.reference])}"', "Sở Xây dựng", "Trần Văn Hùng",
                 "Tờ trình điều chỉnh quy hoạch", "Điều chỉnh quy hoạch chợ Sắt", f'action="{decide_url(first)}"',
                 f'name="version" value="{first.version}"', f'name="next" value="{URL}"']:
        assert text in html, text
    assert decided.reference not in html


@pytest.mark.parametrize("role", ["head", "deputy", "specialist", "clerk", "inspector", "home_affairs",
                                  "outsider_head", "nobody"])
def test_anyone_else_is_forbidden(signed_in, stages, role):
    stages.submitted()
    assert signed_in(role).get(URL).status_code == 403


def test_an_empty_queue_says_so(signed_in):
    response = signed_in("city_office").get(URL)
    assert b'data-test="submissions-empty"' in response.content


@pytest.mark.parametrize(("outcome", "status"), [(Outcome.APPROVED, Status.RESOLVED),
                                                 (Outcome.REJECTED, Status.RESOLVED),
                                                 (Outcome.REWORK, Status.IN_PROGRESS)])
def test_deciding_from_the_queue(signed_in, city, stages, outcome, status):
    case = stages.submitted()
    client = signed_in("city_office")
    response = client.post(decide_url(case), {"version": case.version, "outcome": outcome,
                                              "note": "Quyết định số 1234/QĐ-UBND", "next": URL, "confirmed": "yes"})
    assert response.status_code == 302
    assert response.url == URL
    case.refresh_from_db()
    assert case.status == status
    submission = Submission.objects.get(case=case)
    assert (submission.outcome, submission.decided_by, submission.decision_note) == (
        outcome, city.user("city_office"), "Quyết định số 1234/QĐ-UBND")
    event = case.events.order_by("-id").first()
    assert (event.action, event.payload["outcome"]) == (EventAction.DECIDED, outcome)
    assert references(client.get(URL)) == []
    if outcome != Outcome.REWORK:
        assert (case.outcome, case.resolution) == (outcome, "Quyết định số 1234/QĐ-UBND")


def test_a_decision_without_an_outcome_changes_nothing(signed_in, stages):
    case = stages.submitted()
    before, last = footprint(case), last_event_id(case)
    response = signed_in("city_office").post(decide_url(case), {"version": case.version, "outcome": "",
                                                                "next": URL}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.url == URL
    assert footprint(case) == before
    assert last_event_id(case) == last
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Outcome: This field is required." in text


def test_a_decision_already_recorded_by_a_colleague_is_refused(signed_in, city, stages):
    case = stages.submitted()
    version = case.version
    case_decide(case=case, actor=city.user("admin"), outcome=Outcome.APPROVED)
    case.refresh_from_db()
    before = footprint(case)
    response = signed_in("city_office").post(decide_url(case), {"version": version, "outcome": Outcome.REJECTED,
                                                                "next": URL}, follow=True)
    assert footprint(case) == before
    assert case.events.order_by("-id").first().payload["code"] == "case_changed"
    assert 'data-refusal="true"' in response.content.decode()


def test_the_city_office_starts_at_its_queue_and_finds_it_in_the_navigation(signed_in):
    client = signed_in("city_office")
    response = client.get(reverse("home"))
    assert response.url == URL
    html = client.get(URL).content.decode()
    assert 'data-test="nav-submissions"' in html
    assert 'data-test="nav-disputes"' not in html


def test_other_roles_have_no_link_to_it(signed_in):
    assert b'data-test="nav-submissions"' not in signed_in("head").get(reverse("case-list")).content


@pytest.mark.parametrize("role", ["city_office", "admin"])
def test_the_query_count_does_not_grow_with_submissions(signed_in, stages, role):
    client = signed_in(role)
    counts = {}
    for added, total in ((1, 1), (9, 10)):
        for number in range(added):
            stages.submitted(title=f"Tờ trình số {number}")
        client.get(URL)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.context["rows"]) == total
        counts[total] = len(queries)
    assert counts[1] == counts[10], counts
