"""Asking other departments for their opinion (DESIGN.md §2 rules 4 and 6, §3 consultation deadlines).

Dates are fixed: the case arrives on Monday 20 April 2026 (due 14 May, 15 working days) and opinions
are asked on Wednesday 29 April, the day before the 30 April / 1 May holidays and a weekend.
"""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from cases.models import Consultation, ConsultationStatus, EventAction, Position, Status
from cases.policy import cases_visible_to, department_queue
from cases.services import (
    case_accept,
    case_assign,
    case_consult,
    case_reconcile,
    case_resolve,
    case_return,
    case_submit,
    case_transfer,
)
from departments.models import AuthorityRule, Role
from tests.support.cases import (
    assert_consult_denied,
    assert_consult_invalid,
    assert_consult_refused,
)
from tests.support.world import local_datetime, make_user

D = dt.date
QUESTION = "Đề nghị Sở cho ý kiến về phương án phòng cháy và thoát nước của dự án"
JUSTIFICATION = "Dự án sử dụng vốn ngân sách thành phố, cần ý kiến về nguồn vốn"


@pytest.fixture
def received(clock):
    clock.set(local_datetime(2026, 4, 20, 9))  # Monday


@pytest.fixture
def asking_day(clock):
    def at(moment=None):
        return clock.set(moment or local_datetime(2026, 4, 29, 10))  # Wednesday, before the holidays

    return at


@pytest.fixture
def case(consulting, received, asking_day):
    case = consulting.case()
    asking_day()
    return case


def rule_of(kind) -> AuthorityRule:
    return AuthorityRule.objects.get(case_type=kind)


def test_a_required_consultee_is_asked_without_justification(city, case, clock):
    specialist = city.user("specialist")
    version, due, assignee = case.version, case.due_date, case.assignee
    assert due == D(2026, 5, 14)

    [consultation] = case_consult(case=case, actor=specialist, departments=[city.consulted], question=QUESTION,
                                  expected_version=version)

    consultation.refresh_from_db()
    assert (consultation.department, consultation.requesting_department, consultation.round) == (
        city.consulted, city.owner, 1)
    assert (consultation.required, consultation.justification, consultation.question) == (True, "", QUESTION)
    assert (consultation.status, consultation.position, consultation.assignee) == (ConsultationStatus.OPEN, "", None)
    assert (consultation.requested_by, consultation.requested_at) == (specialist, clock.now)
    # Three working days: 30 April and 1 May are holidays, then a weekend; Mon 4, Tue 5, Wed 6 May.
    assert consultation.due_date == D(2026, 5, 6)
    case.refresh_from_db()
    # The case's own deadline keeps running while the opinion is awaited.
    assert (case.status, case.due_date, case.assignee, case.version) == (Status.IN_PROGRESS, due, assignee,
                                                                         version + 1)
    event = case.events.get(action=EventAction.CONSULTED)
    assert (event.actor, event.note, event.from_status, event.to_status) == (
        specialist, QUESTION, Status.IN_PROGRESS, Status.IN_PROGRESS)
    assert event.payload == {"consultations": [{"id": consultation.pk, "department": "snnmt", "round": 1,
                                                "required": True}], "due_date": "2026-05-06"}


def test_another_department_is_asked_with_a_justification_as_non_required(city, case):
    consulted, outsider = case_consult(case=case, actor=city.user("head"), departments=[city.consulted, city.outsider],
                                       question=QUESTION, justification=JUSTIFICATION)
    assert (consulted.department, consulted.required, consulted.justification) == (city.consulted, True, "")
    assert (outsider.department, outsider.required, outsider.justification) == (city.outsider, False, JUSTIFICATION)
    assert consulted.due_date == outsider.due_date == D(2026, 5, 6)
    event = case.events.get(action=EventAction.CONSULTED)
    assert [(c["department"], c["required"]) for c in event.payload["consultations"]] == [
        ("snnmt", True), ("stc", False)]


@pytest.mark.parametrize("justification", ["", "   \n"])
def test_another_department_without_a_justification_is_refused(city, case, justification):
    refusal = assert_consult_refused(case_consult, code="justification_required", attempted="consult", case=case,
                                     actor=city.user("specialist"), departments=[city.consulted, city.outsider],
                                     question=QUESTION, justification=justification)
    assert city.outsider.name in refusal.detail
    assert city.consulted.name not in refusal.detail
    assert refusal.payload == {"departments": ["stc"]}
    assert not Consultation.unscoped.exists()  # not even the required one


def test_the_case_keeps_the_consultees_of_the_rule_it_was_routed_by(city, case, appraisal_type):
    rule = rule_of(appraisal_type)
    rule.required_consultees.set([city.outsider])  # edited after routing: the case keeps its snapshot
    assert_consult_refused(case_consult, code="justification_required", attempted="consult", case=case,
                           actor=city.user("specialist"), departments=[city.outsider], question=QUESTION)
    [consultation] = case_consult(case=case, actor=city.user("specialist"), departments=[city.consulted],
                                  question=QUESTION)
    assert consultation.required is True


