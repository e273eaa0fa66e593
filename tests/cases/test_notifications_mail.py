"""Notices by e-mail (DESIGN.md §2 rule 9): written with the change they report, mailed by Celery once the
change commits, once each however often the task runs; a failing mail server is retried up to a limit
without holding back the others; a broker that is down never fails the official's request, and the next
sweep sends what was left; heads get one digest a day.

Celery runs eagerly here (tests/conftest.py), and Django's locmem backend collects the mail.
"""

import datetime as dt
import io
import logging
import threading

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from cases import notifications, tasks
from cases.digests import create_digests
from cases.models import MailState, NoticeKind, Notification
from cases.notifications import send_pending_mail
from cases.services import case_assign
from tests.support.cases import forget_notices
from tests.support.world import local_datetime

FAILING_ADDRESS = "deputy@example.test"


class FailingForOneAddress(EmailBackend):
    """Delivers like locmem, except to one address, as an SMTP server that refuses a mailbox would."""

    def send_messages(self, messages):
        if any(FAILING_ADDRESS in message.to for message in messages):
            raise ConnectionRefusedError("mail server refused the connection")
        return super().send_messages(messages)


def notices_to(user):
    return Notification.objects.filter(recipient=user)


def mail_to(user):
    return [message for message in mail.outbox if message.to == [user.email]]


def pending(user, case):
    return Notification.objects.create(recipient=user, kind=NoticeKind.ASSIGNED, case=case,
                                       mail_state=MailState.PENDING)


@pytest.fixture
def case(stages):
    """In progress, its assignee the specialist who accepted it (no notice: he took it on himself)."""
    case = stages.in_progress()
    forget_notices()
    return case


# New assignments ------------------------------------------------------------------------------------------


def test_a_head_reassigning_tells_the_new_assignee_once_and_not_himself(city, case,
                                                                         django_capture_on_commit_callbacks):
    deputy = city.user("deputy")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        case_assign(case=case, actor=city.user("head"), assignee=deputy)
        # Nothing leaves before the change commits.
        assert mail.outbox == []

    assert len(callbacks) == 1
    notice = Notification.objects.get()
    assert (notice.recipient, notice.kind, notice.case, notice.event.action) == (deputy, "assigned", case, "assigned")
    assert notice.mail_state == MailState.SENT
    assert notice.mailed_at is not None
    [message] = mail.outbox
    assert message.to == [deputy.email]
    assert message.subject.startswith("[CityOps] ")
    assert case.reference in message.subject
    assert f"http://testserver-site{reverse('case-detail', args=[case.reference])}" in message.body


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "http://testserver-site/"


def test_a_deputy_reassigning_tells_the_assignee_and_the_head(city, case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, actor=city.user("deputy"), assignee=city.user("head"))

    # The head is both the new assignee and the unit's head: one notice, one mail.
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["head"]
    assert len(mail.outbox) == 1

    Notification.objects.all().delete()
    mail.outbox.clear()
    case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, actor=city.user("deputy"), assignee=city.user("specialist"))

    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["head", "specialist"]
    assert sorted(message.to[0] for message in mail.outbox) == ["head@example.test", "specialist@example.test"]
    assert not notices_to(city.user("deputy")).exists()


def test_someone_without_an_address_is_noticed_but_not_mailed(city, case, django_capture_on_commit_callbacks):
    deputy = city.user("deputy")
    deputy.email = ""
    deputy.save()
    with django_capture_on_commit_callbacks(execute=True):
        case_assign(case=case, actor=city.user("head"), assignee=deputy)
    assert notices_to(deputy).get().mail_state == MailState.NONE
    assert mail.outbox == []


# Sending ----------------------------------------------------------------------------------------------------


def test_sending_twice_mails_each_notice_once(city, case):
    for name in ("head", "deputy", "specialist"):
        pending(city.user(name), case)

    assert send_pending_mail() == (3, 0)
    assert send_pending_mail() == (0, 0)

    assert sorted(message.to[0] for message in mail.outbox) == [
        "deputy@example.test", "head@example.test", "specialist@example.test"]
    assert set(Notification.objects.values_list("mail_state", flat=True)) == {MailState.SENT}


def test_the_task_run_again_sends_nothing_twice(city, case):
    pending(city.user("deputy"), case)
    assert tasks.send_notification_mail.delay().get() == "sent 1"
    assert tasks.send_notification_mail.delay().get() == "sent 0"
    assert len(mail.outbox) == 1


