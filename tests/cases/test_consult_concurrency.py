"""Consultations under concurrent use (PostgreSQL row locks; STYLE.md §5, §6, §9).

Two people asking the same unit at once open one request; two people answering at once give one
answer; two sweeps at once deem a silence once; an answer racing the sweep is kept either way.
"""

from collections.abc import Callable

import pytest

from cases.models import CaseEvent, Consultation, ConsultationStatus, EventAction, Position
from cases.services import case_consult, consultation_respond, deem_silent_consultations_agreed
from tests.support.concurrency import run_together, skip_unless_postgres
from tests.support.world import local_datetime

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REPEATS = 5
OK = "ok"
QUESTION = "Đề nghị cho ý kiến thẩm định"


@pytest.fixture(autouse=True)
def needs_postgres():
    skip_unless_postgres()


@pytest.fixture
def case(consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    return case


def succeeds(call: Callable[[], object]) -> Callable[[], str]:
    def move():
        call()
        return OK

    return move


def events_after(case, last_id, action):
    return list(CaseEvent.objects.filter(case=case, id__gt=last_id, action=action))


def last_event(case) -> int:
    return CaseEvent.objects.filter(case=case).order_by("-id").values_list("id", flat=True).first()


@pytest.mark.parametrize("repeat", range(REPEATS))
def test_two_people_asking_the_same_unit_open_one_request(city, case, repeat):
    last = last_event(case)

    def ask(actor):
        return succeeds(lambda: case_consult(case=case, actor=city.user(actor), departments=[city.consulted],
                                             question=QUESTION))

    outcomes = run_together(ask("specialist"), ask("head"))

    assert sorted(outcomes) == sorted([OK, "consultation_open"])
    assert Consultation.unscoped.filter(case=case).count() == 1
    assert len(events_after(case, last, EventAction.CONSULTED)) == 1
    [refused] = events_after(case, last, EventAction.REFUSED)
    assert (refused.payload["code"], refused.payload["attempted"]) == ("consultation_open", "consult")


@pytest.mark.parametrize("repeat", range(REPEATS))
def test_two_people_asking_different_units_both_succeed(city, case, repeat):
    outcomes = run_together(
        succeeds(lambda: case_consult(case=case, actor=city.user("specialist"), departments=[city.consulted],
                                      question=QUESTION)),
        succeeds(lambda: case_consult(case=case, actor=city.user("head"), departments=[city.outsider],
                                      question=QUESTION, justification="Vốn ngân sách thành phố")),
    )
    assert outcomes == [OK, OK]
    assert sorted(Consultation.unscoped.filter(case=case).values_list("department__code", "round")) == [
        ("snnmt", 1), ("stc", 1)]


@pytest.mark.parametrize("repeat", range(REPEATS))
def test_two_people_answering_at_once_give_one_answer(city, consulting, case, clock, repeat):
    [consultation] = consulting.ask(case)
    clock.set(local_datetime(2026, 5, 4, 10))
    last = last_event(case)

    def answer(actor, position, comment=""):
        return lambda: consultation_respond(consultation=consultation, actor=city.user(actor), position=position,
                                            comment=comment).position

    outcomes = run_together(answer("consulted_head", Position.AGREE),
                            answer("consulted_specialist", Position.DISAGREE, "Chưa đủ căn cứ"))

    assert "invalid_transition" in outcomes
    [winner] = [outcome for outcome in outcomes if outcome != "invalid_transition"]
    consultation.refresh_from_db()
    assert (consultation.status, consultation.position) == (ConsultationStatus.ANSWERED, winner)
    [answered] = events_after(case, last, EventAction.CONSULTATION_ANSWERED)
    assert answered.payload["position"] == winner
    [refused] = events_after(case, last, EventAction.REFUSED)
    assert (refused.payload["code"], refused.payload["attempted"]) == ("invalid_transition", "respond")
    assert refused.actor != answered.actor


@pytest.mark.parametrize("repeat", range(REPEATS))
def test_two_sweeps_at_once_deem_a_silence_once(consulting, case, clock, repeat):
    [consultation] = consulting.ask(case)
    clock.set(local_datetime(2026, 5, 7, 9))

    outcomes = run_together(deem_silent_consultations_agreed, deem_silent_consultations_agreed)

    assert sorted(outcomes) == [0, 1]
    consultation.refresh_from_db()
    assert consultation.status == ConsultationStatus.DEEMED_AGREED
    assert CaseEvent.objects.filter(case=case, action=EventAction.DEEMED_AGREED).count() == 1


@pytest.mark.parametrize("repeat", range(REPEATS))
def test_a_late_answer_racing_the_sweep_is_kept(city, consulting, case, clock, repeat):
    [consultation] = consulting.ask(case)
    clock.set(local_datetime(2026, 5, 7, 9))

    deemed, answered = run_together(
        deem_silent_consultations_agreed,
        lambda: consultation_respond(consultation=consultation, actor=city.user("consulted_specialist"),
                                     position=Position.DISAGREE, comment="Chưa đủ căn cứ").position,
    )

    # Deemed first and then answered, or answered first and never deemed: the answer stands either way.
    assert (deemed, answered) in {(0, Position.DISAGREE), (1, Position.DISAGREE)}
    consultation.refresh_from_db()
    assert (consultation.status, consultation.position, consultation.answered_late) == (
        ConsultationStatus.ANSWERED, Position.DISAGREE, True)
    assert CaseEvent.objects.filter(case=case, action=EventAction.DEEMED_AGREED).count() == deemed
