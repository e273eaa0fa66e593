"""The staff report page: who may read it, the numbers it shows and the evidence each links to, the two lists
against the admins' lines, the unit filter, the period, paging, and a query count that does not grow."""

import html
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments.models import Role, Staff
from oversight.models import ReviewThresholds
from tests.support.oversight import LATER, LOW_LINES, on, set_due

URL = reverse("staff-report")
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
QUERY = urlencode(PERIOD)


def evidence_url(username, figure):
    return f"{reverse('staff-evidence', args=[username, figure])}?{QUERY}"


def lower_the_lines(**changes):
    """The low lines of tests/oversight/worlds.py, saved as the row the admins edit."""
    ReviewThresholds.current()
    ReviewThresholds.objects.filter(pk=1).update(**(LOW_LINES | changes))


def get(client, **params):
    return client.get(URL, {**PERIOD, **params}, HTTP_ACCEPT_LANGUAGE="en")


def section(page: str, test: str, person: str) -> str:
    match = re.search(rf'data-test="{test}" data-person="{person}"[^>]*>(.*?)</(?:tr|li)>', page, re.S)
    assert match, f"no {test} for {person}"
    return match.group(1)


def figure_cells(row: str) -> dict:
    """data-figure -> (link, text) of each figure in one row of the table."""
    cells = re.findall(r'data-figure="(\w+)">\s*<a href="([^"]+)"[^>]*>([^<]*)</a>', row)
    return {name: (html.unescape(link), text) for name, link, text in cells}


# --- Who may read it ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["inspector", "home_affairs", "admin"])
def test_overseers_read_the_report(signed_in, staff_city, role):
    response = get(signed_in(role))
    assert response.status_code == 200
    assert b'data-test="staff-table"' in response.content


@pytest.mark.parametrize("role", ["head", "deputy", "specialist", "clerk", "city_office", "outsider_specialist",
                                  "nobody"])
def test_everyone_else_is_refused(signed_in, staff_city, role):
    response = get(signed_in(role))
    assert response.status_code == 403
    assert b"staff-table" not in response.content


def test_a_visitor_is_sent_to_sign_in(signed_in, staff_city):
    response = signed_in("anonymous").get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_report_only_reads(signed_in, staff_city):
    assert signed_in("home_affairs").post(URL, PERIOD).status_code == 405


# --- What it shows --------------------------------------------------------------------------------------


def test_the_table_shows_each_persons_figures_each_linked_to_its_evidence(signed_in, staff_city):
    page = get(signed_in("home_affairs")).content.decode()
    specialist = figure_cells(section(page, "staff-row", "specialist"))
    assert specialist == {
        "handled": (evidence_url("specialist", "handled"), "4"),
        "on_time_rate": (evidence_url("specialist", "handled_late"), "33%"),
        "overdue": (evidence_url("specialist", "overdue"), "2"),
        "late_returns": (evidence_url("specialist", "late_returns"), "1"),
        "refusals": (evidence_url("specialist", "refusals"), "1"),
        "late_consultations": (evidence_url("specialist", "late_consultations"), "0"),
    }
    row = section(page, "staff-row", "specialist")
    assert "Phạm Minh Tuấn" in row and "Sở Xây dựng" in row and "Specialist" in row
    assert re.search(r'data-test="rated">of 3<', row)
    head = figure_cells(section(page, "staff-row", "head"))
    assert head["refusals"] == (evidence_url("head", "refusals"), "2")
    assert head["on_time_rate"][1] == "—"  # nothing rated
    assert figure_cells(section(page, "staff-row", "consulted_head"))["late_consultations"][1] == "1"
    assert 'data-person="inspector"' not in page and 'data-person="home_affairs"' not in page


def test_the_default_lines_list_the_head_for_review(signed_in, staff_city):
    response = get(signed_in("inspector"))
    assert [row.user.username for row in response.context["review"]] == ["head"]
    assert response.context["commend"] == []
    page = response.content.decode()
    review = section(page, "review-row", "head")
    assert re.findall(r'href="([^"]+)"[^>]*data-test="reason-link" data-reason="(\w+)"', review) == [
        (evidence_url("head", "refusals").replace("&", "&amp;"), "refusals")]
    assert "Tried to pass own work on" in review
    violation = re.search(r'href="([^"]+)" class="[^"]*" data-test="record-violation"', review).group(1)
    assert html.unescape(violation) == f"{reverse('violation-new')}?person=head&source=system_alert"
    assert 'data-test="commend-empty"' in page


def test_lowered_lines_list_each_reason_with_its_evidence_and_a_candidate(signed_in, staff_city):
    lower_the_lines()
    response = get(signed_in("home_affairs"))
    review = {row.user.username: [reason.code for reason in row.reasons] for row in response.context["review"]}
    assert review == {"consulted_head": ["late_consultations"], "consulted_specialist": ["late_consultations"],
                      "specialist": ["on_time", "overdue", "late_returns", "refusals"], "head": ["refusals"]}
    page = response.content.decode()
    reasons = re.findall(r'href="([^"]+)"[^>]*data-test="reason-link" data-reason="(\w+)"',
                         section(page, "review-row", "specialist"))
    assert [(html.unescape(link), code) for link, code in reasons] == [
        (evidence_url("specialist", "handled_late"), "on_time"), (evidence_url("specialist", "overdue"), "overdue"),
        (evidence_url("specialist", "late_returns"), "late_returns"),
        (evidence_url("specialist", "refusals"), "refusals")]
    commend = section(page, "commend-row", "deputy")
    assert "Lê Thị Hoa" in commend and "Sở Xây dựng" in commend
    assert figure_cells(commend) == {"handled": (evidence_url("deputy", "handled"), "1")}
    assert html.unescape(re.search(r'href="([^"]+)" data-test="evidence-link" title="[^"]*">100%', commend)
                         .group(1)) == evidence_url("deputy", "handled_late")
    assert f'href="{reverse("commendation-new")}?person=deputy"' in commend


