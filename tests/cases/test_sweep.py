"""The overdue sweep: flags, notices, clearing, silence, idempotency (DESIGN.md §2 rule 9, §3).

The world: complaints take 3 working days; appraisals ask the outsider department (not required, with a
justification) or the consulted department (required) for an opinion in 3 working days. The sweep runs at
10:00 on Friday 9 October 2026 unless a test says otherwise, when

- a complaint received Monday 5 October (due Thursday 8) is overdue,
- a complaint received Tuesday 6 October (due Friday 9) is due soon,
- an opinion asked Monday 5 October (due Thursday 8) is overdue,
- an opinion asked Wednesday 7 October (due Monday 12, the next working day) is due soon.
"""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from cases.deadlines import flag_overdue
from cases.models import (
    Case,
    CaseEvent,
    Consultation,
    ConsultationStatus,
    DeadlineFlag,
    EventAction,
    MailState,
    NoticeKind,
    Notification,
    Position,
)
from cases.services import (
    case_accept,
    case_assign,
    case_consult,
    case_extend,
    case_resolve,
    consultation_assign,
    consultation_respond,
)
from departments.models import AuthorityRule, CaseType
from tests.support.cases import Mark, mark_of
from tests.support.world import local_datetime

D = dt.date
SWEEP = local_datetime(2026, 10, 9, 10)
MONDAY, TUESDAY, WEDNESDAY = D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 7)
DEADLINE_KINDS = [NoticeKind.OVERDUE, NoticeKind.DUE_SOON]


@pytest.fixture
def complaint(city):
    kind = CaseType.objects.create(code="citizen-complaint", name="Giải quyết kiến nghị của công dân",
                                   processing_days=3)
    AuthorityRule.objects.create(case_type=kind, owner=city.owner, legal_basis="Nghị định 61/2018/NĐ-CP, Điều 19")
    return kind


class World:
    """Cases and opinions logged, accepted and asked through the services, each on its own day."""

    def __init__(self, city, log_case, clock, complaint, appraisal_type):
        self.city, self.log_case, self.clock = city, log_case, clock
        self.complaint, self.appraisal = complaint, appraisal_type

    def case(self, received: dt.date, *, handler="specialist", **fields) -> Case:
        """A complaint received at 09:00 on `received` and accepted by `handler` (its assignee)."""
        at = self.clock.set(local_datetime(received.year, received.month, received.day, 9))
        case = self.log_case(case_type=fields.pop("case_type", self.complaint), received_at=at, **fields)
        self.clock.set(at + dt.timedelta(minutes=30))
        return case_accept(case=case, actor=self.city.user(handler))

    def consultation(self, asked: dt.date, *, required=False, assignee: str | None = None) -> Consultation:
        """An opinion asked at 10:00 on `asked` on a fresh appraisal (whose own 15 days stay far off)."""
        case = self.case(asked, case_type=self.appraisal)
        self.clock.set(local_datetime(asked.year, asked.month, asked.day, 10))
        unit = self.city.consulted if required else self.city.outsider
        [consultation] = case_consult(case=case, actor=self.city.user("specialist"), departments=[unit],
                                      question="Đề nghị cho ý kiến thẩm định",
                                      justification="" if required else "Dự án sử dụng vốn ngân sách thành phố")
        assert consultation.required is required
        if assignee:
            head = "consulted_head" if required else "outsider_head"
            consultation = consultation_assign(consultation=consultation, actor=self.city.user(head),
                                               assignee=self.city.user(assignee))
        return consultation


@pytest.fixture
def world(city, log_case, clock, complaint, appraisal_type):
    return World(city, log_case, clock, complaint, appraisal_type)


@pytest.fixture
def items(world):
    """One of each: overdue case, due-soon case, overdue opinion (assigned), due-soon opinion (unassigned)."""
    return {
        "late_case": world.case(MONDAY),
        "soon_case": world.case(TUESDAY),
        "late_opinion": world.consultation(MONDAY, assignee="outsider_specialist"),
        "soon_opinion": world.consultation(WEDNESDAY),
    }


def sweep(clock, moment=SWEEP) -> str:
    clock.set(moment)
    out = io.StringIO()
    call_command("flag_overdue", stdout=out)
    return out.getvalue()


def deadline_notices(**filters):
    return Notification.objects.filter(kind__in=DEADLINE_KINDS, **filters)


def notice_keys(**filters) -> set:
    return {(n.recipient.username, n.kind, n.case.reference, n.consultation_id, n.on_date)
            for n in deadline_notices(**filters).select_related("recipient", "case")}