@pytest.mark.parametrize(("rule_days", "type_days", "default_days", "due"), [
    (3, 4, 7, D(2026, 5, 6)),  # the rule's days
    (None, 4, 7, D(2026, 5, 7)),  # else the case type's
    (None, None, 7, D(2026, 5, 12)),  # else DEFAULT_CONSULTATION_DAYS: Mon 4 … Fri 8, Mon 11, Tue 12
], ids=["rule", "case-type", "default"])
def test_the_consultation_deadline_counts_working_days_from_the_request_day(
        city, consulting, received, asking_day, appraisal_type, rule_days, type_days, default_days, due):
    rule = rule_of(appraisal_type)
    rule.consultation_days = rule_days
    rule.save()
    appraisal_type.consultation_days = type_days
    appraisal_type.save()
    case = consulting.case()
    asking_day()
    with override_settings(DEFAULT_CONSULTATION_DAYS=default_days):
        [consultation] = consulting.ask(case)
    assert consultation.due_date == due
    assert case.events.get(action=EventAction.CONSULTED).payload["due_date"] == due.isoformat()


def test_a_request_on_a_holiday_counts_from_the_next_working_day(consulting, case, asking_day):
    asking_day(local_datetime(2026, 4, 30, 10))  # Victory Day: deemed made on Monday 4 May, not counted
    [consultation] = consulting.ask(case)
    assert consultation.due_date == D(2026, 5, 7)


def test_a_second_round_waits_for_the_answer_to_the_first(city, consulting, case, clock):
    [first] = consulting.ask(case)
    refusal = assert_consult_refused(case_consult, code="consultation_open", attempted="consult", case=case,
                                     actor=city.user("head"), departments=[city.consulted], question="Nhắc lại")
    assert city.consulted.name in refusal.detail
    assert refusal.payload == {"departments": ["snnmt"]}

    clock.set(local_datetime(2026, 5, 4, 14))
    consulting.answer(first, Position.AGREE_WITH_COMMENTS, "Bổ sung giải pháp thoát nước")
    clock.set(local_datetime(2026, 5, 5, 9))
    [second] = consulting.ask(case, question="Đề nghị cho ý kiến lại sau khi bổ sung")
    assert (second.round, second.required, second.status) == (2, True, ConsultationStatus.OPEN)
    assert second.due_date == D(2026, 5, 8)  # Wed 6, Thu 7, Fri 8
    assert list(case.consultations.values_list("round", "status")) == [
        (1, ConsultationStatus.ANSWERED), (2, ConsultationStatus.OPEN)]


def test_one_open_request_refuses_the_whole_list(city, consulting, case):
    consulting.ask(case)
    assert_consult_refused(case_consult, code="consultation_open", attempted="consult", case=case,
                           actor=city.user("specialist"), departments=[city.outsider, city.consulted],
                           question=QUESTION, justification=JUSTIFICATION)
    assert not Consultation.unscoped.filter(department=city.outsider).exists()


def answered_rounds(consulting, case, count):
    for _ in range(count):
        [consultation] = consulting.ask(case)
        consulting.answer(consultation)


def test_at_most_two_rounds_per_department(city, consulting, case):
    answered_rounds(consulting, case, 2)
    refusal = assert_consult_refused(case_consult, code="max_rounds_exceeded", attempted="consult", case=case,
                                     actor=city.user("head"), departments=[city.consulted], question="Vòng ba")
    assert city.consulted.name in refusal.detail
    assert refusal.payload == {"departments": ["snnmt"]}
    # The limit counts per department: another unit may still be asked its first round.
    [outsider] = consulting.ask_outsider(case)
    assert outsider.round == 1


@override_settings(MAX_CONSULT_ROUNDS=3)
def test_the_round_limit_is_a_setting(city, consulting, case):
    answered_rounds(consulting, case, 3)
    assert sorted(case.consultations.values_list("round", flat=True)) == [1, 2, 3]
    assert_consult_refused(case_consult, code="max_rounds_exceeded", attempted="consult", case=case,
                           actor=city.user("specialist"), departments=[city.consulted], question="Vòng bốn")


def test_the_owner_does_not_consult_itself(city, case):
    assert_consult_invalid(case_consult, "departments", case=case, actor=city.user("specialist"),
                           departments=[city.owner, city.consulted], question=QUESTION, justification=JUSTIFICATION)


def test_a_consultation_names_at_least_one_department(city, case):
    assert_consult_invalid(case_consult, "departments", case=case, actor=city.user("specialist"), departments=[],
                           question=QUESTION)


@pytest.mark.parametrize("status", ["routed", "awaiting_supplement", "submitted", "resolved"])
def test_only_a_case_in_progress_is_sent_for_consultation(city, stages, status):
    case = stages(status)
    assert_consult_refused(case_consult, code="invalid_transition", attempted="consult", case=case,
                           actor=city.user("head"), departments=[city.consulted], question=QUESTION,
                           justification=JUSTIFICATION)


@pytest.mark.parametrize("role", ["head", "deputy", "specialist"])
def test_the_owner_handlers_consult(city, case, role):
    [consultation] = case_consult(case=case, actor=city.user(role), departments=[city.consulted], question=QUESTION)
    assert consultation.requested_by == city.user(role)


