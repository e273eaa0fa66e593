"""The department report's figures against hand-counted numbers on a small city brought to
its state through the case services, and a fixed number of queries however much data there is.

Dates are of 2026 and counted by hand in Vietnam's calendar (no holiday between 1 October and 20 November;
24 November, Culture Day, lies after "today").
"""

import datetime as dt

import pytest

from cases.models import Case, Consultation, ConsultationStatus
from cases.reports import histogram_median
from cases.services import (
    case_accept,
    case_resolve,
    case_transfer,
)
from core.refusals import RefusalCode, Refused, refusal_label
from oversight.department_figures import department_figures
from oversight.staff_figures import Period
from tests.support.cases import Clock
from tests.support.oversight import refused
from tests.support.world import local_datetime

NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 20))
TODAY = dt.date(2026, 11, 20)  # a Friday


def by_code(figures) -> dict:
    return {unit.department.code: unit for unit in figures}


def test_the_fixture_is_what_the_hand_count_says(city, november):
    # The working days and due dates the expectations rest on, as the services recorded them.
    days = dict(Case.unscoped.filter(title__in=list("AGBCDF")).values_list("title", "working_days_taken"))
    assert days == {"A": 3, "G": 4, "B": 6, "C": 15, "D": 15, "F": 21}
    assert Case.unscoped.get(title="C").due_date == dt.date(2026, 11, 5)
    assert Case.unscoped.get(title="D").due_date == dt.date(2026, 11, 6)
    assert Case.unscoped.get(title="OV").due_date == dt.date(2026, 10, 22)
    states = dict(Consultation.unscoped.values_list("department__code", "status").filter(case__title="OV"))
    assert states == {"snnmt": ConsultationStatus.ANSWERED, "stc": ConsultationStatus.DEEMED_AGREED}


def test_the_figures_of_each_unit_match_the_hand_count(city, november):
    figures = department_figures(period=NOVEMBER, today=TODAY)
    assert [unit.department.code for unit in figures] == ["snnmt", "stc", "sxd"]  # by name; idle units left out
    units = by_code(figures)
    sxd, snnmt, stc = units["sxd"], units["snnmt"], units["stc"]
    assert (sxd.resolved, sxd.rated, sxd.on_time, sxd.resolved_late) == (6, 6, 4, 2)
    assert sxd.on_time_percent == 67
    assert sxd.median_working_days == 10.5
    assert (sxd.open, sxd.overdue) == (4, 1)
    assert (sxd.returns_on_time, sxd.returns_late) == (1, 1)
    assert sxd.refusals == {"within_own_authority": 2, "target_not_competent": 1, "not_owner": 1}
    assert sxd.refusal_count == 4
    assert (sxd.consultations.sent, sxd.consultations.received) == (2, 0)

    assert (snnmt.resolved, snnmt.rated, snnmt.on_time, snnmt.on_time_rate) == (1, 0, 0, None)
    assert snnmt.median_working_days == 7
    assert (snnmt.open, snnmt.overdue, snnmt.returns_on_time, snnmt.returns_late, snnmt.refusals) == (1, 0, 0, 0, {})
    consulted = snnmt.consultations
    assert (consulted.sent, consulted.received, consulted.answered_on_time, consulted.answered_late,
            consulted.silent, consulted.owed_overdue) == (1, 1, 0, 1, 0, 0)

    assert (stc.resolved, stc.open, stc.median_working_days, stc.on_time_percent) == (0, 0, None, None)
    consulted = stc.consultations
    assert (consulted.sent, consulted.received, consulted.answered_late, consulted.silent,
            consulted.owed_overdue) == (0, 2, 0, 1, 1)


def test_refusals_are_listed_most_frequent_first_with_their_labels(city, november):
    sxd = by_code(department_figures(period=NOVEMBER, today=TODAY))["sxd"]
    assert [code for code, _label, _count in sxd.refusals_by_code] == [
        "within_own_authority", "not_owner", "target_not_competent"]
    assert sxd.refusals_by_code[0][1:] == (refusal_label("within_own_authority"), 2)


