"""Notices in the admin: readable, never edited by hand; failed mail can be sent again."""

import pytest
from django.core import mail
from django.urls import reverse

from cases.models import MailState, NoticeKind, Notification
from tests.support.cases import forget_notices


@pytest.fixture
def failed_notice(city, log_case):
    case = log_case()
    forget_notices()
    return Notification.objects.create(recipient=city.user("head"), kind=NoticeKind.OVERDUE, case=case,
                                       mail_state=MailState.FAILED, mail_attempts=5, mail_error="SMTP timeout")


def test_the_list_shows_failed_mail(client, city, failed_notice):
    client.force_login(city.user("admin"))
    page = client.get(reverse("admin:cases_notification_changelist"), {"mail_state": "failed"})
    assert page.status_code == 200
    assert failed_notice.case.reference in page.content.decode()


def test_notices_are_not_added_or_edited_in_the_admin(client, city, failed_notice):
    client.force_login(city.user("admin"))
    assert client.get(reverse("admin:cases_notification_add")).status_code == 403
    url = reverse("admin:cases_notification_change", args=[failed_notice.pk])
    client.post(url, {"mail_state": MailState.SENT})
    failed_notice.refresh_from_db()
    assert failed_notice.mail_state == MailState.FAILED


def test_send_again_mails_the_failed_notice_once(client, city, failed_notice, django_capture_on_commit_callbacks):
    client.force_login(city.user("admin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:cases_notification_changelist"),
                               {"action": "mail_again", "_selected_action": [failed_notice.pk]})
    assert response.status_code == 302
    failed_notice.refresh_from_db()
    assert failed_notice.mail_state == MailState.SENT
    assert [message.to for message in mail.outbox] == [[city.user("head").email]]
    assert failed_notice.case.reference in mail.outbox[0].subject