def test_a_failing_mailbox_is_retried_up_to_the_limit_and_the_others_still_go(settings, city, case):
    settings.EMAIL_BACKEND = f"{__name__}.{FailingForOneAddress.__name__}"
    settings.MAIL_MAX_ATTEMPTS = 3
    head, deputy, specialist = pending(city.user("head"), case), pending(city.user("deputy"), case), pending(
        city.user("specialist"), case)

    assert send_pending_mail() == (2, 1)

    deputy.refresh_from_db()
    assert (deputy.mail_state, deputy.mail_attempts) == (MailState.PENDING, 1)
    assert deputy.mail_error == "ConnectionRefusedError: mail server refused the connection"
    assert deputy.mailed_at is None
    assert sorted(message.to[0] for message in mail.outbox) == ["head@example.test", "specialist@example.test"]
    for notice in (head, specialist):
        notice.refresh_from_db()
        assert (notice.mail_state, notice.mail_attempts) == (MailState.SENT, 0)

    assert send_pending_mail() == (0, 1)
    deputy.refresh_from_db()
    assert (deputy.mail_state, deputy.mail_attempts) == (MailState.PENDING, 2)

    assert send_pending_mail() == (0, 1)
    deputy.refresh_from_db()
    assert (deputy.mail_state, deputy.mail_attempts) == (MailState.FAILED, 3)

    # Failed is final: left for an admin to see, never tried again.
    assert send_pending_mail() == (0, 0)
    deputy.refresh_from_db()
    assert deputy.mail_attempts == 3
    assert len(mail.outbox) == 2


class WorkerKilled(BaseException):
    """What `kill -9` does to a worker between two mails, as far as the database can tell: nothing more runs."""


