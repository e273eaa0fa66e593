"""The consultations on a case's page: what each one shows, the answer form a consulted unit finds there,
no owner action for anyone else, and a query count that does not grow with the consultations."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import ConsultationStatus, Position
from cases.services import case_reconcile, consultation_assign, deem_silent_consultations_agreed
from departments.models import Role, Staff
from tests.support.world import local_datetime, make_department, make_user

QUESTION = "Đề nghị cho ý kiến về báo cáo nghiên cứu khả thi"
REASONS = "Chưa đánh giá tác động môi trường"


def detail_url(case):
    return reverse("case-detail", args=[case.reference])


def slugs(response):
    return {action["slug"] for action in response.context["actions"]}


@pytest.fixture
def asked(consulting, clock):
    """Asked on Wednesday 29 April 2026; both answers are due Wednesday 6 May (the rule's 3 working days,
    after the Reunification and Labour Day holidays)."""
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    required, extra = consulting.ask(case, consulting.city.consulted, consulting.city.outsider, question=QUESTION,
                                     justification="Dự án dùng vốn ngân sách")
    case.refresh_from_db()
    return case, required, extra


def test_each_consultation_shows_its_unit_round_deadline_and_state(signed_in, asked, clock):
    case, required, extra = asked
    clock.set(local_datetime(2026, 5, 12, 9))  # past both deadlines
    html = signed_in("head").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ['data-test="consultations"', 'data-unit="snnmt" data-round="1"', 'data-unit="stc" data-round="1"',
                 "Sở Nông nghiệp và Môi trường", "Sở Tài chính", 'data-test="required-badge"',
                 'data-test="not-required-badge"', QUESTION, "Why this unit:", "Dự án dùng vốn ngân sách",
                 f'datetime="{required.due_date:%Y-%m-%d}"', 'data-test="overdue-badge"', "Waiting for an answer",
                 "Asked by Phạm Minh Tuấn on 29/04/2026 10:00"]:
        assert text in html, text


def test_answers_late_flags_silence_and_reconciliation_are_shown(signed_in, city, consulting, asked, clock):
    case, required, extra = asked
    consultation_assign(consultation=required, actor=city.user("consulted_head"),
                        assignee=city.user("consulted_specialist"))
    clock.set(local_datetime(2026, 5, 12, 9))
    consulting.disagree(required, REASONS)  # late
    case.refresh_from_db()
    case_reconcile(case=case, actor=city.user("deputy"), consultation=required, note="Đã thống nhất bổ sung ĐTM")
    response = signed_in("specialist").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    for text in ['data-position="disagree"', "Disagree", 'data-test="answered-late"', REASONS,
                 "Answered by consulted_specialist on 12/05/2026 09:00", "prepared by consulted_specialist",
                 'data-test="reconciliation"', "Đã thống nhất bổ sung ĐTM",
                 "Settled on 12/05/2026, recorded by Lê Thị Hoa"]:
        assert text in html, text


def test_a_silence_is_shown_as_deemed_agreement(signed_in, asked, clock):
    case, required, _extra = asked
    clock.set(local_datetime(2026, 5, 12, 9))
    assert deem_silent_consultations_agreed() == 1
    response = signed_in("head").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    assert [row["consultation"].status for row in response.context["consultations"]] == [
        ConsultationStatus.DEEMED_AGREED, ConsultationStatus.OPEN]
    html = response.content.decode()
    assert 'data-status="deemed_agreed"' in html
    assert "No answer by the deadline; deemed to agree on 12/05/2026." in html


# The consulted unit on the case page ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["consulted_specialist", "consulted_head"])
def test_a_consulted_handler_finds_the_answer_form_and_no_owner_action(signed_in, asked, role):
    case, required, _extra = asked
    response = signed_in(role).get(detail_url(case))
    assert slugs(response) == {"respond"}
    [action] = response.context["actions"]
    assert action["url"] == reverse("consultation-respond", args=[required.pk])
    html = response.content.decode()
    assert f'action="{action["url"]}"' in html
    assert f'name="next" value="{detail_url(case)}"' in html
    assert 'name="version"' not in html  # no case action at all


def test_the_answer_from_the_case_page_comes_back_to_it(signed_in, asked):
    case, required, _extra = asked
    response = signed_in("consulted_specialist").post(
        reverse("consultation-respond", args=[required.pk]),
        {"position": Position.AGREE_WITH_COMMENTS, "comment": "Đề nghị bổ sung cây xanh", "next": detail_url(case)})
    assert response.url == detail_url(case)
    required.refresh_from_db()
    assert (required.status, required.position) == (ConsultationStatus.ANSWERED, Position.AGREE_WITH_COMMENTS)
    # Answered: nothing left to do on this case.
    assert slugs(signed_in("consulted_specialist").get(detail_url(case))) == set()


def test_a_silence_can_still_be_answered_from_the_case_page(signed_in, asked, clock):
    case, required, _extra = asked
    clock.set(local_datetime(2026, 5, 12, 9))
    deem_silent_consultations_agreed()
    assert slugs(signed_in("consulted_specialist").get(detail_url(case))) == {"respond"}


def test_the_owner_intake_desk_gets_no_answer_form(signed_in, consulting):
    case = consulting.case()
    consulting.ask(case)
    assert slugs(signed_in("clerk").get(detail_url(case))) == {"attachments"}  # as before consultations


def test_a_unit_sees_the_case_once_it_is_consulted(signed_in, consulting):
    case = consulting.case()
    client = signed_in("consulted_specialist")
    assert client.get(detail_url(case)).status_code == 404
    consulting.ask(case)
    assert client.get(detail_url(case)).status_code == 200


# A flat query count ---------------------------------------------------------------------------------------------


def answerer(unit):
    return Staff.objects.filter(department=unit, role__in=[Role.HEAD, Role.SPECIALIST]).first().user


def grow(consulting, city, case, units):
    """Per unit: a first round of disagreement, and a second one, disagreeing again (reconciled for every
    other unit); the consulted department's second round stays open."""
    for number, unit in enumerate(units):
        [first] = consulting.ask(case, unit, justification="Liên quan lĩnh vực quản lý")
        consulting.answer(first, Position.DISAGREE, "Chưa đồng ý", actor=answerer(unit).username)
        [second] = consulting.ask(case, unit, justification="Làm rõ ý kiến")
        if unit == city.consulted:
            continue
        consulting.answer(second, Position.DISAGREE, "Vẫn chưa đồng ý", actor=answerer(unit).username)
        if not number % 2:
            case.refresh_from_db()
            case_reconcile(case=case, actor=city.user("head"), consultation=second, note="Đã thống nhất")


