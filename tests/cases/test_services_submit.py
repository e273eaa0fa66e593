"""Submission to the City Committee and its decision (DESIGN.md §2 rules 2 and 4, §4)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cases.models import EventAction, Outcome, Status, Submission
from cases.services import case_decide, case_propose, case_resolve, case_submit, pending_submissions
from departments.models import AuthorityRule, CaseType, DecisionLevel
from tests.support.cases import assert_denied, assert_refused, footprint, last_event_id

SUMMARY = "Tờ trình số 45/TTr-SXD về điều chỉnh quy hoạch khu đô thị"


def test_the_head_submits_a_city_level_matter(city, stages):
    case = stages.city_level_in_progress()
    head = city.user("head")
    case_submit(case=case, actor=head, summary=SUMMARY, expected_version=case.version)
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    assert case.assignee == city.user("specialist")
    submission = Submission.objects.get(case=case)
    assert (submission.department, submission.submitted_by, submission.summary) == (city.owner, head, SUMMARY)
    assert (submission.outcome, submission.decided_by, submission.decided_at) == ("", None, None)
    assert list(pending_submissions(city.user("city_office"))) == [submission]
    event = case.events.get(action=EventAction.SUBMITTED)
    assert (event.actor, event.note, event.from_department) == (head, SUMMARY, city.owner)
    assert (event.from_status, event.to_status) == (Status.IN_PROGRESS, Status.SUBMITTED)


def test_a_chairman_level_matter_is_submitted_too(city, stages):
    kind = CaseType.objects.create(code="key-project", name="Chủ trương đầu tư dự án trọng điểm", processing_days=10)
    AuthorityRule.objects.create(case_type=kind, owner=city.owner, decision_level=DecisionLevel.CHAIRMAN)
    case = stages.in_progress(case_type=kind)
    assert case_submit(case=case, actor=city.user("deputy"), summary=SUMMARY).status == Status.SUBMITTED


def test_a_department_level_matter_cannot_be_submitted(city, stages):
    case = stages.in_progress()
    refusal = assert_refused(case_submit, code="within_own_authority", attempted="submit", case=case,
                             actor=city.user("head"), summary="Xin ý kiến UBND thành phố")
    assert "Luật Xây dựng 2014, Điều 103" in refusal.detail
    assert not Submission.objects.exists()


@pytest.mark.parametrize("outcome", [Outcome.APPROVED, Outcome.REJECTED])
def test_a_final_decision_resolves_the_case_with_its_outcome(city, stages, outcome):
    case = stages.submitted()
    office = city.user("city_office")
    case_decide(case=case, actor=office, outcome=outcome, note="Theo Kết luận số 7/KL-UBND",
                expected_version=case.version)
    case.refresh_from_db()
    assert (case.status, case.outcome, case.resolution) == (Status.RESOLVED, outcome, "Theo Kết luận số 7/KL-UBND")
    assert case.resolved_at is not None
    submission = Submission.objects.get(case=case)
    assert (submission.outcome, submission.decided_by, submission.decision_note) == (
        outcome, office, "Theo Kết luận số 7/KL-UBND")
    assert submission.decided_at == case.resolved_at
    assert not pending_submissions(city.user("city_office")).exists()
    event = case.events.get(action=EventAction.DECIDED)
    assert (event.actor, event.from_status, event.to_status) == (office, Status.SUBMITTED, Status.RESOLVED)
    assert event.payload == {"outcome": outcome, "submission": submission.pk}


def test_rework_sends_the_case_back_and_it_can_be_submitted_again(city, stages):
    case = stages.submitted()
    office, head = city.user("city_office"), city.user("head")
    case_decide(case=case, actor=office, outcome=Outcome.REWORK, note="Bổ sung ý kiến Sở Tài chính")
    case.refresh_from_db()
    assert (case.status, case.outcome, case.resolved_at) == (Status.IN_PROGRESS, "", None)
    assert case.assignee == city.user("specialist")
    assert not pending_submissions(city.user("city_office")).exists()

    case_propose(case=case, actor=city.user("specialist"), note="Đã bổ sung ý kiến")
    case_submit(case=case, actor=head, summary="Tờ trình bổ sung")
    first, second = Submission.objects.filter(case=case).order_by("id")
    assert (first.outcome, second.outcome, second.summary) == (Outcome.REWORK, "", "Tờ trình bổ sung")
    assert list(pending_submissions(city.user("city_office"))) == [second]

    case_decide(case=case, actor=office, outcome=Outcome.APPROVED)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.outcome, second.outcome) == (Outcome.REWORK, Outcome.APPROVED)
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.RESOLVED, Outcome.APPROVED)
    decided = case.events.filter(action=EventAction.DECIDED).order_by("id")
    assert [e.payload["submission"] for e in decided] == [first.pk, second.pk]


def test_the_database_holds_one_pending_submission_per_case(city, stages):
    case = stages.submitted()
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(case=case, department=city.owner, submitted_by=city.user("head"),
                                  summary="Tờ trình trùng")
    assert Submission.objects.filter(case=case).count() == 1


@pytest.mark.parametrize("role", ["head", "deputy", "specialist", "clerk", "inspector", "home_affairs",
                                  "outsider_head", "consulted_head", "nobody"])
def test_only_the_city_office_records_decisions(city, stages, role):
    case = stages.submitted()
    assert_denied(case_decide, case=case, actor=city.user(role), outcome=Outcome.APPROVED)


def test_an_anonymous_user_records_no_decision(stages):
    case = stages.submitted()
    assert_denied(case_decide, case=case, actor=AnonymousUser(), outcome=Outcome.APPROVED)


def test_an_administrator_may_record_a_decision(city, stages):
    case = case_decide(case=stages.submitted(), actor=city.user("admin"), outcome=Outcome.REJECTED)
    assert (case.status, case.outcome) == (Status.RESOLVED, Outcome.REJECTED)


@pytest.mark.parametrize("outcome", ["", "maybe", "APPROVED"])
def test_a_decision_must_be_one_of_the_outcomes(city, stages, outcome):
    case = stages.submitted()
    before, last = footprint(case), last_event_id(case)
    with pytest.raises(ValidationError) as error:
        case_decide(case=case, actor=city.user("city_office"), outcome=outcome)
    assert "outcome" in error.value.message_dict
    assert footprint(case) == before
    assert last_event_id(case) == last


def test_a_city_level_matter_cannot_be_resolved_by_the_department(city, stages):
    case = stages.city_level_in_progress()
    refusal = assert_refused(case_resolve, code="invalid_transition", attempted="resolve", case=case,
                             actor=city.user("head"), note="Tự quyết")
    assert refusal.detail  # a sentence telling the head to submit instead


@pytest.mark.parametrize("lead", ["head", "deputy"])
def test_a_department_level_matter_is_resolved_by_a_lead(city, stages, lead):
    case = case_resolve(case=stages.in_progress(), actor=city.user(lead), note="Cấp phép")
    assert case.status == Status.RESOLVED


def test_a_specialist_neither_submits_nor_resolves(city, stages):
    city_level, department_level = stages.city_level_in_progress(), stages.in_progress()
    assert_denied(case_submit, case=city_level, actor=city.user("specialist"), summary=SUMMARY)
    assert_denied(case_resolve, case=department_level, actor=city.user("specialist"), note="Cấp phép")
    case_propose(case=department_level, actor=city.user("specialist"), note="Đề xuất cấp phép")
