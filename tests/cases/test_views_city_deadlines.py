"""The city's deadline view: who may read it, the per-unit figures against hand-computed numbers (including
the local day of a resolution), the period, the table, the chart's data and a fixed number of queries."""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.deadline_figures import deadline_figures
from cases.measures import Window
from cases.models import Case, Status
from core.periods import Period
from tests.support.world import local_datetime

URL = reverse("report-deadlines")
# Wednesday 18 November 2026: due soon means due on the 18th or the 19th.
WINDOW = Window(today=dt.date(2026, 11, 18), soon=dt.date(2026, 11, 19))


def on(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def set_case(case, **fields):
    Case.unscoped.filter(pk=case.pk).update(**fields)


def resolve(case, *, due: dt.date, at: dt.datetime):
    set_case(case, status=Status.RESOLVED, due_date=due, resolved_at=at)


@pytest.fixture
def figures_city(city, log_case, unruled_type, clock):
    """Hand-made figures as of 18 November 2026, period 1 September – 18 November.

    Sở Xây dựng: open 5 (overdue 2, due soon 2, later 1); resolved in the period 4, on time 2: one on its due
    day late in the evening, one early; one late, one at 06:00 local on the day after its due date (still the
    previous day in UTC, so a UTC date would wrongly call it on time); and one resolved in August, outside.
    Sở Nông nghiệp và Môi trường: open 2 (overdue 1), resolved in the period 1, on time.
    Sở Tài chính: one resolved case, in August only: no rate. A triage case belongs to no unit.
    """
    clock.set(local_datetime(2026, 8, 3, 9))
    sxd = [log_case(title=f"Hồ sơ {number}") for number in range(10)]
    for case, due in zip(sxd[:5], [on(11, 10), on(11, 17), on(11, 18), on(11, 19), on(11, 20)], strict=True):
        set_case(case, due_date=due)
    resolve(sxd[5], due=on(10, 1), at=local_datetime(2026, 10, 1, 23, 30))  # on its due day, late evening
    resolve(sxd[6], due=on(10, 1), at=local_datetime(2026, 9, 20, 10))  # early
    resolve(sxd[7], due=on(10, 1), at=local_datetime(2026, 10, 5, 10))  # late
    resolve(sxd[8], due=on(10, 1), at=local_datetime(2026, 10, 2, 6))  # the next local day: late
    resolve(sxd[9], due=on(8, 20), at=local_datetime(2026, 8, 20, 10))  # on time, but before the period
    snnmt = [log_case(title=f"Giao đất {number}", case_type=city.land) for number in range(3)]
    set_case(snnmt[0], due_date=on(11, 2))
    set_case(snnmt[1], due_date=on(12, 1))
    resolve(snnmt[2], due=on(11, 30), at=local_datetime(2026, 11, 16, 10))
    stc = log_case(title="Quyết toán vốn")
    set_case(stc, owner=city.outsider)
    resolve(stc, due=on(8, 1), at=local_datetime(2026, 8, 25, 10))
    log_case(title="Đơn kiến nghị", case_type=unruled_type)
    clock.set(local_datetime(2026, 11, 18, 10))


PERIOD = {"from": "2026-09-01", "to": "2026-11-18"}


def test_the_figures_match_the_hand_count(figures_city):
    figures = deadline_figures(window=WINDOW, period=Period(on(9, 1), on(11, 18)))
    got = {unit.code: (unit.open, unit.overdue, unit.due_soon, unit.rated, unit.on_time)
           for unit in figures}
    assert got == {"sxd": (5, 2, 2, 4, 2), "snnmt": (2, 1, 0, 1, 1), "stc": (0, 0, 0, 0, 0)}
    assert [unit.code for unit in figures] == ["sxd", "snnmt", "stc"]  # most overdue first
    rates = {unit.code: unit.on_time_rate for unit in figures}
    assert rates == {"sxd": 0.5, "snnmt": 1.0, "stc": None}
    assert {unit.code: unit.on_schedule for unit in figures} == {"sxd": 1, "snnmt": 1, "stc": 0}


def test_the_period_bounds_are_local_days_both_included(figures_city):
    # 2 October local: the 06:00 resolution (1 October in UTC) is inside, the others of 1 October outside.
    [sxd] = [unit for unit in deadline_figures(window=WINDOW, period=Period(on(10, 2), on(10, 2)))
             if unit.code == "sxd"]
    assert (sxd.rated, sxd.on_time) == (1, 0)
    [sxd] = [unit for unit in deadline_figures(window=WINDOW, period=Period(on(8, 1), on(10, 1)))
             if unit.code == "sxd"]
    assert (sxd.rated, sxd.on_time) == (3, 3)


def test_the_figures_take_one_query_however_many_cases(figures_city, log_case, django_assert_num_queries):
    with django_assert_num_queries(1):
        deadline_figures(window=WINDOW, period=Period(on(9, 1), on(11, 18)))
    for number in range(20):
        log_case(title=f"Thêm {number}")
    with django_assert_num_queries(1):
        deadline_figures(window=WINDOW, period=Period(on(9, 1), on(11, 18)))


# --- The page ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["city_office", "inspector", "home_affairs", "admin"])
def test_overseers_read_the_view(signed_in, figures_city, role):
    response = signed_in(role).get(URL, PERIOD)
    assert response.status_code == 200
    assert [row["figures"].code for row in response.context["rows"]] == ["sxd", "snnmt", "stc"]


@pytest.mark.parametrize("role", ["head", "deputy", "specialist", "clerk", "outsider_head", "nobody"])
def test_everyone_else_is_refused(signed_in, figures_city, role):
    assert signed_in(role).get(URL).status_code == 403


def cells(html, code):
    row = re.search(rf'data-test="figures-row" data-unit="{code}">(.*?)</tr>', html, re.S).group(1)
    return dict(re.findall(r'data-test="([a-z-]+)">([^<]*)</td>', row))


def test_the_table_shows_the_figures_and_links_each_unit_to_its_desk(signed_in, figures_city):
    html = signed_in("city_office").get(URL, PERIOD).content.decode()
    assert cells(html, "sxd") == {"open": "5", "overdue": "2", "due-soon": "2", "resolved": "4",
                                  "on-time-rate": "50%"}
    assert cells(html, "snnmt") == {"open": "2", "overdue": "1", "due-soon": "0", "resolved": "1",
                                    "on-time-rate": "100%"}
    assert cells(html, "stc")["on-time-rate"] == "—"
    assert 'href="/overdue/?department=sxd"' in html
    assert 'data-unit="ttr"' not in html  # a unit without any case


def test_the_chart_gets_the_tables_figures_and_chartjs_from_static(signed_in, figures_city):
    response = signed_in("inspector").get(URL, PERIOD, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    data = json.loads(re.search(r'<script id="deadline-chart-data" type="application/json">(.*?)</script>',
                                html, re.S).group(1))
    assert data["labels"] == ["Sở Xây dựng", "Sở Nông nghiệp và Môi trường", "Sở Tài chính"]
    assert {dataset["key"]: dataset["data"] for dataset in data["datasets"]} == {
        "overdue": [2, 1, 0], "due_soon": [2, 0, 0], "on_schedule": [1, 1, 0]}
    assert [dataset["label"] for dataset in data["datasets"]] == ["Overdue", "Due soon", "Open, on schedule"]
    assert '<script src="/static/vendor/chartjs/chart.umd.min.js" defer></script>' in html
    assert '<script src="/static/js/deadline-chart.js" defer></script>' in html
    assert "cdn" not in html.lower()


def test_the_default_period_is_the_last_90_days(signed_in, figures_city):
    response = signed_in("admin").get(URL)
    assert response.context["period"] == Period(on(8, 21), on(11, 18))
    rows = {row["figures"].code: row["figures"] for row in response.context["rows"]}
    # Sở Tài chính's 25 August resolution is inside the 90 days; Sở Xây dựng's of 20 August is not.
    assert (rows["stc"].rated, rows["sxd"].rated) == (1, 4)


def test_a_period_that_ends_before_it_starts_is_reported(signed_in, figures_city):
    response = signed_in("admin").get(URL, {"from": "2026-11-18", "to": "2026-09-01"})
    assert response.status_code == 200
    assert response.context["period"] is None
    assert b'data-test="period-errors"' in response.content
    assert b'data-test="figures-row"' not in response.content
    bad = signed_in("admin").get(URL, {"from": "yesterday"})
    assert bad.status_code == 200 and "from" in bad.context["form"].errors


def page_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL, PERIOD).status_code == 200
    return len(captured)


def test_the_page_costs_the_same_queries_however_many_units_and_cases(signed_in, city, figures_city, log_case):
    client = signed_in("inspector")
    page_queries(client)
    before = page_queries(client)
    for number in range(15):
        case = log_case(title=f"Thêm {number}")
        set_case(case, owner=[city.ward, city.commune, city.home_affairs][number % 3],
                 due_date=timezone.localdate() - dt.timedelta(days=number))
    assert page_queries(client) == before
    assert len(client.get(URL, PERIOD).context["rows"]) == 6


@pytest.mark.parametrize("role", ["head", "deputy"])
def test_the_city_committees_leaders_read_the_city_view_and_any_units_desk(client, city, role):
    from departments.models import Role
    from tests.support.world import make_user

    leader = make_user("chairman", department=city.city_committee, role=Role(role))
    client.force_login(leader)
    assert client.get(reverse("report-deadlines")).status_code == 200
    desk = client.get(reverse("overdue-desk"), {"department": city.owner.code})
    assert desk.status_code == 200
    assert (desk.context["department"], desk.context["reassigns"], desk.context["whole_city"]) == (
        city.owner, False, True)


def test_the_city_committees_other_staff_do_not(client, city):
    from departments.models import Role
    from tests.support.world import make_user

    client.force_login(make_user("committee_specialist", department=city.city_committee, role=Role.SPECIALIST))
    assert client.get(reverse("report-deadlines")).status_code == 403
    assert client.get(reverse("overdue-desk"), {"department": city.owner.code}).status_code == 403
