"""The consultation report page: who may read which rows, the figures it shows, and its period."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Consultation
from cases.services import case_accept, case_consult, consultation_respond, deem_silent_consultations_agreed
from departments.models import Role
from tests.support.world import local_datetime, make_user

URL = reverse("report-consultations")


@pytest.fixture
def november(city, log_case, clock):
    """November 2026, as in the figures' own tests: Sở Xây dựng asks two units on a permit, one answers on
    time and one late, and asks a second round still open on the 20th; Sở NN&MT asks Sở Xây dựng on land,
    which stays silent. A request of October is outside the period of the filter tests."""
    clock.set(local_datetime(2026, 10, 5, 10))
    october = case_accept(case=log_case(received_at=local_datetime(2026, 10, 5, 9)), actor=city.user("specialist"))
    case_consult(case=october, actor=city.user("specialist"), departments=[city.consulted], question="Tháng 10",
                 justification="Gần kênh thủy lợi")
    clock.set(local_datetime(2026, 11, 2, 10))
    permit = case_accept(case=log_case(received_at=local_datetime(2026, 11, 2, 9)), actor=city.user("specialist"))
    first = case_consult(case=permit, actor=city.user("specialist"), departments=[city.consulted, city.outsider],
                         question="Ý kiến về hồ sơ", justification="Công trình gần kênh thủy lợi, liên quan tài chính")
    land = case_accept(case=log_case(case_type=city.land, received_at=local_datetime(2026, 11, 2, 9)),
                       actor=city.user("consulted_specialist"))
    case_consult(case=land, actor=city.user("consulted_specialist"), departments=[city.owner], question="Quy hoạch")
    clock.set(local_datetime(2026, 11, 4, 15))
    consultation_respond(consultation=first[0], actor=city.user("consulted_specialist"), position="agree")
    clock.set(local_datetime(2026, 11, 10, 9))
    consultation_respond(consultation=first[1], actor=city.user("outsider_specialist"), position="disagree",
                         comment="Chưa đủ căn cứ")
    deem_silent_consultations_agreed()
    case_consult(case=permit, actor=city.user("specialist"), departments=[city.outsider], question="Vòng hai",
                 justification="Làm rõ ý kiến chưa thống nhất")
    clock.set(local_datetime(2026, 11, 20, 9))


NOVEMBER = {"since": "2026-11-01", "until": "2026-11-30"}


def rows(response):
    return {row["figures"].department.code: row for row in response.context["rows"]}


def cells(html, code):
    """The figures of one unit's row as the page shows them, by data-test name."""
    row = re.search(rf'data-test="figures-row" data-unit="{code}">(.*?)</tr>', html, re.S).group(1)
    return dict(re.findall(r'data-test="([a-z-]+)">([^<]*)</td>', row))


@pytest.mark.parametrize("role", ["city_office", "inspector", "home_affairs", "admin"])
def test_overseers_see_every_unit_that_consulted_or_was_consulted(signed_in, november, role):
    response = signed_in(role).get(URL, NOVEMBER)
    assert response.status_code == 200
    assert set(rows(response)) == {"sxd", "snnmt", "stc"}  # units without any consultation are left out


