"""The consulted department answers, and its head names who prepares the answer (DESIGN.md §2 rule 6, §3).

Opinions are asked on Wednesday 29 April 2026 and are due on Wednesday 6 May (three working days,
across the 30 April / 1 May holidays and a weekend).
"""

import datetime as dt

import pytest

from cases.models import (
    CaseEvent,
    ConsultationStatus,
    DisputeStatus,
    EventAction,
    Position,
    RuleDispute,
    Status,
)
from cases.services import consultation_assign, consultation_respond, deem_silent_consultations_agreed
from departments.models import Role
from tests.support.cases import assert_consult_denied, assert_consult_invalid, assert_consult_refused
from tests.support.world import local_datetime, make_user

D = dt.date
REASONS = "Dự án nằm trong hành lang bảo vệ công trình thủy lợi"


@pytest.fixture
def case(consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    return case


@pytest.fixture
def consultation(consulting, case):
    [consultation] = consulting.ask(case)
    assert consultation.due_date == D(2026, 5, 6)
    return consultation


def answered_event(consultation):
    return CaseEvent.objects.get(case=consultation.case, action=EventAction.CONSULTATION_ANSWERED)


@pytest.mark.parametrize(("position", "comment"), [
    (Position.AGREE, ""),
    (Position.AGREE_WITH_COMMENTS, "Đề nghị bổ sung phương án thoát nước mặt"),
    (Position.DISAGREE, REASONS),
    (Position.NOT_COMPETENT, "Nội dung thuộc chức năng của Sở Tài chính"),
])
def test_the_consulted_unit_answers_with_each_position(city, consultation, clock, position, comment):
    clock.set(local_datetime(2026, 5, 5, 15))  # Tuesday: two working days after the request (Mon 4, Tue 5)
    specialist = city.user("consulted_specialist")
    case_version = consultation.case.version

    answered = consultation_respond(consultation=consultation, actor=specialist, position=position, comment=comment)

    answered.refresh_from_db()
    assert (answered.status, answered.position, answered.comment) == (ConsultationStatus.ANSWERED, position, comment)
    assert (answered.answered_by, answered.answered_at) == (specialist, clock.now)
    assert (answered.answered_late, answered.answer_working_days) == (False, 2)
    event = answered_event(answered)
    assert (event.actor, event.note, event.from_department) == (specialist, comment, city.consulted)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.IN_PROGRESS)
    assert event.payload == {"consultation": answered.pk, "position": position, "late": False}
    answered.case.refresh_from_db()
    assert (answered.case.status, answered.case.version) == (Status.IN_PROGRESS, case_version)


@pytest.mark.parametrize("position", [Position.DISAGREE, Position.AGREE_WITH_COMMENTS, Position.NOT_COMPETENT])
@pytest.mark.parametrize("comment", ["", "  \n "])
def test_a_position_other_than_agree_needs_its_reasons(city, consultation, position, comment):
    assert_consult_invalid(consultation_respond, "comment", consultation=consultation,
                           actor=city.user("consulted_specialist"), position=position, comment=comment)


@pytest.mark.parametrize("position", ["", "abstain", "AGREE"])
def test_a_position_must_be_one_of_the_four(city, consultation, position):
    assert_consult_invalid(consultation_respond, "position", consultation=consultation,
                           actor=city.user("consulted_head"), position=position, comment=REASONS)


def test_not_competent_opens_one_rule_dispute_for_the_consulted_unit(city, consulting, case, consultation):
    reason = "Nội dung thuộc chức năng của Sở Tài chính"
    consulting.answer(consultation, Position.NOT_COMPETENT, reason)
    dispute = RuleDispute.objects.get(case=case)
    assert (dispute.department, dispute.rule_id, dispute.filed_by) == (
        city.consulted, case.rule_id, city.user("consulted_specialist"))
    assert (dispute.reason, dispute.status) == (reason, DisputeStatus.OPEN)

    # Asked again, it says so again: the open dispute already carries the question to the admin.
    [second] = consulting.ask(case)
    consulting.answer(second, Position.NOT_COMPETENT, "Vẫn đề nghị chuyển Sở Tài chính", actor="consulted_head")
    assert RuleDispute.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("position", [Position.AGREE, Position.DISAGREE])
def test_other_positions_open_no_dispute(consulting, case, consultation, position):
    consulting.answer(consultation, position, REASONS)
    assert not RuleDispute.objects.filter(case=case).exists()


@pytest.mark.parametrize("role", ["consulted_head", "consulted_specialist"])
def test_the_consulted_unit_handlers_answer(city, consultation, role):
    answered = consultation_respond(consultation=consultation, actor=city.user(role), position=Position.AGREE)
    assert answered.answered_by == city.user(role)


@pytest.mark.parametrize("role", ["head", "deputy", "specialist", "outsider_head", "outsider_specialist",
                                  "inspector", "city_office", "admin", "nobody"])
def test_nobody_else_answers_for_the_consulted_unit(city, consultation, role):
    refusal = assert_consult_refused(consultation_respond, code="not_owner", attempted="respond",
                                     consultation=consultation, actor=city.user(role), position=Position.AGREE)
    assert refusal.payload == {"consultation": consultation.pk}