def test_the_lists_come_before_the_table(signed_in, staff_city):
    page = get(signed_in("home_affairs")).content.decode()
    assert page.index('data-test="review-list"') < page.index('data-test="commend-list"') < page.index(
        'data-test="staff-table"')


def test_the_lines_in_force_are_shown_and_only_admins_get_the_edit_link(signed_in, staff_city):
    lower_the_lines(review_refusals_at_least=0)
    page = get(signed_in("home_affairs")).content.decode()
    assert re.search(r'data-test="threshold-on-time">on-time rate below 50%, once at least 1 cases', page)
    assert 'data-test="threshold-overdue">cases overdue now: at least 2' in page
    assert 'data-test="threshold-refusals">refused attempts to pass own work on: not used' in page
    assert 'data-test="thresholds-edit"' not in page
    assert "decide nothing" in page  # the footnote: the lists inform
    assert "returns the person made more than 1 working day after the case arrived" in page


def test_an_admin_gets_the_link_to_edit_the_lines(signed_in, staff_city):
    link = reverse("admin:oversight_reviewthresholds_change", args=[1])
    page = get(signed_in("admin")).content.decode()
    assert re.search(rf'href="{link}"[^>]*data-test="thresholds-edit"', page)
    assert signed_in("admin").get(link).status_code == 200


def test_one_unit_can_be_chosen(signed_in, staff_city):
    response = get(signed_in("inspector"), department="snnmt")
    assert response.context["unit"].code == "snnmt"
    assert {row.user.username for row in response.context["rows"]} == {"consulted_head", "consulted_specialist"}
    assert response.context["review"] == []  # the head, listed for the whole city, is of another unit
    assert "Sở Nông nghiệp và Môi trường" in response.content.decode()


def test_a_period_that_ends_before_it_starts_is_reported(signed_in, staff_city):
    response = signed_in("admin").get(URL, {"from": "2026-11-30", "to": "2026-11-01"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["period"] is None
    assert b'data-test="period-errors"' in response.content
    assert b"The period ends before it starts." in response.content
    assert b'data-test="staff-table"' not in response.content
    bad = signed_in("admin").get(URL, {"from": "yesterday"})
    assert bad.status_code == 200 and "from" in bad.context["form"].errors


def test_an_unknown_unit_is_a_form_error(signed_in, staff_city):
    response = get(signed_in("admin"), department="no-such-unit")
    assert "department" in response.context["form"].errors
    assert b'data-test="period-errors"' in response.content


def test_the_default_period_is_the_last_90_days(signed_in, staff_city):
    response = signed_in("admin").get(URL)
    period = response.context["period"]
    assert (period.since, period.until) == (on(9, 9), on(12, 7))
    # C, resolved on 1 December, is inside now.
    rows = {row.user.username: row.person for row in response.context["rows"]}
    assert rows["specialist"].handled == 6  # A, B, C, D, E, F


# --- Paging and cost ------------------------------------------------------------------------------------


def add_people(city, count, unit):
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"extra{number:03}", first_name="Thêm", last_name=f"{number:03}")
        for number in range(count))
    Staff.objects.bulk_create(Staff(user=user, department=unit, role=Role.SPECIALIST) for user in users)


def test_the_table_is_paged_but_the_lists_are_whole(signed_in, city, staff_city):
    lower_the_lines()
    # A hundred people of Phường Lê Chân come before Sở Xây dựng's: its people are on the second page.
    add_people(city, 100, city.ward)
    client = signed_in("home_affairs")
    first = get(client)
    assert first.context["page"].paginator.count == 109
    assert len(first.context["rows"]) == 100
    assert "specialist" not in {row.user.username for row in first.context["rows"]}
    assert "specialist" in {row.user.username for row in first.context["review"]}
    assert "deputy" in {row.user.username for row in first.context["commend"]}
    assert b'data-test="pagination"' in first.content
    second = get(client, page=2)
    assert len(second.context["rows"]) == 9
    assert [row.user.username for row in second.context["rows"]][-5:] == ["specialist", "deputy", "clerk", "head",
                                                                          "committee_head"]
    assert {row.user.username for row in second.context["review"]} == {
        row.user.username for row in first.context["review"]}


def page_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert get(client, **params).status_code == 200
    return len(captured)


def test_the_page_costs_the_same_queries_however_many_people_and_cases(signed_in, city, stages, staff_city):
    lower_the_lines()
    client = signed_in("home_affairs")
    page_queries(client)
    before = page_queries(client)
    assert before == page_queries(client, department="sxd") - 1  # the chosen unit is read once more
    add_people(city, 30, city.commune)
    for number in range(10):
        set_due(stages.in_progress(title=f"Thêm {number}"), on(11, 2))
    set_due(stages.in_progress(title="Không trễ"), LATER)
    assert page_queries(client) == before
    assert get(client).context["page"].paginator.count == 39
