"""The evidence page behind each number of the staff report: who may read it, 404s, the rows of each kind of
figure (cases, returns, refused attempts, consultations) with what they show, the period, paging and a query
count that does not grow with the rows."""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Return
from cases.services import case_resolve, case_return
from core.refusals import Refused
from tests.support.oversight import on, set_due
from tests.support.world import local_datetime

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


def url(username="specialist", figure="handled"):
    return reverse("staff-evidence", args=[username, figure])


def get(client, username="specialist", figure="handled", **params):
    return client.get(url(username, figure), {**PERIOD, **params}, HTTP_ACCEPT_LANGUAGE="en")


def references(response) -> list:
    return re.findall(r'data-test="evidence-row" data-reference="([^"]+)"', response.content.decode())


def row_html(response, reference) -> str:
    return re.search(rf'data-test="evidence-row" data-reference="{reference}">(.*?)</tr>',
                     response.content.decode(), re.S).group(1)


def cell(row: str, test: str) -> str:
    return re.search(rf'data-test="{test}"[^>]*>([^<]*)<', row).group(1).strip()


# --- Who may read it ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["inspector", "home_affairs", "admin"])
def test_overseers_read_the_evidence(signed_in, staff_city, role):
    response = get(signed_in(role))
    assert response.status_code == 200
    assert len(references(response)) == 4


@pytest.mark.parametrize("role", ["head", "deputy", "specialist", "clerk", "city_office", "outsider_specialist",
                                  "nobody"])
def test_everyone_else_is_refused_even_their_own(signed_in, staff_city, role):
    assert get(signed_in(role)).status_code == 403
    # Not even a hint whether a name exists.
    assert get(signed_in(role), username="no-such-person").status_code == 403


