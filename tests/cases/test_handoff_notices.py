"""A notice for every hand-off (cases.notifications.HANDOFFS): whoever must act next hears of it in the bell
and by mail, in the transaction of the move, and never the person who made it.

Routed to a unit: its head and deputies. Opinion requested: the consulted unit's head and deputies. Opinion
given or deemed given, decision or rework, supplement completed, extension, key task: the owner's assignee
and head. Returned to triage: the receiving unit's clerks. Dispute settled: both units' leads.
"""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import CaseEvent, DisputeStatus, EventAction, MailState, NoticeKind, Notification, Outcome
from cases.notifications import headline, notify_handoff, send_pending_mail
from cases.services import (
    case_complete_supplement,
    case_dispute,
    case_extend,
    case_return,
    case_route,
    case_set_key_task,
    case_transfer,
    dispute_settle,
)
from cases.services.consultations import deem_silent_consultations_agreed
from core.models import MailChoice
from departments.models import Role
from tests.support.cases import forget_notices
from tests.support.world import local_datetime, make_user


def told(kind, case=None) -> list[str]:
    """Who got a notice of this kind (about this case), by username, sorted."""
    notices = Notification.objects.filter(kind=kind)
    if case is not None:
        notices = notices.filter(case=case)
    return sorted(notices.values_list("recipient__username", flat=True))


def test_a_case_routed_at_intake_tells_the_owners_head_and_deputy_not_the_clerk(city, log_case):
    case = log_case()

    assert told(NoticeKind.ROUTED, case) == ["deputy", "head"]
    notice = Notification.objects.get(kind=NoticeKind.ROUTED, recipient=city.user("head"))
    assert notice.event == case.events.get(action=EventAction.ROUTED)
    assert notice.mail_state == MailState.PENDING  # mailed once the intake commits


def test_a_case_sent_to_triage_tells_no_unit(stages):
    case = stages.triage()

    assert not Notification.objects.filter(case=case).exists()


def test_a_case_routed_by_a_clerk_tells_the_unit_it_goes_to(city, stages):
    case = stages.triage()

    case_route(case=case, actor=city.user("clerk"), to=city.outsider)

    assert told(NoticeKind.ROUTED, case) == ["outsider_head"]


def test_a_transfer_tells_the_receiving_units_leads_only(city, stages):
    case = stages.misrouted("in_progress")
    forget_notices()

    case_transfer(case=case, actor=city.user("head"), to=city.outsider, reason="Thuộc thẩm quyền của Sở khác")

    assert told(NoticeKind.ROUTED, case) == ["outsider_head"]
    assert Notification.objects.count() == 1


def test_a_return_tells_the_clerks_of_the_unit_that_received_the_case(city, stages):
    case = stages.misrouted()
    forget_notices()

    case_return(case=case, actor=city.user("head"), reason="Không thuộc chức năng của Sở")

    assert told(NoticeKind.BACK_TO_TRIAGE, case) == ["clerk"]


def test_an_opinion_request_tells_the_consulted_units_leads_with_their_consultation(city, consulting):
    case = consulting.case()
    forget_notices()
    consulted_deputy = make_user("consulted_deputy", department=city.consulted, role=Role.DEPUTY)

    [consultation] = consulting.ask(case)

    assert told(NoticeKind.OPINION_REQUESTED, case) == ["consulted_deputy", "consulted_head"]
    notice = Notification.objects.get(recipient=consulted_deputy)
    assert notice.consultation == consultation
    assert headline(notice).startswith(f"Đơn vị được đề nghị cho ý kiến: {case.reference}")


def test_two_units_asked_at_once_each_get_their_own_consultation(city, consulting):
    case = consulting.case()
    forget_notices()

    asked = consulting.ask(case, city.consulted, city.outsider, justification="Dự án sử dụng vốn ngân sách")

    by_unit = {c.department_id: c.pk for c in asked}
    for name, unit in (("consulted_head", city.consulted), ("outsider_head", city.outsider)):
        assert Notification.objects.get(recipient=city.user(name)).consultation_id == by_unit[unit.pk]


