"""Silence means agreement: a required consultee that lets its deadline pass is deemed to agree, and the
silence is recorded against it (DESIGN.md §3, Silence).

Opinions are asked on Wednesday 29 April 2026 and are due on Wednesday 6 May; from Thursday 7 May a
required consultation still open is past due.
"""

import datetime as dt

import pytest
from django.test import override_settings

from cases.models import CaseEvent, ConsultationStatus, EventAction, Position, Status
from cases.services import case_submit, deem_silent_consultations_agreed
from core.refusals import Refused
from tests.support.cases import assert_consult_refused
from tests.support.world import local_datetime

D = dt.date
DUE = D(2026, 5, 6)
SUMMARY = "Tờ trình phê duyệt báo cáo nghiên cứu khả thi dự án"


@pytest.fixture
def case(consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    return case


@pytest.fixture
def both(consulting, case, city):
    """The required consultee and a non-required one, asked together, both due on 6 May."""
    required, extra = consulting.ask(case, city.consulted, city.outsider, justification="Vốn ngân sách thành phố")
    assert (required.required, extra.required, required.due_date, extra.due_date) == (True, False, DUE, DUE)
    return required, extra


def deemed_events(case):
    return list(CaseEvent.objects.filter(case=case, action=EventAction.DEEMED_AGREED).order_by("id"))


def status_of(consultation):
    consultation.refresh_from_db()
    return consultation.status


def test_a_required_consultation_is_not_deemed_on_its_due_date(case, both, clock):
    clock.set(local_datetime(2026, 5, 6, 23, 59))
    assert deem_silent_consultations_agreed() == 0
    assert [status_of(c) for c in both] == [ConsultationStatus.OPEN, ConsultationStatus.OPEN]
    assert deemed_events(case) == []


def test_a_required_consultation_past_due_is_deemed_to_agree(city, case, both, clock):
    required, extra = both
    now = clock.set(local_datetime(2026, 5, 7, 0, 5))
    case.refresh_from_db()
    version = case.version

    assert deem_silent_consultations_agreed() == 1

    required.refresh_from_db()
    assert (required.status, required.deemed_agreed_at) == (ConsultationStatus.DEEMED_AGREED, now)
    assert (required.position, required.answered_by, required.answered_at) == ("", None, None)
    # The non-required consultee's silence proves nothing: it stays owed.
    assert status_of(extra) == ConsultationStatus.OPEN
    [event] = deemed_events(case)
    # Recorded against the unit that kept silent, by nobody in particular.
    assert (event.actor, event.from_department, event.to_department) == (None, city.consulted, None)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.IN_PROGRESS)
    assert event.payload == {"consultation": required.pk, "due_date": "2026-05-06"}
    case.refresh_from_db()
    assert case.version == version  # a consultation changed, not the case


def test_the_sweep_takes_the_day_it_is_told(case, both):
    required, _extra = both
    assert deem_silent_consultations_agreed(today=DUE) == 0
    assert deem_silent_consultations_agreed(today=D(2026, 5, 7)) == 1
    assert status_of(required) == ConsultationStatus.DEEMED_AGREED


def test_running_the_sweep_twice_changes_nothing_the_second_time(case, both, clock):
    required, _extra = both
    clock.set(local_datetime(2026, 5, 8, 9))
    assert deem_silent_consultations_agreed() == 1
    first = status_of(required), required.deemed_agreed_at
    clock.set(local_datetime(2026, 5, 11, 9))
    assert deem_silent_consultations_agreed() == 0
    assert (status_of(required), required.deemed_agreed_at) == first
    assert len(deemed_events(case)) == 1


def test_an_answered_consultation_is_never_deemed(consulting, case, both, clock):
    required, _extra = both
    clock.set(local_datetime(2026, 5, 7, 9))
    consulting.disagree(required)
    clock.set(local_datetime(2026, 5, 8, 9))
    assert deem_silent_consultations_agreed() == 0
    required.refresh_from_db()
    assert (required.status, required.position) == (ConsultationStatus.ANSWERED, Position.DISAGREE)


def test_the_sweep_may_be_limited_to_some_cases(consulting, case, both, clock):
    required, _extra = both
    [elsewhere] = consulting.ask(consulting.case())
    clock.set(local_datetime(2026, 5, 7, 9))
    assert deem_silent_consultations_agreed(cases=[elsewhere.case_id]) == 1
    assert (status_of(required), status_of(elsewhere)) == (ConsultationStatus.OPEN, ConsultationStatus.DEEMED_AGREED)


def test_the_submission_gate_deems_the_silence_itself(city, case, both, clock):
    required, extra = both
    clock.set(local_datetime(2026, 5, 7, 9))
    case_submit(case=case, actor=city.user("head"), summary=SUMMARY)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    assert (status_of(required), status_of(extra)) == (ConsultationStatus.DEEMED_AGREED, ConsultationStatus.OPEN)
    [deemed] = deemed_events(case)
    submitted = case.events.get(action=EventAction.SUBMITTED)
    assert deemed.id < submitted.id
    assert (deemed.from_status, deemed.from_department) == (Status.IN_PROGRESS, city.consulted)


def test_a_new_round_may_follow_a_deemed_agreement(consulting, case, both, clock):
    required, _extra = both
    clock.set(local_datetime(2026, 5, 7, 9))
    deem_silent_consultations_agreed()
    [second] = consulting.ask(case, question="Đề nghị cho ý kiến về hồ sơ đã bổ sung")
    assert (second.round, second.status, second.due_date) == (2, ConsultationStatus.OPEN, D(2026, 5, 12))


@override_settings(CONSULTATION_SILENCE_MEANS_AGREEMENT=False)
def test_without_silence_as_agreement_nothing_is_deemed_and_the_gate_waits(city, case, both, clock):
    required, _extra = both
    clock.set(local_datetime(2026, 5, 20, 9))
    assert deem_silent_consultations_agreed() == 0
    refusal = assert_consult_refused(case_submit, code="consultations_pending", attempted="submit", case=case,
                                     actor=city.user("head"), summary=SUMMARY)
    assert refusal.payload == {"departments": ["snnmt"]}
    assert status_of(required) == ConsultationStatus.OPEN
    assert deemed_events(case) == []


def test_silence_stays_recorded_when_the_submission_is_refused_for_another_reason(consulting, case, both, city,
                                                                                 clock):
    required, extra = both
    consulting.disagree(extra)  # a disagreement without reconciliation holds the submission
    clock.set(local_datetime(2026, 5, 7, 9))
    with pytest.raises(Refused) as refusal:
        case_submit(case=case, actor=city.user("head"), summary=SUMMARY)
    assert refusal.value.code == "unresolved_disagreement"
    required.refresh_from_db()
    assert required.status == ConsultationStatus.DEEMED_AGREED
    assert len(deemed_events(case)) == 1