def test_a_visitor_is_sent_to_sign_in(signed_in, staff_city):
    response = signed_in("anonymous").get(url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_evidence_only_reads(signed_in, staff_city):
    assert signed_in("inspector").post(url(), PERIOD).status_code == 405


@pytest.mark.parametrize(("username", "figure"), [("no-such-person", "handled"), ("specialist", "no-such-figure"),
                                                  ("specialist", "on_time")])
def test_an_unknown_person_or_figure_is_not_found(signed_in, staff_city, username, figure):
    assert get(signed_in("home_affairs"), username, figure).status_code == 404


# --- The rows of each figure ----------------------------------------------------------------------------


def test_handled_cases_in_the_order_resolved_with_their_timeliness(signed_in, staff_city):
    cases = staff_city
    response = get(signed_in("home_affairs"))
    assert references(response) == [cases[name].reference for name in "BAFE"]
    b = row_html(response, cases["B"].reference)
    assert f'href="{reverse("case-detail", args=[cases["B"].reference])}"' in b
    assert cases["B"].title in b and "Sở Xây dựng" in b
    assert (cell(b, "due-date"), cell(b, "resolved-on"), cell(b, "days-late")) == ("29/10/2026", "01/11/2026", "1")
    a = row_html(response, cases["A"].reference)
    assert cell(a, "resolved-on") == "10/11/2026" and "23:30" in a
    assert 'data-test="on-time"' in a and 'data-test="days-late"' not in a
    # Due Friday 20, resolved Wednesday 25: Monday and Wednesday, as Tuesday 24 is Vietnam's Culture Day off.
    assert cell(row_html(response, cases["E"].reference), "days-late") == "2"
    assert 'data-test="not-rated"' in row_html(response, cases["F"].reference)


def test_the_late_ones_behind_the_on_time_rate(signed_in, staff_city):
    response = get(signed_in("home_affairs"), figure="handled_late")
    assert references(response) == [staff_city["B"].reference, staff_city["E"].reference]


def test_overdue_cases_longest_overdue_first_in_working_days(signed_in, staff_city):
    cases = staff_city
    response = get(signed_in("inspector"), figure="overdue")
    assert references(response) == [cases["H"].reference, cases["I"].reference]
    # Today is Monday 7 December: H (due Tuesday 1) is 4 working days late, I (due Friday 4) one.
    assert cell(row_html(response, cases["H"].reference), "days-late") == "4"
    assert cell(row_html(response, cases["I"].reference), "days-late") == "1"
    assert b"whatever the period" in response.content


def test_late_returns_with_the_days_held_and_the_reason(signed_in, staff_city):
    response = get(signed_in("home_affairs"), figure="late_returns")
    reference = staff_city["L"].reference
    assert references(response) == [reference]
    row = row_html(response, reference)
    assert (cell(row, "returned-at"), cell(row, "days-held")) == ("05/11/2026 10:00", "3")
    assert "Không thuộc chức năng của Sở" in row


def test_refused_attempts_with_what_was_attempted_and_why_not(signed_in, staff_city):
    response = get(signed_in("home_affairs"), figure="refusals")
    reference = staff_city["own_return"].reference
    assert references(response) == [reference]
    row = row_html(response, reference)
    assert (cell(row, "refused-at"), cell(row, "attempted")) == ("12/11/2026 10:00", "Return to the intake desk")
    # The reason stays in the words it was given in when the attempt was refused (the site's language).
    assert "Theo quy định thẩm quyền, hồ sơ này thuộc đơn vị bạn" in cell(row, "refusal")
    head = get(signed_in("home_affairs"), username="head", figure="refusals")
    assert [cell(row_html(head, staff_city[name].reference), "attempted") for name in ("own_transfer",
                                                                                        "own_submit")] == [
        "Transfer to another unit", "Submission to the City Committee"]


def test_consultations_answered_late(signed_in, staff_city):
    consultation = staff_city["asked_late"]
    response = get(signed_in("home_affairs"), username="consulted_specialist", figure="late_consultations")
    assert references(response) == [consultation.case.reference]
    row = row_html(response, consultation.case.reference)
    assert (cell(row, "due-date"), cell(row, "answered-at")) == ("05/11/2026", "06/11/2026 10:00")
    assert "Sở Nông nghiệp và Môi trường" in row


def test_a_figure_of_zero_shows_an_empty_table(signed_in, staff_city):
    response = get(signed_in("home_affairs"), username="clerk", figure="refusals")
    assert references(response) == []
    assert b'data-test="evidence-empty"' in response.content


# --- Heading, period and the way back -------------------------------------------------------------------


def test_the_heading_names_the_person_the_figure_and_the_period(signed_in, staff_city):
    page = get(signed_in("home_affairs"), figure="late_returns").content.decode()
    heading = re.search(r'data-test="evidence-heading">([^<]*)<', page).group(1)
    assert "Late returns" in heading and "Phạm Minh Tuấn" in heading
    scope = re.search(r'data-test="evidence-scope">(.*?)</div>', page, re.S).group(1)
    assert "Sở Xây dựng" in scope and "01/11/2026" in scope and "30/11/2026" in scope
    back = re.search(r'href="([^"]+)" class="small" data-test="back-to-report"', page).group(1)
    assert back.replace("&amp;", "&") == f"{reverse('staff-report')}?{urlencode(PERIOD)}"


def test_another_period_gives_other_rows(signed_in, staff_city):
    response = get(signed_in("home_affairs"), **{"from": "2026-12-01", "to": "2026-12-07"})
    assert references(response) == [staff_city["C"].reference]


def test_a_wrong_period_is_reported(signed_in, staff_city):
    response = get(signed_in("home_affairs"), **{"from": "2026-11-30", "to": "2026-11-01"})
    assert response.status_code == 200
    assert b'data-test="period-errors"' in response.content
    assert b'data-test="evidence-table"' not in response.content


# --- Paging and cost ------------------------------------------------------------------------------------


def more_overdue(stages, count):
    for number in range(count):
        set_due(stages.in_progress(title=f"Trễ hạn {number}"), on(11, 2))


def test_fifty_rows_a_page(signed_in, stages, staff_city):
    more_overdue(stages, 50)
    client = signed_in("home_affairs")
    first = get(client, figure="overdue")
    assert len(references(first)) == 50
    assert first.context["page"].paginator.count == 52
    second = get(client, figure="overdue", page=2)
    assert references(second) == [staff_city["H"].reference, staff_city["I"].reference]


def page_queries(client, username, figure) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert get(client, username, figure).status_code == 200
    return len(captured)


def add_rows(figure, *, city, stages, consulting, clock, count):
    """`count` more rows behind the figure, made in the period (the returns are written as rows: a late return
    needs a rule changed under each case, which says nothing more about the page's cost)."""
    user = city.user
    clock.set(local_datetime(2026, 11, 10, 10))
    for number in range(count):
        title = f"Thêm {figure} {number}"
        if figure == "handled":
            case_resolve(case=stages.in_progress(title=title), actor=user("head"), note="Xong")
        elif figure == "overdue":
            set_due(stages.in_progress(title=title), on(11, 2))
        elif figure == "late_returns":
            Return.objects.create(case=stages.routed(title=title), department=city.owner,
                                  returned_by=user("specialist"), returned_at=clock.now, reason="Trả lại", late=True,
                                  working_days_held=4)
        elif figure == "refusals":
            with pytest.raises(Refused):
                case_return(case=stages.routed(title=title), actor=user("specialist"), reason="Trả lại")
        else:
            clock.set(local_datetime(2026, 11, 10, 10))
            [consultation] = consulting.ask(consulting.case(title=title))
            clock.set(local_datetime(2026, 11, 20, 10))
            consulting.answer(consultation)
    clock.set(local_datetime(2026, 12, 7, 10))


@pytest.mark.parametrize(("username", "figure", "before"), [
    ("specialist", "handled", 4), ("specialist", "overdue", 2), ("specialist", "late_returns", 1),
    ("specialist", "refusals", 1), ("consulted_specialist", "late_consultations", 1)])
def test_the_page_costs_the_same_queries_however_many_rows(signed_in, city, stages, consulting, clock,
                                                           staff_city, username, figure, before):
    client = signed_in("home_affairs")
    page_queries(client, username, figure)
    queries = page_queries(client, username, figure)
    add_rows(figure, city=city, stages=stages, consulting=consulting, clock=clock, count=6)
    assert page_queries(client, username, figure) == queries
    assert len(references(get(client, username, figure))) == before + 6