class DyingAfterOneMail(EmailBackend):
    """Delivers one mail, then the worker is gone before anything else is written."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 1:
            raise WorkerKilled
        return super().send_messages(messages)


def test_a_worker_killed_mid_batch_leaves_no_mail_to_be_sent_twice(settings, city, case):
    """Each notice is claimed and committed as `sending` before its mail leaves: the mails sent before the
    kill are marked sent, the one being sent when it died is never sent again, the rest go in the next run."""
    settings.EMAIL_BACKEND = f"{__name__}.{DyingAfterOneMail.__name__}"
    notices = [pending(city.user(name), case) for name in ("head", "deputy", "specialist")]
    with pytest.raises(WorkerKilled):
        send_pending_mail()
    states = [Notification.objects.get(pk=notice.pk).mail_state for notice in notices]
    assert states == [MailState.SENT, MailState.SENDING, MailState.PENDING]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_pending_mail() == (1, 0)
    assert send_pending_mail() == (0, 0)
    assert sorted(message.to[0] for message in mail.outbox) == ["head@example.test", "specialist@example.test"]


def test_a_notice_left_sending_is_marked_failed_once_stale_never_resent(settings, city, case):
    notice = pending(city.user("deputy"), case)
    Notification.objects.filter(pk=notice.pk).update(mail_state=MailState.SENDING,
                                                      mailed_at=timezone.now() - dt.timedelta(minutes=29))
    assert send_pending_mail() == (0, 0)
    assert Notification.objects.get(pk=notice.pk).mail_state == MailState.SENDING  # perhaps still leaving

    Notification.objects.filter(pk=notice.pk).update(mailed_at=timezone.now() - dt.timedelta(minutes=31))
    assert send_pending_mail() == (0, 0)
    notice.refresh_from_db()
    assert (notice.mail_state, notice.mail_attempts) == (MailState.FAILED, 1)
    assert notice.mail_error.startswith("Interrupted while sending")
    assert mail.outbox == []


def test_a_run_sends_a_bounded_batch_and_queues_the_rest(monkeypatch, city, case):
    monkeypatch.setattr(notifications, "MAIL_BATCH", 2)
    for name in ("head", "deputy", "specialist"):
        pending(city.user(name), case)
    # Eager: the follow-up run queued by the first runs at once, inside it.
    assert tasks.send_notification_mail.delay().get() == "sent 2"
    assert len(mail.outbox) == 3
    assert set(Notification.objects.values_list("mail_state", flat=True)) == {MailState.SENT}


def test_a_failed_send_makes_the_task_ask_celery_for_a_retry(settings, city, case):
    settings.EMAIL_BACKEND = f"{__name__}.{FailingForOneAddress.__name__}"
    pending(city.user("deputy"), case)
    pending(city.user("head"), case)

    # Called directly (as a worker would run it once), the task raises what its autoretry catches.
    with pytest.raises(tasks.MailNotSent, match="1 notices could not be mailed"):
        tasks.send_notification_mail()

    assert [message.to for message in mail.outbox] == [["head@example.test"]]


# The broker is down -----------------------------------------------------------------------------------------


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("catch_up", ["command", "periodic task"])
def test_a_broker_outage_fails_no_request_and_the_next_sweep_sends_the_mail(monkeypatch, caplog, signed_in, city,
                                                                            stages, catch_up):
    case = stages.in_progress()
    forget_notices()
    monkeypatch.setattr("cases.tasks.send_notification_mail.apply_async", broker_down)
    caplog.set_level(logging.ERROR, logger="cases.notifications")

    # Not inside a test transaction: the request commits, and the mail is queued on that commit, in the request.
    response = signed_in("head").post(reverse("case-action", args=[case.reference, "assign"]),
                                      {"version": case.version, "assignee": "deputy"})

    assert response.status_code == 302
    assert response.url == reverse("case-detail", args=[case.reference])
    case.refresh_from_db()
    assert case.assignee == city.user("deputy")
    [record] = [r for r in caplog.records if r.name == "cases.notifications"]
    assert record.levelno == logging.ERROR
    assert "Could not queue notification mail" in record.getMessage()
    assert record.exc_info[0] is OperationalError
    notice = notices_to(city.user("deputy")).get()
    assert notice.mail_state == MailState.PENDING
    assert mail.outbox == []

    monkeypatch.undo()
    if catch_up == "command":
        call_command("flag_overdue", stdout=io.StringIO())
    else:
        tasks.flag_overdue.delay()

    notice.refresh_from_db()
    assert notice.mail_state == MailState.SENT
    assert [message.to for message in mail.outbox] == [[city.user("deputy").email]]


def test_with_a_real_broker_the_request_thread_never_waits_on_publishing(monkeypatch, caplog):
    """Outside eager mode the publish runs on the publisher thread: a broker that is down (redis-py retries the
    connection for seconds) costs the request nothing, and the failure is still logged."""
    from cityops.celery import app

    publishing_threads = []

    def publishing_broker_down(*args, **kwargs):
        publishing_threads.append(threading.current_thread().name)
        broker_down()

    monkeypatch.setattr("cases.tasks.send_notification_mail.apply_async", publishing_broker_down)
    caplog.set_level(logging.ERROR, logger="cases.notifications")

    app.conf.task_always_eager = False  # the autouse fixture in tests/conftest.py sets it back
    notifications._publish()
    notifications._publisher.submit(lambda: None).result()  # wait for the publisher thread's queue to drain

    assert len(publishing_threads) == 1
    assert publishing_threads[0].startswith("notice-mail") and publishing_threads[0] != threading.current_thread().name
    assert any("Could not queue notification mail" in r.getMessage() for r in caplog.records)


# The daily digest -------------------------------------------------------------------------------------------


@pytest.fixture
def owing(city, stages, consulting, clock):
    """On 1 June 2026 the owner unit has two overdue cases (one of them an appraisal whose opinion the
    consulted unit owes, also overdue) and one case not yet due; the outsider unit owes nothing."""
    clock.set(local_datetime(2026, 4, 20, 9))
    permit = stages.in_progress(title="Cấp phép xây dựng nhà ở số 12 Lạch Tray")
    appraisal = consulting.case(title="Thẩm định dự án cầu Rào 3")
    [consultation] = consulting.ask(appraisal)
    clock.set(local_datetime(2026, 5, 29, 9))
    later = stages.in_progress(title="Cấp phép sửa chữa nhà số 3 Cầu Đất")
    clock.set(local_datetime(2026, 6, 1, 7, 30))
    forget_notices()
    return {"permit": permit, "appraisal": appraisal, "consultation": consultation, "later": later}


def test_each_head_gets_one_digest_a_day(city, owing, clock):
    assert create_digests() == 2
    assert create_digests() == 0

    digests = Notification.objects.filter(kind=NoticeKind.DIGEST)
    assert sorted(digests.values_list("recipient__username", "on_date__day")) == [("consulted_head", 1), ("head", 1)]
    assert not notices_to(city.user("outsider_head")).exists()
    assert not notices_to(city.user("deputy")).exists()

    clock.set(local_datetime(2026, 6, 2, 7, 30))
    assert create_digests() == 2
    assert digests.count() == 4


def test_the_digest_mail_lists_the_units_late_work(city, owing):
    tasks.send_daily_digest.delay()
    tasks.send_daily_digest.delay()

    assert sorted(message.to[0] for message in mail.outbox) == ["consulted_head@example.test", "head@example.test"]
    [head_mail] = mail_to(city.user("head"))
    [consulted_mail] = mail_to(city.user("consulted_head"))
    assert owing["permit"].reference in head_mail.body
    assert owing["appraisal"].reference in head_mail.body
    assert owing["later"].reference not in head_mail.body
    assert "01/06/2026" in head_mail.subject
    assert f"http://testserver-site{reverse('overdue-desk')}" in head_mail.body
    # The consulted unit owes an opinion on the appraisal, and owns no late case.
    assert owing["appraisal"].reference in consulted_mail.body
    assert owing["permit"].reference not in consulted_mail.body
    assert owing["appraisal"].title in consulted_mail.body
