"""Agree before you submit: the consultation gates of case_submit, and reconciling a disagreement
(DESIGN.md §2 rule 7).

The appraisal case is a city-level matter whose rule requires the consulted department's opinion;
opinions are asked on Wednesday 29 April 2026, due Wednesday 6 May.
"""

import datetime as dt

import pytest

from cases.models import (
    Consultation,
    ConsultationStatus,
    EventAction,
    Outcome,
    Position,
    Reconciliation,
    Status,
    Submission,
)
from cases.services import attachment_add, case_decide, case_reconcile, case_submit
from tests.support.cases import (
    assert_consult_denied,
    assert_consult_invalid,
    assert_consult_refused,
    pdf_upload,
)
from tests.support.world import local_datetime

D = dt.date
SUMMARY = "Tờ trình phê duyệt báo cáo nghiên cứu khả thi dự án"
SETTLED = "Đã thống nhất tại cuộc họp liên ngành ngày 04/5/2026: bổ sung hồ sơ đánh giá tác động môi trường"


@pytest.fixture
def case(consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    return case


@pytest.fixture
def answering_day(clock):
    clock.set(local_datetime(2026, 5, 4, 14))  # Monday, before the consultations are due


def submit(city, case, actor="head"):
    return case_submit(case=case, actor=city.user(actor), summary=SUMMARY)


def assert_gate(city, case, code):
    return assert_consult_refused(case_submit, code=code, attempted="submit", case=case, actor=city.user("head"),
                                  summary=SUMMARY)


def assert_submitted(city, case, actor="head"):
    submit(city, case, actor)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    assert Submission.objects.filter(case=case, outcome="").count() == 1


def test_a_required_consultee_never_asked_holds_the_submission(city, case):
    refusal = assert_gate(city, case, "consultations_pending")
    assert city.consulted.name in refusal.detail
    assert refusal.payload == {"departments": ["snnmt"]}


def test_a_non_required_opinion_does_not_stand_in_for_the_required_one(city, consulting, case, answering_day):
    [outsider] = consulting.ask_outsider(case)
    consulting.answer(outsider)
    assert_gate(city, case, "consultations_pending")


def test_an_open_consultation_within_its_deadline_holds_the_submission(city, consulting, case, clock):
    [consultation] = consulting.ask(case)
    clock.set(local_datetime(2026, 5, 6, 16))  # the due date itself: still time to answer
    assert_gate(city, case, "consultations_pending")
    consultation.refresh_from_db()
    assert consultation.status == ConsultationStatus.OPEN


@pytest.mark.parametrize(("position", "comment"), [(Position.AGREE, ""),
                                                   (Position.AGREE_WITH_COMMENTS, "Lưu ý phương án thoát nước")])
@pytest.mark.parametrize("lead", ["head", "deputy"])
def test_the_submission_passes_once_the_required_consultee_agrees(city, consulting, case, answering_day,
                                                                  position, comment, lead):
    [consultation] = consulting.ask(case)
    consulting.answer(consultation, position, comment)
    assert_submitted(city, case, lead)


def test_a_non_required_consultation_still_open_does_not_hold_the_submission(city, consulting, case, answering_day):
    [required, outsider] = consulting.ask(case, city.consulted, city.outsider, justification="Vốn ngân sách")
    consulting.answer(required)
    assert_submitted(city, case)
    outsider.refresh_from_db()
    assert outsider.status == ConsultationStatus.OPEN


def test_a_disagreement_without_reconciliation_holds_the_submission(city, consulting, case, answering_day):
    [consultation] = consulting.ask(case)
    consulting.disagree(consultation)
    refusal = assert_gate(city, case, "unresolved_disagreement")
    assert city.consulted.name in refusal.detail
    assert refusal.payload == {"consultations": [consultation.pk]}


def test_a_non_required_consultee_disagreeing_holds_the_submission_too(city, consulting, case, answering_day):
    [required, outsider] = consulting.ask(case, city.consulted, city.outsider, justification="Vốn ngân sách")
    consulting.answer(required)
    consulting.disagree(outsider, "Chưa bố trí được nguồn vốn")
    refusal = assert_gate(city, case, "unresolved_disagreement")
    assert refusal.payload == {"consultations": [outsider.pk]}


def test_a_later_round_that_agrees_supersedes_the_disagreement(city, consulting, case, answering_day):
    [first] = consulting.ask(case)
    consulting.disagree(first)
    [second] = consulting.ask(case, question="Đã bổ sung đánh giá tác động môi trường, đề nghị cho ý kiến lại")
    assert_gate(city, case, "consultations_pending")  # the new round is awaited, not the old answer
    consulting.answer(second, Position.AGREE)
    assert_submitted(city, case)
    assert not Reconciliation.objects.exists()


def test_a_later_round_that_disagrees_supersedes_the_agreement(city, consulting, case, answering_day):
    [first] = consulting.ask(case)
    consulting.answer(first, Position.AGREE)
    [second] = consulting.ask(case, question="Phương án đã thay đổi, đề nghị cho ý kiến lại")
    consulting.disagree(second)
    refusal = assert_gate(city, case, "unresolved_disagreement")
    assert refusal.payload == {"consultations": [second.pk]}


@pytest.fixture
def disagreement(consulting, case, answering_day):
    [consultation] = consulting.ask(case)
    return consulting.disagree(consultation)


@pytest.mark.parametrize("lead", ["head", "deputy"])
def test_a_lead_reconciles_then_submits_and_the_city_office_approves(city, case, disagreement, clock, lead):
    case.refresh_from_db()
    actor, version = city.user(lead), case.version
    reconciliation = case_reconcile(case=case, actor=actor, consultation=disagreement, note=SETTLED,
                                    expected_version=version)

    reconciliation.refresh_from_db()
    assert (reconciliation.consultation, reconciliation.note, reconciliation.recorded_by) == (
        disagreement, SETTLED, actor)
    assert (reconciliation.settled_on, reconciliation.attachment) == (D(2026, 5, 4), None)
    case.refresh_from_db()
    assert (case.status, case.version) == (Status.IN_PROGRESS, version + 1)
    event = case.events.get(action=EventAction.RECONCILED)
    assert (event.actor, event.note, event.from_status, event.to_status) == (
        actor, SETTLED, Status.IN_PROGRESS, Status.IN_PROGRESS)
    assert event.payload == {"consultation": disagreement.pk, "settled_on": "2026-05-04", "attachment": None}
    disagreement.refresh_from_db()
    assert (disagreement.status, disagreement.position) == (ConsultationStatus.ANSWERED, Position.DISAGREE)

    assert_submitted(city, case)
    case_decide(case=case, actor=city.user("city_office"), outcome=Outcome.APPROVED, note="Phê duyệt dự án")
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.RESOLVED, Outcome.APPROVED)