def refreshed(item):
    item.refresh_from_db()
    return item


def flags(*things) -> list[tuple]:
    return [(mark.flag, mark.due_date) for mark in map(mark_of, things)]


# --- flags and the printed counts -----------------------------------------------------------------------


def test_the_sweep_flags_cases_and_opinions_and_prints_the_counts(items, clock):
    assert [items["late_case"].due_date, items["soon_case"].due_date] == [D(2026, 10, 8), D(2026, 10, 9)]
    assert [items["late_opinion"].due_date, items["soon_opinion"].due_date] == [D(2026, 10, 8), D(2026, 10, 12)]

    output = sweep(clock)

    assert output.startswith("flagged 1 cases overdue, 1 consultations overdue, 2 due soon")
    assert flags(items["late_case"], items["soon_case"], items["late_opinion"], items["soon_opinion"]) == [
        (DeadlineFlag.OVERDUE, D(2026, 10, 8)), (DeadlineFlag.DUE_SOON, D(2026, 10, 9)),
        (DeadlineFlag.OVERDUE, D(2026, 10, 8)), (DeadlineFlag.DUE_SOON, D(2026, 10, 12))]
    assert all(mark_of(t).flagged_at == SWEEP for t in items.values())
    # The appraisals the opinions belong to are due on 26 and 28 October: not this sweep's business.
    assert Case.unscoped.filter(deadline_mark__isnull=False).count() == 2


def test_a_second_run_flags_nothing_new_and_prints_zeros(items, clock):
    sweep(clock)
    before = list(Notification.objects.order_by("id").values())
    flagged_at = [mark_of(t).flagged_at for t in items.values()]

    again = sweep(clock, SWEEP + dt.timedelta(minutes=5))

    assert again.startswith("flagged 0 cases overdue, 0 consultations overdue, 0 due soon")
    assert "; 0 notifications" in again
    assert list(Notification.objects.order_by("id").values()) == before
    assert [mark_of(t).flagged_at for t in items.values()] == flagged_at


def test_the_sweep_does_not_touch_the_case_version(items, clock):
    cases = [items["late_case"], items["soon_case"], items["late_opinion"].case]
    versions = [refreshed(c).version for c in cases]

    sweep(clock)
    sweep(clock, local_datetime(2026, 10, 12, 10))  # the due-soon case turns overdue

    assert [refreshed(c).version for c in cases] == versions


def test_finished_work_is_not_flagged(world, city, clock):
    resolved = world.case(MONDAY)
    clock.set(local_datetime(2026, 10, 6, 11))
    case_resolve(case=resolved, actor=city.user("head"), note="Đã trả lời công dân")
    answered = world.consultation(MONDAY)
    clock.set(local_datetime(2026, 10, 6, 11))
    consultation_respond(consultation=answered, actor=city.user("outsider_specialist"), position=Position.AGREE)

    assert sweep(clock).startswith("flagged 0 cases overdue, 0 consultations overdue, 0 due soon")
    assert flags(resolved, answered) == [("", None), ("", None)]


# --- constant cost --------------------------------------------------------------------------------------


def test_the_statement_count_is_the_same_for_3_and_for_30_flagged_items(world):
    def batch(received: dt.date, size: int):
        for _ in range(size):
            world.case(received)
            world.consultation(received)
            world.consultation(received, required=True)  # silent: deemed agreed

    def count_statements(moment) -> tuple[int, tuple[int, int]]:
        with CaptureQueriesContext(connection) as queries:
            result = flag_overdue(now=moment)
        return len(queries), (result.cases_overdue + result.consultations_overdue, result.deemed_agreed)

    # Django probes SQLite's JSON support once per connection, on first use: not the sweep's statement.
    assert connection.features.supports_json_field
    batch(MONDAY, 3)  # due Thursday 8 October
    small, done_small = count_statements(SWEEP)
    batch(D(2026, 10, 12), 30)  # due Thursday 15 October; the first batch stays flagged as it was
    large, done_large = count_statements(local_datetime(2026, 10, 16, 10))

    assert (done_small, done_large) == ((6, 3), (60, 30))
    # Each case tells its assignee and head, each unassigned opinion the consulted unit's head.
    assert Notification.objects.filter(kind=NoticeKind.OVERDUE).count() == 3 * 3 + 3 * 30
    assert small == large, (small, large)


# --- notices --------------------------------------------------------------------------------------------