def test_the_consulted_intake_clerk_does_not_answer(city, consultation):
    clerk = make_user("consulted_clerk", department=city.consulted, role=Role.CLERK)
    assert_consult_denied(consultation_respond, consultation=consultation, actor=clerk, position=Position.AGREE)


def test_an_answer_is_given_once(city, consulting, consultation):
    consulting.answer(consultation, Position.AGREE)
    assert_consult_refused(consultation_respond, code="invalid_transition", attempted="respond",
                           consultation=consultation, actor=city.user("consulted_head"), position=Position.DISAGREE,
                           comment=REASONS)
    consultation.refresh_from_db()
    assert (consultation.position, consultation.answered_by) == (Position.AGREE, city.user("consulted_specialist"))


@pytest.mark.parametrize(("moment", "late", "working_days"), [
    (local_datetime(2026, 5, 6, 23, 59), False, 3),  # the last minute of the due date
    (local_datetime(2026, 5, 7, 8), True, 4),
    (local_datetime(2026, 5, 9, 8), True, 5),  # a Saturday counts no extra working day
], ids=["on-the-due-date", "next-day", "weekend"])
def test_an_answer_after_the_due_date_is_late(consulting, consultation, clock, moment, late, working_days):
    clock.set(moment)
    answered = consulting.answer(consultation, Position.AGREE_WITH_COMMENTS, "Thống nhất, đề nghị lưu ý tiến độ")
    answered.refresh_from_db()
    assert (answered.answered_late, answered.answer_working_days) == (late, working_days)
    assert answered_event(answered).payload["late"] is late


def test_a_consultation_deemed_agreed_may_still_be_answered_late(consulting, consultation, clock):
    clock.set(local_datetime(2026, 5, 7, 8))
    assert deem_silent_consultations_agreed() == 1
    clock.set(local_datetime(2026, 5, 8, 10))
    consulting.disagree(consultation, REASONS)
    consultation.refresh_from_db()
    assert (consultation.status, consultation.position, consultation.comment) == (
        ConsultationStatus.ANSWERED, Position.DISAGREE, REASONS)
    assert (consultation.answered_late, consultation.answer_working_days) == (True, 5)
    assert answered_event(consultation).payload["late"] is True


# --- consultation_assign -----------------------------------------------------------------------------------


@pytest.fixture
def consulted_deputy(city):
    return make_user("consulted_deputy", department=city.consulted, role=Role.DEPUTY)


def test_the_consulted_head_names_who_prepares_the_answer(city, consultation):
    head, specialist = city.user("consulted_head"), city.user("consulted_specialist")
    assigned = consultation_assign(consultation=consultation, actor=head, assignee=specialist)
    assigned.refresh_from_db()
    assert (assigned.assignee, assigned.status) == (specialist, ConsultationStatus.OPEN)
    event = CaseEvent.objects.get(case=consultation.case, action=EventAction.CONSULTATION_ASSIGNED)
    assert (event.actor, event.from_status, event.to_status) == (head, Status.IN_PROGRESS, Status.IN_PROGRESS)
    assert event.payload == {"consultation": consultation.pk, "previous": None, "assignee": "consulted_specialist"}


def test_a_consulted_deputy_reassigns(city, consultation, consulted_deputy):
    consultation_assign(consultation=consultation, actor=city.user("consulted_head"),
                        assignee=city.user("consulted_specialist"))
    consultation_assign(consultation=consultation, actor=consulted_deputy, assignee=consulted_deputy)
    consultation.refresh_from_db()
    assert consultation.assignee == consulted_deputy
    events = CaseEvent.objects.filter(case=consultation.case, action=EventAction.CONSULTATION_ASSIGNED).order_by("id")
    assert [(e.payload["previous"], e.payload["assignee"]) for e in events] == [
        (None, "consulted_specialist"), ("consulted_specialist", "consulted_deputy")]


def test_a_consulted_specialist_does_not_assign(city, consultation):
    assert_consult_denied(consultation_assign, consultation=consultation, actor=city.user("consulted_specialist"),
                          assignee=city.user("consulted_specialist"))


@pytest.mark.parametrize("role", ["head", "deputy", "outsider_head", "admin"])
def test_other_units_do_not_assign_the_consulted_unit_work(city, consultation, role):
    assert_consult_refused(consultation_assign, code="not_owner", attempted="assign_consultation",
                           consultation=consultation, actor=city.user(role), assignee=city.user("consulted_specialist"))


@pytest.mark.parametrize("assignee", ["specialist", "outsider_specialist", "consulted_clerk"])
def test_the_assignee_handles_cases_in_the_consulted_unit(city, consultation, assignee):
    people = {**city.users, "consulted_clerk": make_user("consulted_clerk", department=city.consulted,
                                                          role=Role.CLERK)}
    assert_consult_invalid(consultation_assign, "assignee", consultation=consultation,
                           actor=city.user("consulted_head"), assignee=people[assignee])


def test_an_answered_consultation_is_not_assigned(city, consulting, consultation):
    consulting.answer(consultation)
    assert_consult_refused(consultation_assign, code="invalid_transition", attempted="assign_consultation",
                           consultation=consultation, actor=city.user("consulted_head"),
                           assignee=city.user("consulted_specialist"))
