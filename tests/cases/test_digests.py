"""The heads' daily digest: one notice a day per head whose unit owes overdue or due-soon work.

At 07:30 on Friday 9 October 2026 the owner department (sxd) has an overdue complaint (due Thursday 8) and
a key-task complaint due today; the consulted department (snnmt) owes an opinion due Monday 12, the next
working day; the outsider department (stc) owes nothing.
"""

import datetime as dt

import pytest
from django.utils import timezone

from cases.digests import create_digests
from cases.models import MailState, NoticeKind, Notification
from cases.notifications import send_pending_mail
from cases.services import case_accept, case_consult
from cases.tasks import send_daily_digest
from departments.models import AuthorityRule, CaseType
from tests.support.cases import forget_notices
from tests.support.world import local_datetime

D = dt.date
MORNING = local_datetime(2026, 10, 9, 7, 30)


@pytest.fixture
def work(city, log_case, clock, appraisal_type):
    complaint = CaseType.objects.create(code="citizen-complaint", name="Giải quyết kiến nghị của công dân",
                                        processing_days=3)
    AuthorityRule.objects.create(case_type=complaint, owner=city.owner, legal_basis="Nghị định 61/2018/NĐ-CP")

    def accepted(day, **fields):
        at = clock.set(local_datetime(2026, 10, day, 9))
        case = log_case(received_at=at, **fields)
        clock.set(at + dt.timedelta(minutes=30))
        return case_accept(case=case, actor=city.user("specialist"))

    late = accepted(5, case_type=complaint, title="Kiến nghị về tiếng ồn công trình")  # due Thursday 8
    key = accepted(6, case_type=complaint, title="Kiến nghị sạt lở kè sông", key_task=True)  # due Friday 9
    appraisal = accepted(7, case_type=appraisal_type, title="Thẩm định dự án kè sông Lạch Tray")  # due 28 Oct
    later = accepted(7, case_type=complaint, title="Kiến nghị chiếu sáng ngõ")  # due Monday 12
    [opinion] = case_consult(case=appraisal, actor=city.user("specialist"), departments=[city.consulted],
                             question="Đề nghị cho ý kiến về tác động môi trường")  # due Monday 12
    assert [late.due_date, key.due_date, later.due_date, opinion.due_date] == [
        D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 12), D(2026, 10, 12)]
    forget_notices()
    return {"late": late, "key": key, "appraisal": appraisal, "later": later, "opinion": opinion}


def digests():
    return Notification.objects.filter(kind=NoticeKind.DIGEST)


def test_one_digest_per_head_whose_unit_owes_work(work, city):
    assert create_digests(now=MORNING) == 2

    assert sorted(digests().values_list("recipient__username", "on_date", "mail_state")) == [
        ("consulted_head", D(2026, 10, 9), MailState.PENDING), ("head", D(2026, 10, 9), MailState.PENDING)]
    # Digests are about a unit, not one item.
    assert not digests().filter(case__isnull=False).exists()
    assert not digests().filter(recipient=city.user("outsider_head")).exists()


def test_at_most_one_digest_a_day_in_local_time(work):
    assert create_digests(now=MORNING) == 2
    assert create_digests(now=MORNING) == 0
    assert create_digests(now=local_datetime(2026, 10, 9, 23, 59)) == 0
    # 17:00 UTC on Friday 9 October is already Saturday in Hải Phòng: a new day, a new digest.
    assert create_digests(now=dt.datetime(2026, 10, 9, 17, 0, tzinfo=dt.UTC)) == 2
    assert sorted(set(digests().values_list("on_date", flat=True))) == [D(2026, 10, 9), D(2026, 10, 10)]


def test_no_digest_for_a_unit_with_nothing_due(city, log_case, clock):
    clock.set(local_datetime(2026, 10, 5, 9))
    log_case(received_at=local_datetime(2026, 10, 5, 9))  # a permit, due 26 October

    assert create_digests(now=MORNING) == 0


def test_inactive_heads_get_no_digest_and_heads_without_email_are_not_mailed(work, city):
    consulted_head, head = city.user("consulted_head"), city.user("head")
    consulted_head.is_active = False
    consulted_head.save(update_fields=["is_active"])
    head.email = ""
    head.save(update_fields=["email"])

    assert create_digests(now=MORNING) == 1
    assert list(digests().values_list("recipient__username", "mail_state")) == [("head", MailState.NONE)]


def test_the_digest_mail_lists_the_units_overdue_and_due_soon_work(work, city, clock, mailoutbox):
    clock.set(MORNING)

    assert send_daily_digest.delay().get() == "2 digests"

    assert set(digests().values_list("mail_state", flat=True)) == {MailState.SENT}
    mail = {message.to[0]: message for message in mailoutbox}
    assert set(mail) == {city.user("head").email, city.user("consulted_head").email}

    head_mail = mail[city.user("head").email]
    assert "09/10/2026" in head_mail.subject
    body = head_mail.body
    key, late, later = work["key"].reference, work["late"].reference, work["later"].reference
    assert f"{key} Kiến nghị sạt lở kè sông" in body
    assert f"{late} Kiến nghị về tiếng ồn công trình" in body
    assert f"{later} Kiến nghị chiếu sáng ngõ" in body  # due Monday, the next working day: due soon
    # Key tasks first, then the longest overdue.
    assert body.index(key) < body.index(late) < body.index(later)
    assert "08/10/2026" in body
    assert work["appraisal"].reference not in body  # sxd's, but not due until 28 October
    assert "/overdue/" in body

    consulted_body = mail[city.user("consulted_head").email].body
    assert work["appraisal"].reference in consulted_body  # the opinion snnmt owes on it
    assert "12/10/2026" in consulted_body
    assert late not in consulted_body and key not in consulted_body  # not snnmt's work

    assert send_daily_digest.delay().get() == "0 digests"
    assert len(mailoutbox) == 2


def test_notices_held_back_from_mail_are_gathered_in_the_next_digest(city, log_case, clock, mailoutbox):
    from core.models import MailChoice

    clock.set(local_datetime(2026, 10, 8, 15))
    MailChoice.objects.create(user=city.user("deputy"), kind=NoticeKind.ROUTED, mail=False)
    case = log_case(title="Xin cấp phép xây dựng nhà số 5 Trần Phú")
    send_pending_mail()  # the head's routing notice is mailed, the deputy's held back
    assert [m.to for m in mailoutbox] == [[city.user("head").email]]
    mailoutbox.clear()

    clock.set(local_datetime(2026, 10, 9, 7, 30))
    send_daily_digest.delay()

    deputy_mail = [m for m in mailoutbox if m.to == [city.user("deputy").email]]
    assert len(deputy_mail) == 1
    body = deputy_mail[0].body
    assert "Chưa đọc (1):" in body
    assert f"{case.reference} Xin cấp phép xây dựng nhà số 5 Trần Phú" in body
    assert "/notifications/?show=unread" in body
    # Not a head: no desk in it.
    assert "/overdue/" not in body


def test_a_digest_is_not_sent_for_held_notices_already_read(city, log_case, clock):
    from core.models import MailChoice

    clock.set(local_datetime(2026, 10, 8, 15))
    MailChoice.objects.create(user=city.user("deputy"), kind=NoticeKind.ROUTED, mail=False)
    log_case()
    send_pending_mail()
    Notification.objects.filter(recipient=city.user("deputy")).update(read_at=timezone.now())

    clock.set(local_datetime(2026, 10, 9, 7, 30))
    send_daily_digest.delay()

    assert not Notification.objects.filter(kind=NoticeKind.DIGEST, recipient=city.user("deputy")).exists()