def test_the_period_is_counted_in_local_days_at_both_ends(city, november):
    # 31 October local holds X (23:00) but not F (00:30 on 1 November, which is 31 October in UTC).
    october_last = department_figures(period=Period(dt.date(2026, 10, 31), dt.date(2026, 10, 31)), today=TODAY)
    sxd = by_code(october_last)["sxd"]
    assert (sxd.resolved, sxd.on_time, sxd.median_working_days) == (1, 0, 21)
    # 5 November holds A and C (23:30 on its due day: on time); D of 7 November 06:00 is on the 7th.
    fifth = by_code(department_figures(period=Period(dt.date(2026, 11, 5), dt.date(2026, 11, 5)), today=TODAY))
    assert (fifth["sxd"].resolved, fifth["sxd"].on_time) == (2, 2)
    seventh = by_code(department_figures(period=Period(dt.date(2026, 11, 7), dt.date(2026, 11, 7)), today=TODAY))
    assert (seventh["sxd"].resolved, seventh["sxd"].on_time, seventh["sxd"].resolved_late) == (1, 0, 1)
    # The October refusal and late return are outside November, inside October.
    october = by_code(department_figures(period=Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31)), today=TODAY))
    assert october["sxd"].refusals == {"within_own_authority": 1}
    assert (october["sxd"].returns_on_time, october["sxd"].returns_late) == (0, 1)


def test_overdue_is_as_of_today_whatever_the_period(city, november):
    october = by_code(department_figures(period=Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31)), today=TODAY))
    assert (october["sxd"].open, october["sxd"].overdue) == (4, 1)
    # On 22 October, OV's due day, nothing was overdue yet.
    due_day = by_code(department_figures(period=NOVEMBER, today=dt.date(2026, 10, 22)))
    assert due_day["sxd"].overdue == 0


def test_given_units_are_read_alone_and_shown_even_when_idle(city, november):
    [sxd] = department_figures(period=NOVEMBER, today=TODAY, departments=[city.owner])
    assert (sxd.department, sxd.resolved, sxd.refusal_count, sxd.consultations.sent) == (city.owner, 6, 4, 2)
    [office] = department_figures(period=NOVEMBER, today=TODAY, departments=[city.city_office])
    assert (office.department, office.resolved, office.open, office.has_activity) == (city.city_office, 0, 0, False)


def test_a_quiet_period_lists_only_the_units_with_open_cases(city, november):
    figures = department_figures(period=Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31)), today=TODAY)
    assert [(unit.department.code, unit.resolved, unit.open) for unit in figures] == [("snnmt", 0, 1), ("sxd", 0, 4)]


def test_the_query_count_does_not_grow_with_the_data(city, november, log_case, monkeypatch,
                                                    django_assert_num_queries):
    # The units, the resolutions, open and overdue cases, returns, refusals, and consultation_figures' three.
    with django_assert_num_queries(9):
        department_figures(period=NOVEMBER, today=TODAY)
    clock = Clock(monkeypatch)
    for number in range(5):
        clock.set(local_datetime(2026, 11, 16, 9))
        case = case_accept(case=log_case(title=f"Thêm {number}"), actor=city.user("specialist"))
        clock.set(local_datetime(2026, 11, 17 + number % 2, 10))
        case_resolve(case=case, actor=city.user("deputy"), note="Xong")
        refused(case_transfer, case=log_case(title=f"Chuyển {number}"), actor=city.user("head"), to=city.outsider,
                reason="Thử")
    with django_assert_num_queries(9):
        figures = department_figures(period=NOVEMBER, today=TODAY)
    assert by_code(figures)["sxd"].resolved == 11
    with django_assert_num_queries(8):  # the units given, not read
        department_figures(period=NOVEMBER, today=TODAY, departments=[city.owner])


@pytest.mark.parametrize(("counts", "median"), [
    ({}, None), ({0: 0}, None), ({7: 1}, 7), ({3: 1, 5: 1}, 4), ({3: 1, 6: 1, 15: 2, 4: 1, 21: 1}, 10.5),
    ({2: 3, 9: 1}, 2), ({1: 1, 2: 1, 3: 1}, 2), ({10: 2, 1: 2}, 5.5),
])
def test_the_median_of_a_histogram(counts, median):
    assert histogram_median(counts) == median


def test_a_refusal_names_one_of_the_labelled_codes():
    """The codes are one enumeration with their labels: a refusal with any other code cannot be made."""
    with pytest.raises(ValueError):
        Refused("passing_the_buck", "…")
    assert Refused(RefusalCode.NOT_OWNER, "…").code == "not_owner"


def test_an_unknown_code_shows_as_itself():
    assert refusal_label("some_future_rule") == "some_future_rule"
    assert refusal_label("not_owner") == str(RefusalCode.NOT_OWNER.label)