def test_an_answer_tells_the_assignee_and_the_owners_head_not_the_answerer(city, consulting):
    case = consulting.case()
    [consultation] = consulting.ask(case)
    forget_notices()

    consulting.answer(consultation)

    assert told(NoticeKind.OPINION_GIVEN, case) == ["head", "specialist"]


def test_silence_deemed_agreement_tells_the_owner_side_in_two_statements(city, consulting):
    cases = [consulting.case(title=f"Thẩm định dự án {n}") for n in range(3)]
    asked = [consulting.ask(case)[0] for case in cases]
    forget_notices()

    with CaptureQueriesContext(connection) as queries:
        deemed = deem_silent_consultations_agreed(today=asked[0].due_date + dt.timedelta(days=10),
                                                  now=timezone.now())

    assert deemed == 3
    for case in cases:
        assert told(NoticeKind.DEEMED_AGREED, case) == ["head", "specialist"]
    inserts = [q for q in queries if q["sql"].lstrip().upper().startswith("INSERT") and "notification" in q["sql"]]
    assert len(inserts) == 2


def test_the_committees_decision_and_a_rework_tell_the_owner_side(city, stages):
    approved, rework = stages.submitted(), stages.submitted(title="Điều chỉnh quy hoạch khu B")
    forget_notices()
    from cases.services import case_decide

    case_decide(case=approved, actor=city.user("city_office"), outcome=Outcome.APPROVED, note="Phê duyệt")
    case_decide(case=rework, actor=city.user("city_office"), outcome=Outcome.REWORK, note="Bổ sung số liệu")

    assert told(NoticeKind.DECIDED, approved) == ["head", "specialist"]
    assert told(NoticeKind.REWORK, rework) == ["head", "specialist"]
    assert not Notification.objects.filter(case=approved, kind=NoticeKind.REWORK).exists()


def test_a_completed_supplement_tells_the_head_when_the_assignee_records_it(city, stages):
    case = stages.awaiting_supplement()
    forget_notices()

    case_complete_supplement(case=case, actor=city.user("specialist"), note="Đã nhận đủ hồ sơ")

    assert told(NoticeKind.SUPPLEMENT_DONE, case) == ["head"]


def test_an_extension_and_a_key_task_tell_the_assignee(city, stages, clock):
    received = local_datetime(2025, 6, 2, 9)
    clock.set(received)
    case = stages.in_progress(received_at=received)
    clock.set(local_datetime(2025, 6, 18, 10))
    forget_notices()

    case = case_extend(case=case, actor=city.user("head"), due_date=dt.date(2025, 6, 30),
                       reason="Chờ kết quả kiểm tra hiện trạng")
    case = case_set_key_task(case=case, actor=city.user("head"), key_task=True)
    case_set_key_task(case=case, actor=city.user("head"), key_task=False)

    assert told(NoticeKind.EXTENDED, case) == ["specialist"]
    # Marking is news; taking the mark off is not.
    assert told(NoticeKind.KEY_TASK, case) == ["specialist"]
    assert Notification.objects.count() == 2


def test_a_settled_dispute_tells_the_disputing_units_leads(city, stages):
    case = stages.in_progress()
    dispute = case_dispute(case=case, actor=city.user("specialist"), reason="Quy định chưa đúng thẩm quyền")
    forget_notices()

    dispute_settle(dispute=dispute, actor=city.user("admin"), status=DisputeStatus.DISMISSED, note="Giữ quy định")

    assert told(NoticeKind.DISPUTE_SETTLED, case) == ["deputy", "head"]


def test_a_hand_off_costs_one_statement_however_many_leads_the_unit_has(city, log_case):
    case = log_case()
    event = case.events.get(action=EventAction.ROUTED)
    Notification.objects.all().delete()
    for n in range(6):
        make_user(f"deputy{n}", department=city.owner, role=Role.DEPUTY)

    with CaptureQueriesContext(connection) as queries:
        written = notify_handoff(event, case)

    assert written == 8  # the head, the deputy and the six new deputies
    assert len(queries) == 1