def test_notices_go_to_the_assignee_and_the_head_of_the_unit_that_owes_the_work(items, clock):
    sweep(clock)

    late, soon = items["late_case"].reference, items["soon_case"].reference
    late_opinion, soon_opinion = items["late_opinion"], items["soon_opinion"]
    assert notice_keys() == {
        ("specialist", "overdue", late, None, D(2026, 10, 8)),
        ("head", "overdue", late, None, D(2026, 10, 8)),
        ("specialist", "due_soon", soon, None, D(2026, 10, 9)),
        ("head", "due_soon", soon, None, D(2026, 10, 9)),
        # Opinions: the consulted unit's assignee and head, never the asking unit's people.
        ("outsider_specialist", "overdue", late_opinion.case.reference, late_opinion.pk, D(2026, 10, 8)),
        ("outsider_head", "overdue", late_opinion.case.reference, late_opinion.pk, D(2026, 10, 8)),
        ("outsider_head", "due_soon", soon_opinion.case.reference, soon_opinion.pk, D(2026, 10, 12)),
    }
    assert set(deadline_notices().values_list("mail_state", flat=True)) == {MailState.PENDING}
    assert not deadline_notices(read_at__isnull=False).exists()


def test_late_work_reassigned_is_notified_to_the_new_assignee_and_not_again_to_the_head(items, city, clock):
    sweep(clock)
    case, opinion = items["late_case"], items["late_opinion"]
    clock.set(SWEEP + dt.timedelta(minutes=1))
    case_assign(case=refreshed(case), actor=city.user("head"), assignee=city.user("deputy"))
    consultation_assign(consultation=opinion, actor=city.user("outsider_head"),
                        assignee=city.user("outsider_head"))

    output = sweep(clock, SWEEP + dt.timedelta(minutes=5))

    assert output.startswith("flagged 1 cases overdue, 1 consultations overdue, 0 due soon")
    assert notice_keys(case=case) == {("specialist", "overdue", case.reference, None, D(2026, 10, 8)),
                                      ("head", "overdue", case.reference, None, D(2026, 10, 8)),
                                      ("deputy", "overdue", case.reference, None, D(2026, 10, 8))}
    # The outsider's head took it on himself: already told, he is not told twice.
    assert notice_keys(consultation=opinion) == {
        ("outsider_specialist", "overdue", opinion.case.reference, opinion.pk, D(2026, 10, 8)),
        ("outsider_head", "overdue", opinion.case.reference, opinion.pk, D(2026, 10, 8))}


