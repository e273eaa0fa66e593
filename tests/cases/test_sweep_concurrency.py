"""Two overdue sweeps at once on PostgreSQL: every item flagged once, one notice each.

Two Celery workers may run the sweep at the same moment (beat fires, a worker restarts, an admin runs
`flag_overdue` by hand). The UPDATEs re-check their own condition on the rows they lock and the notices'
unique constraints absorb repeats, so between them the two runs flag each item exactly once and write one
notice per person, item and kind, whichever of them gets there first.
"""

import datetime as dt
from collections import Counter

import pytest

from cases.deadlines import flag_overdue
from cases.models import (
    Case,
    CaseEvent,
    Consultation,
    ConsultationStatus,
    DeadlineFlag,
    EventAction,
    NoticeKind,
    Notification,
)
from cases.services import case_accept, case_consult, consultation_assign
from departments.models import AuthorityRule, CaseType
from tests.support.concurrency import run_together, skip_unless_postgres
from tests.support.world import local_datetime

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
D = dt.date
SWEEP = local_datetime(2026, 10, 9, 10)  # Friday 9 October 2026
MONDAY, TUESDAY = D(2026, 10, 5), D(2026, 10, 6)
OVERDUE_CASES, DUE_SOON_CASES, OVERDUE_OPINIONS, ASSIGNED_OPINIONS, SILENT_OPINIONS = 8, 6, 6, 3, 4


@pytest.fixture(autouse=True)
def needs_postgres():
    skip_unless_postgres("two sweeps can only race on PostgreSQL")


@pytest.fixture
def work(city, log_case, clock, appraisal_type):
    """Fresh late and due-soon work on the Friday: cases of the owner, opinions owed by two other units."""
    complaint = CaseType.objects.create(code="citizen-complaint", name="Giải quyết kiến nghị của công dân",
                                        processing_days=3)
    AuthorityRule.objects.create(case_type=complaint, owner=city.owner, legal_basis="Nghị định 61/2018/NĐ-CP")

    def accepted(day: dt.date, case_type):
        at = clock.set(local_datetime(day.year, day.month, day.day, 9))
        case = log_case(case_type=case_type, received_at=at)
        clock.set(at + dt.timedelta(minutes=30))
        return case_accept(case=case, actor=city.user("specialist"))

    def opinion(*, required: bool, assign: bool = False) -> Consultation:
        case = accepted(MONDAY, appraisal_type)  # its own 15 days run to 26 October
        unit = city.consulted if required else city.outsider
        [consultation] = case_consult(case=case, actor=city.user("specialist"), departments=[unit],
                                      question="Đề nghị cho ý kiến thẩm định",
                                      justification="" if required else "Dự án sử dụng vốn ngân sách thành phố")
        if assign:
            consultation_assign(consultation=consultation, actor=city.user("outsider_head"),
                                assignee=city.user("outsider_specialist"))
        return consultation

    return {
        "overdue_cases": [accepted(MONDAY, complaint) for _ in range(OVERDUE_CASES)],  # due Thursday 8
        "due_soon_cases": [accepted(TUESDAY, complaint) for _ in range(DUE_SOON_CASES)],  # due Friday 9
        "overdue_opinions": [opinion(required=False, assign=i < ASSIGNED_OPINIONS) for i in range(OVERDUE_OPINIONS)],
        "silent_opinions": [opinion(required=True) for _ in range(SILENT_OPINIONS)],
    }


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_sweeps_at_once_flag_each_item_once_with_one_notice_each(work, round_):
    flagged_items = OVERDUE_CASES + DUE_SOON_CASES + OVERDUE_OPINIONS
    assert flagged_items + SILENT_OPINIONS >= 20
    # Two workers read the clock a moment apart; in odd rounds, the very same moment.
    moments = [SWEEP, SWEEP + dt.timedelta(milliseconds=round_ % 2)]

    results = run_together(*[lambda moment=moment: flag_overdue(now=moment) for moment in moments])

    totals = Counter()
    for result in results:
        totals.update(cases_overdue=result.cases_overdue, cases_due_soon=result.cases_due_soon,
                      consultations_overdue=result.consultations_overdue,
                      consultations_due_soon=result.consultations_due_soon, deemed_agreed=result.deemed_agreed,
                      notices=result.notices)
    expected_notices = 2 * OVERDUE_CASES + 2 * DUE_SOON_CASES + OVERDUE_OPINIONS + ASSIGNED_OPINIONS
    assert dict(totals) == {"cases_overdue": OVERDUE_CASES, "cases_due_soon": DUE_SOON_CASES,
                            "consultations_overdue": OVERDUE_OPINIONS, "consultations_due_soon": 0,
                            "deemed_agreed": SILENT_OPINIONS, "notices": expected_notices}

    overdue_case_ids = [c.pk for c in work["overdue_cases"]]
    assert set(Case.unscoped.filter(pk__in=overdue_case_ids).values_list("deadline_mark__flag", flat=True)) == {
        DeadlineFlag.OVERDUE}
    assert set(Case.unscoped.filter(pk__in=[c.pk for c in work["due_soon_cases"]])
               .values_list("deadline_mark__flag", flat=True)) == {DeadlineFlag.DUE_SOON}
    assert set(Consultation.unscoped.filter(pk__in=[c.pk for c in work["overdue_opinions"]])
               .values_list("deadline_mark__flag", flat=True)) == {DeadlineFlag.OVERDUE}
    silent = Consultation.unscoped.filter(pk__in=[c.pk for c in work["silent_opinions"]])
    assert set(silent.values_list("status", flat=True)) == {ConsultationStatus.DEEMED_AGREED}
    assert CaseEvent.objects.filter(action=EventAction.DEEMED_AGREED).count() == SILENT_OPINIONS

    notices = Notification.objects.filter(kind__in=[NoticeKind.OVERDUE, NoticeKind.DUE_SOON])
    per_key = Counter(notices.values_list("recipient_id", "case_id", "consultation_id", "kind"))
    assert len(per_key) == expected_notices
    assert set(per_key.values()) == {1}
    # Each item's people: both sweeps' rows together name them once.
    assert Counter(notices.values_list("recipient__username", flat=True)) == {
        "specialist": OVERDUE_CASES + DUE_SOON_CASES, "head": OVERDUE_CASES + DUE_SOON_CASES,
        "outsider_head": OVERDUE_OPINIONS, "outsider_specialist": ASSIGNED_OPINIONS}

    # And a third sweep afterwards has nothing left to do.
    again = flag_overdue(now=SWEEP + dt.timedelta(minutes=5))
    assert (again.cases_overdue, again.cases_due_soon, again.consultations_overdue, again.notices) == (0, 0, 0, 0)