def test_other_events_give_no_notice(city, log_case):
    case = log_case()
    created = case.events.get(action=EventAction.CREATED)
    Notification.objects.all().delete()

    assert notify_handoff(created, case) == 0
    assert not Notification.objects.exists()


# Mail, per kind, as each person chooses ----------------------------------------------------------------------


def test_a_kind_turned_off_stays_in_the_bell_and_is_not_mailed(city, log_case, stages):
    MailChoice.objects.create(user=city.user("deputy"), kind=NoticeKind.ROUTED, mail=False)
    case = log_case()

    send_pending_mail()

    assert sorted(message.to[0] for message in mail.outbox) == ["head@example.test"]
    deputy_notice = Notification.objects.get(recipient=city.user("deputy"), case=case)
    assert (deputy_notice.kind, deputy_notice.mail_state, deputy_notice.read_at) == (
        NoticeKind.ROUTED, MailState.OFF, None)


def test_turning_one_kind_off_leaves_the_other_kinds_mailed(city, stages):
    MailChoice.objects.create(user=city.user("head"), kind=NoticeKind.ROUTED, mail=False)
    case = stages.awaiting_supplement()
    mail.outbox.clear()

    case_complete_supplement(case=case, actor=city.user("specialist"), note="Đã nhận đủ hồ sơ")
    send_pending_mail()

    head_notices = dict(Notification.objects.filter(recipient=city.user("head")).values_list("kind", "mail_state"))
    assert head_notices == {NoticeKind.ROUTED: MailState.OFF, NoticeKind.SUPPLEMENT_DONE: MailState.SENT}
    assert [message.to for message in mail.outbox if message.to == ["head@example.test"]] == [["head@example.test"]]


def test_the_event_each_notice_names_is_the_move_it_reports(city, stages):
    case = stages.misrouted()
    forget_notices()

    case_return(case=case, actor=city.user("head"), reason="Không thuộc chức năng của Sở")

    notice = Notification.objects.get()
    assert notice.event == CaseEvent.objects.filter(case=case).latest("id")
    assert notice.event.action == EventAction.RETURNED


@pytest.mark.parametrize(("kind", "opening"), [
    (NoticeKind.ROUTED, "Hồ sơ mới chuyển đến đơn vị"),
    (NoticeKind.OPINION_GIVEN, "Đã có ý kiến tham gia"),
    (NoticeKind.DEEMED_AGREED, "Được coi là đồng ý do không trả lời đúng hạn"),
    (NoticeKind.BACK_TO_TRIAGE, "Hồ sơ được trả lại bộ phận phân loại"),
    (NoticeKind.DECIDED, "UBND thành phố đã quyết định"),
    (NoticeKind.REWORK, "UBND thành phố trả hồ sơ để hoàn thiện"),
    (NoticeKind.SUPPLEMENT_DONE, "Hồ sơ đã được bổ sung đủ"),
    (NoticeKind.DISPUTE_SETTLED, "Đã xử lý kiến nghị về quy định thẩm quyền"),
    (NoticeKind.EXTENDED, "Đã gia hạn xử lý"),
    (NoticeKind.KEY_TASK, "Được đánh dấu là nhiệm vụ trọng tâm"),
])
def test_every_hand_off_kind_reads_in_vietnamese(city, log_case, kind, opening):
    case = log_case()
    notice = Notification.objects.create(recipient=city.user("head"), kind=kind, case=case,
                                         mail_state=MailState.NONE)

    assert headline(notice) == f"{opening}: {case.reference} {case.title}"



def test_a_dispute_settled_after_the_case_went_back_to_triage_tells_the_unit_that_filed_it(city, stages):
    case = stages.misrouted("in_progress")
    dispute = case_dispute(case=case, actor=city.user("specialist"), reason="Quy định chưa đúng thẩm quyền")
    case.refresh_from_db()
    case_return(case=case, actor=city.user("head"), reason="Không thuộc chức năng của Sở")
    forget_notices()

    dispute_settle(dispute=dispute, actor=city.user("admin"), status=DisputeStatus.RULE_CHANGED,
                   note="Đã sửa quy định")

    assert told(NoticeKind.DISPUTE_SETTLED, case) == ["deputy", "head"]