def test_the_figures_are_shown_in_their_columns(signed_in, november):
    html = signed_in("inspector").get(URL, NOVEMBER, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert cells(html, "sxd") == {
        "sent": "3", "non-required-share": "100%", "later-rounds": "1", "max-round": "2",
        "median-answer-days": "4", "awaiting-overdue": "1", "received": "1", "answered-on-time": "0",
        "answered-late": "0", "silent": "1", "owed-overdue": "0", "on-time-rate": "0%"}
    assert cells(html, "stc") == {
        "sent": "0", "non-required-share": "—", "later-rounds": "0", "max-round": "—", "median-answer-days": "—",
        "awaiting-overdue": "0", "received": "2", "answered-on-time": "0", "answered-late": "1", "silent": "0",
        "owed-overdue": "1", "on-time-rate": "0%"}
    assert cells(html, "snnmt")["on-time-rate"] == "100%"
    assert cells(html, "snnmt")["non-required-share"] == "0%"
    assert 'class="num' in html


def test_a_median_between_two_values_shows_its_half(signed_in, city, november):
    Consultation.unscoped.filter(department=city.outsider, round=1).update(answer_working_days=5)
    html = signed_in("inspector").get(URL, NOVEMBER).content.decode()
    assert cells(html, "sxd")["median-answer-days"] in ("3,5", "3.5")  # 2 and 5 working days


def test_the_period_selects_requests_by_the_day_they_were_asked(signed_in, november):
    client = signed_in("inspector")
    assert rows(client.get(URL))["sxd"]["figures"].sent == 4
    assert rows(client.get(URL, NOVEMBER))["sxd"]["figures"].sent == 3
    assert rows(client.get(URL, {"until": "2026-10-31"}))["sxd"]["figures"].sent == 1
    assert rows(client.get(URL, {"since": "2026-11-10"}))["sxd"]["figures"].sent == 1
    assert client.get(URL, {"since": "2026-12-01"}).context["rows"] == []


@pytest.mark.parametrize("period", [{"since": "2026-11-30", "until": "2026-11-01"}, {"since": "hôm qua"}])
def test_a_bad_period_is_told_and_shows_no_figures(signed_in, november, period):
    response = signed_in("inspector").get(URL, period, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["rows"] is None
    html = response.content.decode()
    assert 'data-test="period-errors"' in html
    assert 'data-test="consultation-figures"' not in html


@pytest.mark.parametrize(("role", "unit"), [("head", "sxd"), ("deputy", "sxd"), ("consulted_head", "snnmt"),
                                            ("outsider_head", "stc")])
def test_a_head_or_deputy_sees_only_their_own_unit(signed_in, november, role, unit):
    response = signed_in(role).get(URL, NOVEMBER)
    assert response.status_code == 200
    assert list(rows(response)) == [unit]
    assert response.context["whole_city"] is False


@pytest.mark.parametrize("role", [Role.HEAD, Role.DEPUTY])
def test_the_city_committees_own_leaders_see_every_unit(client, city, november, role):
    # The Chairman and the vice-chairmen lead the City Committee's own unit: they read the whole city.
    client.force_login(make_user("chairman", department=city.city_committee, role=role))
    response = client.get(URL, NOVEMBER)
    assert response.status_code == 200
    assert set(rows(response)) == {"sxd", "snnmt", "stc"}
    assert response.context["whole_city"] is True


def test_a_unit_without_consultations_still_sees_its_row(signed_in, city):
    response = signed_in("head").get(URL)
    [row] = response.context["rows"]
    assert (row["figures"].department, row["figures"].sent, row["non_required_pct"], row["on_time_pct"]) == (
        city.owner, 0, None, None)


@pytest.mark.parametrize("role", ["specialist", "consulted_specialist", "clerk", "nobody"])
def test_others_may_not_read_it(signed_in, role):
    assert signed_in(role).get(URL).status_code == 403


@pytest.mark.parametrize(("role", "linked"), [("inspector", True), ("home_affairs", True), ("city_office", True),
                                              ("admin", True), ("head", True), ("deputy", True),
                                              ("specialist", False), ("clerk", False)])
def test_the_navigation_links_to_it_for_those_who_may_read_it(signed_in, role, linked):
    html = signed_in(role).get(reverse("case-new") if role in ("clerk", "admin") else reverse("case-list")).content
    assert (b'data-test="nav-report-consultations"' in html) == linked


def test_the_query_count_does_not_grow_with_consultations(signed_in, november, consulting):
    client = signed_in("inspector")
    client.get(URL)
    with CaptureQueriesContext(connection) as before:
        client.get(URL)
    for _case in range(5):
        consulting.ask(consulting.case())
    with CaptureQueriesContext(connection) as after:
        client.get(URL)
    assert len(before) == len(after)