def test_the_sweep_mails_each_notice_once_after_commit(items, city, clock, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sweep(clock)

    assert set(Notification.objects.values_list("mail_state", flat=True)) == {MailState.SENT}
    # The 7 deadline notices, and what was still pending from before: the opinion's assignment, and the hand-offs
    # of the set-up (the cases routed to their unit, the opinions requested), to the units' leads.
    assert len(mailoutbox) == Notification.objects.count()
    assert deadline_notices().count() == 7
    head = city.user("head")
    late, soon = items["late_case"].reference, items["soon_case"].reference
    assert sorted(deadline_notices(recipient=head).values_list("case__reference", flat=True)) == sorted([late, soon])
    assert len([m for m in mailoutbox if m.to == [head.email]]) == Notification.objects.filter(recipient=head).count()
    mailed = len(mailoutbox)

    with django_capture_on_commit_callbacks(execute=True):
        sweep(clock, SWEEP + dt.timedelta(minutes=5))
    assert len(mailoutbox) == mailed == Notification.objects.count()  # nothing new, nothing mailed twice


def test_a_head_who_handles_the_case_gets_one_notice(world, clock):
    case = world.case(MONDAY, handler="head")
    assert case.assignee.username == "head"

    sweep(clock)

    assert notice_keys() == {("head", "overdue", case.reference, None, D(2026, 10, 8))}


def test_inactive_users_get_no_notice(items, city, clock):
    for username in ("specialist", "outsider_head"):
        user = city.user(username)
        user.is_active = False
        user.save(update_fields=["is_active"])

    sweep(clock)

    recipients = set(deadline_notices().values_list("recipient__username", flat=True))
    assert recipients == {"head", "outsider_specialist"}
    assert deadline_notices(recipient__username="head").count() == 2
    assert deadline_notices(recipient__username="outsider_specialist").count() == 1


def test_users_without_email_get_notices_that_are_never_mailed(items, city, clock):
    head = city.user("head")
    head.email = ""
    head.save(update_fields=["email"])

    sweep(clock)

    assert set(deadline_notices(recipient=head).values_list("mail_state", flat=True)) == {MailState.NONE}
    assert deadline_notices(recipient=head).count() == 2
    assert set(deadline_notices(recipient=city.user("specialist")).values_list("mail_state", flat=True)) == {
        MailState.PENDING}


# --- flags follow the work ------------------------------------------------------------------------------


def test_resolving_a_flagged_case_clears_its_flag(items, city, clock):
    case = items["late_case"]
    sweep(clock)
    clock.set(SWEEP + dt.timedelta(hours=1))
    case_resolve(case=case, actor=city.user("head"), note="Đã trả lời công dân")

    output = sweep(clock, SWEEP + dt.timedelta(hours=2))

    assert "cleared 1;" in output
    assert mark_of(case) == Mark("", None, None)
    assert deadline_notices(case=case).count() == 2  # the notices stay: they are what people were told


def test_answering_a_flagged_opinion_clears_its_flag(items, city, clock):
    opinion = items["late_opinion"]
    sweep(clock)
    clock.set(SWEEP + dt.timedelta(hours=1))
    consultation_respond(consultation=opinion, actor=city.user("outsider_specialist"), position=Position.AGREE)

    assert "cleared 1;" in sweep(clock, SWEEP + dt.timedelta(hours=2))
    assert flags(opinion) == [("", None)]


def test_a_deadline_moved_by_hand_clears_the_flag(items, clock):
    case = items["late_case"]
    sweep(clock)

    Case.unscoped.filter(pk=case.pk).update(due_date=D(2026, 10, 30))
    output = sweep(clock, SWEEP + dt.timedelta(minutes=5))

    assert output.startswith("flagged 0 cases overdue")
    assert "cleared 1;" in output
    assert flags(case) == [("", None)]


def test_an_extended_deadline_clears_the_flag_and_warns_again_when_it_comes_near(world, city, clock):
    case = world.case(TUESDAY)  # due Friday 9 October
    sweep(clock, local_datetime(2026, 10, 8, 10))
    assert flags(case) == [(DeadlineFlag.DUE_SOON, D(2026, 10, 9))]

    clock.set(local_datetime(2026, 10, 8, 11))
    case = case_extend(case=refreshed(case), actor=city.user("head"), due_date=D(2026, 10, 14),
                       reason="Chờ kết quả kiểm tra hiện trường")  # its own three working days more, the most
    version = case.version

    # Moving the date drops the mark at once (the services' save_case does it), so the sweep has nothing to clear.
    assert flags(case) == [("", None)]
    assert "cleared 0;" in sweep(clock, local_datetime(2026, 10, 8, 12))
    assert flags(case) == [("", None)]
    assert sweep(clock, local_datetime(2026, 10, 12, 10)).startswith(
        "flagged 0 cases overdue, 0 consultations overdue, 0 due soon")

    # Tuesday 13 October: the new date is the next working day, which is news again.
    assert sweep(clock, local_datetime(2026, 10, 13, 10)).startswith(
        "flagged 0 cases overdue, 0 consultations overdue, 1 due soon")
    assert flags(case) == [(DeadlineFlag.DUE_SOON, D(2026, 10, 14))]
    assert sorted(deadline_notices(case=case, recipient__username="specialist").values_list("kind", "on_date")) == [
        (NoticeKind.DUE_SOON, D(2026, 10, 9)), (NoticeKind.DUE_SOON, D(2026, 10, 14))]
    assert refreshed(case).version == version


def test_due_soon_turns_overdue_the_next_day_with_a_new_notice(items, clock):
    case = items["soon_case"]
    sweep(clock)

    output = sweep(clock, local_datetime(2026, 10, 12, 0, 5))  # Monday, after the due Friday ended

    # The opinion due soon on Friday is due today: already flagged so, nothing new about it.
    assert output.startswith("flagged 1 cases overdue, 0 consultations overdue, 0 due soon")
    assert flags(case) == [(DeadlineFlag.OVERDUE, D(2026, 10, 9))]
    assert sorted(deadline_notices(case=case, consultation=None).values_list("recipient__username", "kind")) == [
        ("head", "due_soon"), ("head", "overdue"), ("specialist", "due_soon"), ("specialist", "overdue")]

    output = sweep(clock, local_datetime(2026, 10, 13, 0, 5))
    assert output.startswith("flagged 0 cases overdue, 1 consultations overdue, 0 due soon")


# --- silence means agreement ----------------------------------------------------------------------------


def test_required_opinions_past_their_deadline_are_deemed_agreed(world, clock):
    silent = [world.consultation(MONDAY, required=True), world.consultation(MONDAY, required=True)]
    optional = world.consultation(MONDAY)
    not_yet = world.consultation(WEDNESDAY, required=True)  # due Monday 12: not past its deadline

    output = sweep(clock)

    assert "; 2 consultations deemed agreed" in output
    assert output.startswith("flagged 0 cases overdue, 1 consultations overdue, 1 due soon")
    assert [refreshed(c).status for c in silent] == [ConsultationStatus.DEEMED_AGREED] * 2
    assert all(c.deemed_agreed_at == SWEEP for c in silent)
    for consultation in silent:
        [event] = CaseEvent.objects.filter(case=consultation.case, action=EventAction.DEEMED_AGREED)
        assert event.actor is None
        assert event.payload["consultation"] == consultation.pk
        assert event.from_department_id == consultation.department_id
    # Deemed, not late: no overdue flag and no overdue notice for a silence that has been settled.
    assert flags(*silent) == [("", None), ("", None)]
    assert not deadline_notices(consultation__in=silent).exists()
    assert refreshed(optional).status == ConsultationStatus.OPEN
    assert flags(optional) == [(DeadlineFlag.OVERDUE, D(2026, 10, 8))]
    assert (refreshed(not_yet).status, mark_of(not_yet).flag) == (ConsultationStatus.OPEN, DeadlineFlag.DUE_SOON)

    assert "; 0 consultations deemed agreed" in sweep(clock, SWEEP + dt.timedelta(minutes=5))
    assert CaseEvent.objects.filter(action=EventAction.DEEMED_AGREED).count() == 2

    # Tuesday 13 October: the one that was due soon is past its deadline now; deemed, its warning withdrawn.
    later = sweep(clock, local_datetime(2026, 10, 13, 10))
    assert "cleared 1; 1 consultations deemed agreed" in later
    assert (refreshed(not_yet).status, mark_of(not_yet).flag) == (ConsultationStatus.DEEMED_AGREED, "")
    assert CaseEvent.objects.filter(action=EventAction.DEEMED_AGREED).count() == 3


def test_without_silence_as_agreement_a_silent_required_opinion_is_overdue(world, clock, settings):
    settings.CONSULTATION_SILENCE_MEANS_AGREEMENT = False
    silent = world.consultation(MONDAY, required=True)

    output = sweep(clock)

    assert "; 0 consultations deemed agreed" in output
    assert output.startswith("flagged 0 cases overdue, 1 consultations overdue, 0 due soon")
    assert refreshed(silent).status == ConsultationStatus.OPEN
    assert mark_of(silent).flag == DeadlineFlag.OVERDUE
    assert not CaseEvent.objects.filter(action=EventAction.DEEMED_AGREED).exists()
    assert notice_keys() == {("consulted_head", "overdue", silent.case.reference, silent.pk, D(2026, 10, 8))}


# --- the constraints behind "once per item" -------------------------------------------------------------


def test_the_database_refuses_a_second_deadline_notice_for_the_same_case(items, city):
    case, head = items["late_case"], city.user("head")
    Notification.objects.create(recipient=head, kind=NoticeKind.OVERDUE, case=case, on_date=case.due_date)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=head, kind=NoticeKind.OVERDUE, case=case, on_date=case.due_date)
    # Another kind, or another due date, is another notice.
    Notification.objects.create(recipient=head, kind=NoticeKind.DUE_SOON, case=case, on_date=case.due_date)
    Notification.objects.create(recipient=head, kind=NoticeKind.OVERDUE, case=case, on_date=D(2026, 10, 30))


def test_the_database_refuses_a_second_deadline_notice_for_the_same_opinion(items, city):
    opinion, head = items["late_opinion"], city.user("outsider_head")
    fields = {"recipient": head, "kind": NoticeKind.OVERDUE, "case": opinion.case, "consultation": opinion,
              "on_date": opinion.due_date}
    Notification.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(**fields)


def test_the_database_refuses_a_second_digest_the_same_day(city):
    head = city.user("head")
    Notification.objects.create(recipient=head, kind=NoticeKind.DIGEST, on_date=D(2026, 10, 9))
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=head, kind=NoticeKind.DIGEST, on_date=D(2026, 10, 9))
    Notification.objects.create(recipient=head, kind=NoticeKind.DIGEST, on_date=D(2026, 10, 12))