@pytest.fixture
def more_units(city):
    units = [make_department(f"so-{n}", f"Sở ngành số {n}") for n in range(6)]
    for unit in units:
        city.users[f"head-{unit.code}"] = make_user(f"head-{unit.code}", department=unit, role=Role.HEAD)
    return units


@pytest.mark.parametrize(("role", "offers"), [("head", "reconcile"), ("consulted_head", "respond"),
                                              ("inspector", None)])
def test_the_detail_query_count_does_not_grow_with_consultations(signed_in, city, consulting, more_units, role,
                                                                  offers):
    counts = {}
    client = signed_in(role)
    for units in ([city.consulted, more_units[0]], [city.consulted, *more_units]):
        case = consulting.case()
        grow(consulting, city, case, units)
        client.get(detail_url(case))  # warm the routing index and the calendar, cached per process
        with CaptureQueriesContext(connection) as queries:
            response = client.get(detail_url(case))
        rows = response.context["consultations"]
        assert len(rows) == 2 * len(units)
        reconcile_forms = sum(row["reconcile"] is not None for row in rows)
        assert reconcile_forms == (len(units) // 2 if offers == "reconcile" else 0)
        assert ("respond" in slugs(response)) == (offers == "respond")
        counts[len(units)] = len(queries)
    assert counts[2] == counts[7], counts
    assert counts[7] <= 16, [query["sql"] for query in queries.captured_queries]  # + the history's people