def test_the_owner_intake_clerk_does_not_consult(city, case):
    assert_consult_denied(case_consult, case=case, actor=city.user("clerk"), departments=[city.consulted],
                          question=QUESTION)


@pytest.mark.parametrize("role", ["consulted_head", "consulted_specialist", "outsider_head", "inspector",
                                  "city_office", "admin", "nobody"])
def test_other_units_do_not_consult_on_the_owner_case(city, consulting, case, role):
    consulting.ask(case)  # the consulted unit now reads the case, and still may not act for the owner
    assert_consult_refused(case_consult, code="not_owner", attempted="consult", case=case, actor=city.user(role),
                           departments=[city.outsider], question=QUESTION, justification=JUSTIFICATION)


def base_consultation(case, city, **fields):
    values = {"case": case, "department": city.consulted, "requesting_department": city.owner, "round": 1,
              "question": QUESTION, "requested_by": city.user("specialist"), "due_date": D(2026, 5, 6)}
    return Consultation(**{**values, **fields})


def test_the_database_keeps_one_open_request_per_case_and_unit(city, consulting, case):
    consulting.ask(case)
    with pytest.raises(IntegrityError), transaction.atomic():
        base_consultation(case, city, round=2).save()
    assert case.consultations.count() == 1


def test_the_database_keeps_one_request_per_round(city, consulting, case):
    [first] = consulting.ask(case)
    consulting.answer(first)
    with pytest.raises(IntegrityError), transaction.atomic():
        base_consultation(case, city, round=1, status=ConsultationStatus.ANSWERED, position=Position.AGREE).save()
    assert case.consultations.count() == 1


def test_the_database_keeps_a_position_on_every_answer(city, case):
    with pytest.raises(IntegrityError), transaction.atomic():
        base_consultation(case, city, status=ConsultationStatus.ANSWERED).save()


# --- Who sees a consulted case, and who may act on it (DESIGN.md §2 rule 4) ---------------------------------


def visible(case, username, city) -> bool:
    return cases_visible_to(city.user(username)).filter(pk=case.pk).exists()


def test_the_consulted_department_sees_the_case_once_asked(city, consulting, case):
    assert not visible(case, "consulted_head", city)
    [consultation] = consulting.ask(case)
    assert visible(case, "consulted_head", city) and visible(case, "consulted_specialist", city)
    consulting.answer(consultation)
    assert visible(case, "consulted_specialist", city)  # its answer stays readable in context
    # Read-only: it is not the consulted unit's own work.
    assert not department_queue(city.user("consulted_head")).filter(pk=case.pk).exists()
    assert department_queue(city.user("head")).filter(pk=case.pk).exists()


def test_a_department_never_consulted_still_does_not_see_the_case(city, consulting, case):
    consulting.ask(case)
    assert not visible(case, "outsider_head", city)
    assert not visible(case, "outsider_specialist", city)


OWNER_MOVES = {
    "accept": (case_accept, lambda city, c: {}),
    "assign": (case_assign, lambda city, c: {"assignee": city.user("consulted_specialist")}),
    "resolve": (case_resolve, lambda city, c: {"note": "Đồng ý chủ trương"}),
    "submit": (case_submit, lambda city, c: {"summary": "Tờ trình phê duyệt dự án"}),
    "return": (case_return, lambda city, c: {"reason": "Không thuộc thẩm quyền Sở Xây dựng"}),
    "transfer": (case_transfer, lambda city, c: {"to": city.consulted, "reason": "Chuyển Sở NN&MT chủ trì"}),
    "consult": (case_consult, lambda city, c: {"departments": [city.outsider], "question": QUESTION,
                                               "justification": JUSTIFICATION}),
    "reconcile": (case_reconcile, lambda city, c: {"consultation": c, "note": "Đã thống nhất tại cuộc họp"}),
}


@pytest.mark.parametrize("move", OWNER_MOVES)
@pytest.mark.parametrize("role", ["consulted_head", "consulted_specialist"])
def test_the_consulted_department_does_not_settle_the_owner_work(city, consulting, case, move, role):
    [consultation] = consulting.ask(case)
    consulting.disagree(consultation)
    service, fields = OWNER_MOVES[move]
    assert_consult_refused(service, code="not_owner", attempted=move, case=case, actor=city.user(role),
                           **fields(city, consultation))


def test_a_consulted_deputy_is_no_owner_either(city, consulting, case):
    deputy = make_user("consulted_deputy", department=city.consulted, role=Role.DEPUTY)
    consulting.ask(case)
    assert cases_visible_to(deputy).filter(pk=case.pk).exists()
    assert_consult_refused(case_assign, code="not_owner", attempted="assign", case=case, actor=deputy,
                           assignee=city.user("consulted_specialist"))


def test_a_department_named_twice_is_asked_once(city, case):
    asked = case_consult(case=case, actor=city.user("head"), departments=[city.consulted, city.consulted],
                         question="Ý kiến về hồ sơ")
    assert [c.department for c in asked] == [city.consulted]
    assert case.consultations.count() == 1
