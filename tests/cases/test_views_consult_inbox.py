"""The consulted unit's inbox: requests addressed to it by filter, assigning one, and answering it
(DESIGN.md §2 rules 4 and 6, §3 Silence).

Opinions are asked on Wednesday 29 April 2026 (the appraisal rule gives 3 working days: due 6 May).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Consultation, ConsultationStatus, EventAction, Position, RuleDispute
from cases.services import deem_silent_consultations_agreed
from tests.support.cases import consultation_footprint, last_event_id
from tests.support.world import local_datetime

URL = reverse("consultations")
QUESTION = "Đề nghị cho ý kiến thẩm định báo cáo nghiên cứu khả thi dự án cầu Rào 3"


def respond_url(consultation):
    return reverse("consultation-respond", args=[consultation.pk])


def assign_url(consultation):
    return reverse("consultation-assign", args=[consultation.pk])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


def listed(response):
    return [row["consultation"] for row in response.context["rows"]]


def counts(response):
    return {tab["key"]: tab["count"] for tab in response.context["tabs"]}


@pytest.fixture
def asked(consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case(key_task=False)
    clock.set(local_datetime(2026, 4, 29, 10))
    [consultation] = consulting.ask(case, question=QUESTION)
    return consultation


def unchanged(consultation):
    return consultation_footprint(consultation.case), last_event_id(consultation.case)


# The inbox --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["consulted_head", "consulted_specialist"])
def test_the_consulted_unit_sees_what_it_is_asked(signed_in, city, asked, role):
    response = signed_in(role).get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert listed(response) == [asked]
    html = response.content.decode()
    for text in [f'href="{reverse("case-detail", args=[asked.case.reference])}"', asked.case.reference,
                 asked.case.title, "Sở Xây dựng", "Phạm Minh Tuấn", QUESTION, "06/05/2026", "required by the rule",
                 "round 1", f'action="{respond_url(asked)}"', 'data-test="inbox-department"',
                 "Sở Nông nghiệp và Môi trường"]:
        assert text in html, text
    # Only the head or a deputy assigns; every handler answers.
    assert (f'action="{assign_url(asked)}"' in html) == (role == "consulted_head")


def test_the_case_it_links_to_is_readable_by_the_consulted_unit(signed_in, asked):
    assert signed_in("consulted_specialist").get(reverse("case-detail", args=[asked.case.reference])).status_code == 200


@pytest.mark.parametrize("role", ["outsider_head", "outsider_specialist", "head", "inspector", "city_office"])
def test_other_units_have_an_empty_inbox(signed_in, asked, role):
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    assert listed(response) == []
    assert set(counts(response).values()) == {0}
    assert b'data-test="inbox-empty"' in response.content


@pytest.mark.parametrize("role", ["nobody", "admin"])
def test_someone_without_a_department_has_no_inbox(signed_in, asked, role):
    """No unit, no requests addressed to it: the bar offers no inbox and the page is not theirs."""
    assert signed_in(role).get(URL).status_code == 403


@pytest.mark.parametrize("url", [respond_url, assign_url])
def test_the_moves_take_only_post(signed_in, asked, url):
    assert signed_in("consulted_head").get(url(asked)).status_code == 405


def test_the_navigation_shows_the_open_count_to_every_staff_member(signed_in, asked):
    html = signed_in("consulted_specialist").get(reverse("case-list")).content.decode()
    assert 'data-test="nav-consultations"' in html
    assert 'data-test="nav-open-consultations"' in html
    assert ">1</span>" in html[html.index('data-test="nav-open-consultations"'):]
    html = signed_in("outsider_specialist").get(reverse("case-list")).content.decode()
    assert 'data-test="nav-consultations"' in html
    assert 'data-test="nav-open-consultations"' not in html
    assert b'data-test="nav-consultations"' not in signed_in("nobody").get(reverse("case-list")).content


# Filters ----------------------------------------------------------------------------------------------------


@pytest.fixture
def spread(city, consulting, clock):
    """Five requests to the consulted unit, seen on Tuesday 5 May 2026 (the next working day: the 6th).

    overdue: due 4 May; due_today: due 5 May; due_next: due 6 May; later: due 8 May; answered: answered;
    silent: required and past due, deemed to agree.
    """
    clock.set(local_datetime(2026, 4, 20, 9))
    made = {}
    for name in ["overdue", "due_today", "due_next", "later", "answered", "silent"]:
        case = consulting.case(title=f"Hồ sơ {name}")
        [made[name]] = consulting.ask(case)
    due = {"overdue": "2026-05-04", "due_today": "2026-05-05", "due_next": "2026-05-06", "later": "2026-05-08",
           "silent": "2026-05-04"}
    for name, day in due.items():
        Consultation.unscoped.filter(pk=made[name].pk).update(due_date=day)
    clock.set(local_datetime(2026, 5, 5, 9))
    consulting.answer(made["answered"], Position.AGREE)
    Consultation.unscoped.filter(pk=made["overdue"].pk).update(required=False)  # not deemed: still owed
    assert deem_silent_consultations_agreed() == 1
    return made


@pytest.mark.parametrize(("show", "expected"), [
    ("open", ["overdue", "due_today", "due_next", "later"]),
    ("due_soon", ["due_today", "due_next"]),
    ("overdue", ["overdue"]),
    ("deemed_agreed", ["silent"]),
    ("answered", ["answered"]),
    ("nonsense", ["overdue", "due_today", "due_next", "later"]),  # an unknown filter shows the open ones
])
def test_each_filter_lists_its_requests_most_urgent_first(signed_in, spread, show, expected):
    response = signed_in("consulted_specialist").get(URL, {"show": show})
    assert listed(response) == [spread[name] for name in expected]
    assert counts(response) == {"open": 4, "due_soon": 2, "overdue": 1, "deemed_agreed": 1, "answered": 1,
                                "withdrawn": 0}


def test_badges_mark_overdue_and_due_soon_requests(signed_in, spread):
    response = signed_in("consulted_specialist").get(URL, HTTP_ACCEPT_LANGUAGE="en")
    rows = {row["consultation"].pk: row for row in response.context["rows"]}
    assert [rows[spread[name].pk]["due_soon"] for name in ["overdue", "due_today", "due_next", "later"]] == [
        False, True, True, False]
    html = response.content.decode()
    assert html.count('data-test="overdue-badge"') == 1
    assert html.count('data-test="due-soon-badge"') == 2


def test_a_silence_can_still_be_answered_but_not_assigned(signed_in, spread):
    response = signed_in("consulted_head").get(URL, {"show": "deemed_agreed"})
    [row] = response.context["rows"]
    assert row["respond"] is not None
    assert row["assign"] is None
    assert row["consultation"].status == ConsultationStatus.DEEMED_AGREED


def test_answered_requests_offer_nothing_more(signed_in, spread):
    [row] = signed_in("consulted_head").get(URL, {"show": "answered"}).context["rows"]
    assert (row["respond"], row["assign"]) == (None, None)


def test_the_list_is_paged_and_its_query_count_does_not_grow(signed_in, consulting, city):
    from core.pages import PAGE_SIZE

    client = signed_in("consulted_head")
    sizes = {}
    for total in (3, PAGE_SIZE + 5):
        while Consultation.unscoped.filter(department=city.consulted).count() < total:
            consulting.ask(consulting.case())
        client.get(URL)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        assert len(response.context["rows"]) == min(total, PAGE_SIZE)
        sizes[total] = len(queries)
    assert sizes[3] == sizes[PAGE_SIZE + 5], sizes
    second = client.get(URL, {"page": 2})
    assert len(second.context["rows"]) == 5
    assert b'data-test="pagination"' in second.content


# Assigning --------------------------------------------------------------------------------------------------


def test_the_head_assigns_the_request_to_a_handler(signed_in, city, asked):
    response = signed_in("consulted_head").post(assign_url(asked), {"assignee": "consulted_specialist",
                                                                    "next": f"{URL}?show=open"})
    assert response.url == f"{URL}?show=open"
    asked.refresh_from_db()
    assert asked.assignee == city.user("consulted_specialist")
    event = asked.case.events.order_by("-id").first()
    assert (event.action, event.actor) == (EventAction.CONSULTATION_ASSIGNED, city.user("consulted_head"))
    assert [level for level, _text in messages_of(response)] == ["success"]
    # The list shows the choice made.
    [row] = signed_in("consulted_head").get(URL).context["rows"]
    assert row["assign"]["assignee"].value() == "consulted_specialist"


@pytest.mark.parametrize("assignee", ["outsider_specialist", "specialist", "no-such-person", ""])
def test_only_a_handler_of_the_unit_can_be_named(signed_in, asked, assignee):
    before = unchanged(asked)
    response = signed_in("consulted_head").post(assign_url(asked), {"assignee": assignee}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.url == URL
    assert unchanged(asked) == before
    [(level, _text)] = messages_of(response)
    assert level == "error"


def test_a_specialist_may_not_assign(signed_in, asked):
    before = unchanged(asked)
    assert signed_in("consulted_specialist").post(assign_url(asked), {"assignee": "consulted_head"}).status_code == 403
    assert unchanged(asked) == before


@pytest.mark.parametrize("role", ["head", "inspector"])
def test_those_who_see_the_case_but_were_not_asked_get_404_and_nothing_is_recorded(signed_in, city, asked, role):
    """A request addressed to another unit does not exist for a move on it, whoever sees its case."""
    before, last = consultation_footprint(asked.case), last_event_id(asked.case)
    response = signed_in(role).post(assign_url(asked), {"assignee": "consulted_specialist"})
    assert response.status_code == 404
    assert (consultation_footprint(asked.case), last_event_id(asked.case)) == (before, last)


@pytest.mark.parametrize("role", ["outsider_head", "nobody"])
def test_units_that_do_not_see_the_case_get_404(signed_in, asked, role):
    before = unchanged(asked)
    assert signed_in(role).post(assign_url(asked), {"assignee": "consulted_specialist"}).status_code == 404
    assert signed_in(role).post(respond_url(asked), {"position": "agree"}).status_code == 404
    assert unchanged(asked) == before


def test_anonymous_moves_are_sent_to_login(signed_in, asked):
    before = unchanged(asked)
    for url in (assign_url(asked), respond_url(asked)):
        response = signed_in("anonymous").post(url, {"assignee": "consulted_specialist", "position": "agree"})
        assert response.url.startswith(reverse("login"))
    assert unchanged(asked) == before


def test_an_unknown_request_is_404(signed_in):
    assert signed_in("consulted_head").post(reverse("consultation-respond", args=[99999]),
                                            {"position": "agree"}).status_code == 404


# Answering --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("position", "comment"), [(Position.AGREE, ""),
                                                   (Position.AGREE_WITH_COMMENTS, "Bổ sung phương án cây xanh"),
                                                   (Position.DISAGREE, "Chưa đánh giá tác động môi trường")])
def test_a_handler_answers(signed_in, city, asked, position, comment):
    response = signed_in("consulted_specialist").post(respond_url(asked), {"position": position, "comment": comment})
    assert response.url == URL
    asked.refresh_from_db()
    assert (asked.status, asked.position, asked.comment, asked.answered_by) == (
        ConsultationStatus.ANSWERED, position, comment, city.user("consulted_specialist"))
    assert asked.case.events.order_by("-id").first().action == EventAction.CONSULTATION_ANSWERED
    assert [level for level, _text in messages_of(response)] == ["success"]


def test_not_competent_opens_a_rule_dispute(signed_in, asked):
    signed_in("consulted_head").post(respond_url(asked), {"position": Position.NOT_COMPETENT,
                                                          "comment": "Không thuộc lĩnh vực quản lý của Sở"})
    assert RuleDispute.objects.get(case=asked.case).reason == "Không thuộc lĩnh vực quản lý của Sở"


@pytest.mark.parametrize(("data", "expected"), [
    ({"position": Position.DISAGREE, "comment": "  "}, "Comments or reasons: Give your comments or reasons."),
    ({"position": Position.AGREE_WITH_COMMENTS}, "Give your comments or reasons."),
    ({"position": Position.NOT_COMPETENT, "comment": ""}, "Give your comments or reasons."),
    ({"comment": "Không rõ"}, "Position: This field is required."),
    ({"position": "maybe", "comment": "Không rõ"}, "Select a valid choice."),
])
def test_bad_answers_change_nothing(signed_in, asked, data, expected):
    before = unchanged(asked)
    response = signed_in("consulted_specialist").post(respond_url(asked), data, HTTP_ACCEPT_LANGUAGE="en")
    assert unchanged(asked) == before
    assert not RuleDispute.objects.exists()
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert expected in text


def test_a_second_answer_is_refused_and_recorded(signed_in, city, asked):
    client = signed_in("consulted_specialist")
    client.post(respond_url(asked), {"position": Position.AGREE})
    before = unchanged(asked)[0]
    response = client.post(respond_url(asked), {"position": Position.DISAGREE, "comment": "Đổi ý"}, follow=True,
                           HTTP_ACCEPT_LANGUAGE="en")
    assert consultation_footprint(asked.case) == before
    event = asked.case.events.order_by("-id").first()
    assert (event.action, event.payload["code"]) == (EventAction.REFUSED, "invalid_transition")
    html = response.content.decode()
    assert 'data-refusal="true"' in html
    assert "This consultation was already answered." in html


@pytest.mark.parametrize("role", ["head", "specialist", "inspector"])
def test_the_owner_or_an_overseer_cannot_answer_for_the_consulted_unit(signed_in, city, asked, role):
    before, last = consultation_footprint(asked.case), last_event_id(asked.case)
    assert signed_in(role).post(respond_url(asked), {"position": Position.AGREE}).status_code == 404
    assert (consultation_footprint(asked.case), last_event_id(asked.case)) == (before, last)


def test_a_safe_next_page_is_followed_and_another_site_is_not(signed_in, asked):
    response = signed_in("consulted_specialist").post(respond_url(asked), {
        "position": Position.AGREE, "next": "https://example.com/"})
    assert response.url == URL