def test_a_reconciliation_keeps_its_date_and_the_minutes(city, case, disagreement, media_root):
    minutes = attachment_add(case=case, actor=city.user("specialist"), upload=pdf_upload("bien-ban-hop.pdf"))
    reconciliation = case_reconcile(case=case, actor=city.user("head"), consultation=disagreement, note=SETTLED,
                                    settled_on=D(2026, 4, 30), attachment=minutes)
    reconciliation.refresh_from_db()
    assert (reconciliation.settled_on, reconciliation.attachment) == (D(2026, 4, 30), minutes)
    assert case.events.get(action=EventAction.RECONCILED).payload["attachment"] == minutes.pk
    assert_submitted(city, case)


def test_a_specialist_does_not_reconcile(city, case, disagreement):
    assert_consult_denied(case_reconcile, case=case, actor=city.user("specialist"), consultation=disagreement,
                          note=SETTLED)


@pytest.mark.parametrize("role", ["consulted_head", "outsider_head"])
def test_another_unit_does_not_reconcile(city, case, disagreement, role):
    assert_consult_refused(case_reconcile, code="not_owner", attempted="reconcile", case=case,
                           actor=city.user(role), consultation=disagreement, note=SETTLED)


def test_only_a_disagreement_is_reconciled(city, consulting, case, answering_day):
    [agreement] = consulting.ask(case)
    consulting.answer(agreement, Position.AGREE_WITH_COMMENTS, "Lưu ý tiến độ")
    assert_consult_invalid(case_reconcile, "consultation", case=case, actor=city.user("head"),
                           consultation=agreement, note=SETTLED)


def test_an_open_consultation_is_not_reconciled(city, consulting, case):
    [consultation] = consulting.ask(case)
    assert_consult_invalid(case_reconcile, "consultation", case=case, actor=city.user("head"),
                           consultation=consultation, note=SETTLED)


def test_a_disagreement_on_another_case_is_not_reconciled_here(city, consulting, case, disagreement):
    other = consulting.case()
    [elsewhere] = consulting.ask(other)
    consulting.disagree(elsewhere)
    assert_consult_invalid(case_reconcile, "consultation", case=case, actor=city.user("head"),
                           consultation=elsewhere, note=SETTLED)
    assert_consult_invalid(case_reconcile, "consultation", case=other, actor=city.user("head"),
                           consultation=disagreement, note=SETTLED)


def test_a_disagreement_is_reconciled_once(city, case, disagreement):
    case_reconcile(case=case, actor=city.user("head"), consultation=disagreement, note=SETTLED)
    assert_consult_invalid(case_reconcile, "consultation", case=case, actor=city.user("deputy"),
                           consultation=disagreement, note="Lần hai")
    assert Reconciliation.objects.get().recorded_by == city.user("head")


def test_a_settlement_date_is_not_in_the_future(city, case, disagreement):
    assert_consult_invalid(case_reconcile, "settled_on", case=case, actor=city.user("head"),
                           consultation=disagreement, note=SETTLED, settled_on=D(2026, 5, 5))


def test_the_minutes_belong_to_the_same_case(city, consulting, case, disagreement, media_root):
    other = consulting.case()
    foreign = attachment_add(case=other, actor=city.user("specialist"), upload=pdf_upload())
    assert_consult_invalid(case_reconcile, "attachment", case=case, actor=city.user("head"),
                           consultation=disagreement, note=SETTLED, attachment=foreign)


def test_each_disagreement_needs_its_own_reconciliation(city, consulting, case, answering_day):
    [required, outsider] = consulting.ask(case, city.consulted, city.outsider, justification="Vốn ngân sách")
    consulting.disagree(required)
    consulting.disagree(outsider, "Chưa bố trí được nguồn vốn")
    case_reconcile(case=case, actor=city.user("head"), consultation=required, note=SETTLED)
    refusal = assert_gate(city, case, "unresolved_disagreement")
    assert refusal.payload == {"consultations": [outsider.pk]}
    case_reconcile(case=case, actor=city.user("deputy"), consultation=outsider, note="Đã bố trí vốn năm 2027")
    assert_submitted(city, case)
    assert Consultation.unscoped.filter(case=case, status=ConsultationStatus.ANSWERED).count() == 2


def test_the_stored_answer_counts_not_the_callers_copy(city, consulting, case, answering_day):
    [asked] = consulting.ask(case)  # the copy the owner holds was read before the answer came
    consulting.disagree(asked)
    assert asked.position == ""
    reconciliation = case_reconcile(case=case, actor=city.user("head"), consultation=asked, note=SETTLED)
    assert reconciliation.consultation_id == asked.pk
    assert_submitted(city, case)
