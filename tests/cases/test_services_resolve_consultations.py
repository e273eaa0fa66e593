"""Resolving respects consultations (directive: consult the right units, and never use consultation to stall).

A case is not resolved while an opinion its rule requires is awaited (`consultations_pending`, as for a
submission). Requests for other opinions still open when a case is settled, by its unit or by the City
Committee's decision, are withdrawn: each with an event on the case and a notice to the consulted unit, which
can then no longer answer, and which finds them in its inbox under "withdrawn".

The demolition permit is the owner's own matter; its rule requires the consulted department's opinion. Opinions
are asked on Wednesday 29 April 2026, due within three working days.
"""

import pytest
from django.urls import reverse

from cases.models import Consultation, ConsultationStatus, EventAction, Notification, Outcome, Status
from cases.services import case_decide, case_resolve, case_submit, consultation_assign, consultation_respond
from core.notices import NoticeKind
from departments.models import DecisionLevel
from tests.support.cases import Consulting, assert_consult_refused, type_requiring_an_opinion
from tests.support.world import local_datetime

NOTE = "Cấp giấy phép phá dỡ"


@pytest.fixture
def permit_type(city):
    return type_requiring_an_opinion(city, code="demolition-permit", name="Cấp giấy phép phá dỡ công trình",
                                     decision_level=DecisionLevel.DEPARTMENT,
                                     legal_basis="Luật Xây dựng 2014, Điều 118")


@pytest.fixture
def desk(city, stages, permit_type):
    return Consulting(city, stages, permit_type)


@pytest.fixture
def case(desk, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = desk.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    return case


def resolve(city, case):
    return case_resolve(case=case, actor=city.user("head"), note=NOTE)


def withdrawal_notices(consultation):
    return sorted(Notification.objects.filter(consultation=consultation, kind=NoticeKind.WITHDRAWN)
                  .values_list("recipient__username", flat=True))


def test_a_required_opinion_never_asked_holds_the_resolution(city, case):
    refusal = assert_consult_refused(case_resolve, code="consultations_pending", attempted="resolve", case=case,
                                     actor=city.user("head"), note=NOTE)

    assert refusal.payload == {"departments": ["snnmt"]}
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS


def test_a_required_opinion_still_within_its_deadline_holds_the_resolution(city, desk, case, clock):
    [asked] = desk.ask(case)
    clock.set(local_datetime(2026, 5, 5, 16))

    assert_consult_refused(case_resolve, code="consultations_pending", attempted="resolve", case=case,
                           actor=city.user("head"), note=NOTE)

    asked.refresh_from_db()
    assert asked.status == ConsultationStatus.OPEN


def test_silence_past_the_deadline_is_agreement_and_the_case_is_resolved(city, desk, case, clock):
    [asked] = desk.ask(case)
    clock.set(local_datetime(2026, 5, 12, 9))

    resolve(city, case)

    asked.refresh_from_db()
    case.refresh_from_db()
    assert (case.status, asked.status) == (Status.RESOLVED, ConsultationStatus.DEEMED_AGREED)
    assert not case.events.filter(action=EventAction.CONSULTATION_WITHDRAWN).exists()


def test_other_open_requests_are_withdrawn_with_the_case_and_their_unit_is_told(city, desk, case, clock):
    [required] = desk.ask(case)
    [optional] = desk.ask_outsider(case)
    clock.set(local_datetime(2026, 5, 4, 9))
    desk.answer(required)
    consultation_assign(consultation=optional, actor=city.user("outsider_head"),
                        assignee=city.user("outsider_specialist"))

    resolve(city, case)

    optional.refresh_from_db()
    required.refresh_from_db()
    assert (optional.status, required.status) == (ConsultationStatus.WITHDRAWN, ConsultationStatus.ANSWERED)
    resolved, withdrawn = case.events.order_by("-id")[:2][::-1]
    assert (resolved.action, withdrawn.action) == (EventAction.RESOLVED, EventAction.CONSULTATION_WITHDRAWN)
    assert (withdrawn.actor, withdrawn.from_department, withdrawn.payload) == (
        city.user("head"), city.outsider, {"consultation": optional.pk})
    assert (withdrawn.from_status, withdrawn.to_status) == (Status.RESOLVED, Status.RESOLVED)
    # The unit's head and the person it had named; the case's own people are not the ones to tell.
    assert withdrawal_notices(optional) == ["outsider_head", "outsider_specialist"]
    assert withdrawal_notices(required) == []


def test_a_withdrawn_request_can_no_longer_be_answered(city, desk, case, clock):
    desk.ask(case)
    [optional] = desk.ask_outsider(case)
    clock.set(local_datetime(2026, 5, 12, 9))
    resolve(city, case)
    optional.refresh_from_db()

    refusal = assert_consult_refused(consultation_respond, code="invalid_transition", attempted="respond",
                                     consultation=optional, actor=city.user("outsider_specialist"),
                                     position="agree")

    assert "withdrawn" in refusal.detail or "rút" in refusal.detail


def test_the_consulted_unit_finds_withdrawn_requests_in_its_inbox(city, desk, case, clock, signed_in):
    desk.ask(case)
    [optional] = desk.ask_outsider(case)
    clock.set(local_datetime(2026, 5, 12, 9))
    resolve(city, case)

    inbox = signed_in("outsider_head").get(reverse("consultations"), {"show": "withdrawn"})

    assert inbox.status_code == 200
    assert case.reference in inbox.content.decode()
    assert [row["consultation"].pk for row in inbox.context["rows"]] == [optional.pk]
    assert signed_in("outsider_head").get(reverse("consultations")).context["rows"] == []


@pytest.mark.parametrize(("outcome", "status"), [(Outcome.APPROVED, ConsultationStatus.WITHDRAWN),
                                                 (Outcome.REWORK, ConsultationStatus.OPEN)])
def test_a_decision_that_settles_the_case_withdraws_what_is_still_open(city, consulting, clock, outcome, status):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    [required] = consulting.ask(case)
    [optional] = consulting.ask_outsider(case)
    clock.set(local_datetime(2026, 5, 4, 9))
    consulting.answer(required)
    case_submit(case=case, actor=city.user("head"), summary="Tờ trình")

    case_decide(case=Consultation.unscoped.get(pk=optional.pk).case, actor=city.user("city_office"), outcome=outcome,
                note="Quyết định của UBND thành phố")

    optional.refresh_from_db()
    assert optional.status == status
    assert bool(withdrawal_notices(optional)) == (status == ConsultationStatus.WITHDRAWN)
