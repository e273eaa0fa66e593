"""Consultation figures against hand-computed expectations on a small, dated fixture."""

import datetime as dt

import pytest

from cases.reports import consultation_figures
from cases.services import (
    case_accept,
    case_consult,
    consultation_respond,
    deem_silent_consultations_agreed,
)
from tests.support.world import local_datetime

D = dt.date


@pytest.fixture
def figures(city, log_case, clock):
    """November 2026: Sở Xây dựng consults two units on a permit; Sở NN&MT consults Sở Xây dựng on land.

    Consultation days: 5 (the permit type's; the land type falls back to DEFAULT_CONSULTATION_DAYS = 5).
    """
    clock.set(local_datetime(2026, 11, 2, 10))  # Monday
    permit = case_accept(case=log_case(received_at=local_datetime(2026, 11, 2, 9)), actor=city.user("specialist"))
    first = case_consult(case=permit, actor=city.user("specialist"), departments=[city.consulted, city.outsider],
                         question="Ý kiến về hồ sơ", justification="Công trình gần kênh thủy lợi, liên quan tài chính")
    assert {c.due_date for c in first} == {D(2026, 11, 9)}
    land = case_accept(case=log_case(case_type=city.land, received_at=local_datetime(2026, 11, 2, 9)),
                       actor=city.user("consulted_specialist"))
    case_consult(case=land, actor=city.user("consulted_specialist"), departments=[city.owner],
                 question="Ý kiến về quy hoạch xây dựng")

    clock.set(local_datetime(2026, 11, 4, 15))  # 2 working days later, on time
    consultation_respond(consultation=first[0], actor=city.user("consulted_specialist"), position="agree")
    clock.set(local_datetime(2026, 11, 10, 9))  # 6 working days, one past the deadline
    consultation_respond(consultation=first[1], actor=city.user("outsider_specialist"), position="disagree",
                         comment="Chưa đủ căn cứ")
    assert deem_silent_consultations_agreed() == 1  # Sở Xây dựng never answered on land
    case_consult(case=permit, actor=city.user("specialist"), departments=[city.outsider], question="Vòng hai",
                 justification="Làm rõ ý kiến chưa thống nhất")  # due 17 November, still open on the 20th
    return {unit.department.code: unit for unit in consultation_figures(today=D(2026, 11, 20))}


def test_the_consulting_unit(figures):
    owner = figures["sxd"]
    assert (owner.sent, owner.non_required, owner.later_rounds, owner.max_round) == (3, 3, 1, 2)
    assert owner.non_required_share == 1.0
    assert owner.answered_for_it == 2
    assert owner.median_answer_days == 4  # median of 2 and 6 working days
    assert owner.awaiting_overdue == 1


def test_the_consulted_units(figures):
    consulted, outsider, owner = figures["snnmt"], figures["stc"], figures["sxd"]
    assert (consulted.received, consulted.answered_on_time, consulted.on_time_rate) == (1, 1, 1.0)
    assert (outsider.received, outsider.answered_late, outsider.owed_overdue, outsider.on_time_rate) == (2, 1, 1, 0.0)
    # Silence is recorded against the unit that kept it.
    assert (owner.received, owner.silent, owner.on_time_rate) == (1, 1, 0.0)


def test_a_required_consultation_is_not_counted_as_non_required(figures):
    consulted = figures["snnmt"]
    assert (consulted.sent, consulted.non_required, consulted.non_required_share) == (1, 0, 0.0)
    assert consulted.median_answer_days is None


def test_units_without_consultations_have_no_rates(figures):
    inspectorate = figures["ttr"]
    assert (inspectorate.sent, inspectorate.received) == (0, 0)
    assert inspectorate.on_time_rate is None and inspectorate.non_required_share is None


def test_the_period_filters_by_request_day(figures):
    later = {u.department.code: u for u in consultation_figures(since=D(2026, 11, 10), today=D(2026, 11, 20))}
    assert (later["sxd"].sent, later["stc"].received, later["stc"].owed_overdue) == (1, 1, 1)  # round two only
    assert (later["snnmt"].received, later["sxd"].received) == (0, 0)
    earlier = {u.department.code: u for u in consultation_figures(until=D(2026, 11, 9), today=D(2026, 11, 20))}
    assert (earlier["sxd"].sent, earlier["sxd"].later_rounds) == (2, 0)


def test_the_number_of_queries_does_not_grow(figures, django_assert_num_queries):
    with django_assert_num_queries(4):
        consultation_figures(today=D(2026, 11, 20))
