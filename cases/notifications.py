"""Notices to people: rows under the bell, and one e-mail each, sent by Celery (DESIGN.md §2 rule 9).

Rows are written in the transaction of the change they report; mail is queued only after that commits
(`transaction.on_commit`). If the broker is down the change still stands: the failure is logged and the
next sweep queues the mail again, since every unsent notice stays `pending` in the table.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import (
    CaseEvent,
    MailState,
    Notification,
    NotificationKind,
)
from departments.models import Role, Staff

logger = logging.getLogger(__name__)

MAIL_BATCH = 100


def notify_assignment(*, event: CaseEvent, assignee, department_id: int, actor, consultation=None) -> None:
    """Tell the new assignee and the unit's head about a new assignment; never the person who made it."""
    recipients = {assignee.pk: assignee} if assignee.is_active else {}
    for head in Staff.objects.filter(department_id=department_id, role=Role.HEAD,
                                     user__is_active=True).select_related("user"):
        recipients.setdefault(head.user_id, head.user)
    recipients.pop(actor.pk, None)
    if not recipients:
        return
    Notification.objects.bulk_create([
        Notification(recipient=user, kind=NotificationKind.ASSIGNED, case_id=event.case_id, event=event,
                     consultation=consultation, mail_state=MailState.PENDING if user.email else MailState.NONE)
        for user in recipients.values()
    ], ignore_conflicts=True)
    queue_mail()


def mail_state_for(email_path: str):
    """A new notice's mail state, in SQL: `none` for someone without an address (`email_path` names it)."""
    return DbCase(When(**{email_path: ""}, then=Value(MailState.NONE)), default=Value(MailState.PENDING))


def queue_mail() -> None:
    """Send pending mail once the current transaction commits (at once outside one)."""
    transaction.on_commit(_publish)


# Publishing waits for the broker: with Redis down, redis-py retries the connection for seconds. An
# official's request must not wait on that, so the message is handed to this thread and the response goes.
_publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notice-mail")


def _publish() -> None:
    from cityops.celery import app

    if app.conf.task_always_eager:
        _send_task()  # runs the task itself, here: no broker to wait for
    else:
        _publisher.submit(_send_task)


def _send_task() -> None:
    from cases.tasks import send_notification_mail

    try:
        # No publish retries: the notices stay pending in the table, and the next sweep queues them again.
        send_notification_mail.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - any broker failure; the mail stays pending in the table
        logger.exception("Could not queue notification mail; the next overdue sweep will queue it again")


def pending_mail_exists() -> bool:
    return Notification.objects.filter(mail_state=MailState.PENDING).exists()


def headline(notice: Notification) -> str:
    """One line for the bell list and the mail subject, in the active language."""
    return render_to_string("notifications/headline.txt", {"notice": notice}).strip()


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _message(notice: Notification) -> EmailMessage:
    context = {"notice": notice, "headline": headline(notice), "site_url": settings.SITE_URL.rstrip("/"),
               "link": _site_url(reverse("notifications"))}
    if notice.violation_id:
        context["link"] = _site_url(reverse("violation-detail", args=[notice.violation_id]))
    elif notice.case_id:
        context["link"] = _site_url(reverse("case-detail", args=[notice.case.reference]))
    if notice.kind == NotificationKind.DIGEST:
        # Imported here: the digest reads the desk, whose module imports the case services, which import us.
        from cases.digests import digest

        context.update(digest(notice.recipient))
    body = render_to_string("notifications/mail.txt", context)
    subject = " ".join(f"[CityOps] {context['headline']}".split())
    return EmailMessage(subject=subject, body=body, to=[notice.recipient.email])


def send_pending_mail(*, batch: int = MAIL_BATCH) -> tuple[int, int]:
    """Send every pending notice once; returns (sent, failed).

    Rows are claimed with SKIP LOCKED so two workers never send the same notice, and each is marked sent in
    the transaction that claimed it: a retried task finds it sent and sends nothing twice. A failed send is
    counted on the row; after MAIL_MAX_ATTEMPTS it is marked failed and left for an admin to see.
    """
    sent = failed = 0
    seen: set[int] = set()
    with translation.override(settings.LANGUAGE_CODE):
        connection = get_connection()
        while True:
            with transaction.atomic():
                notices = list(
                    Notification.objects.filter(mail_state=MailState.PENDING).exclude(pk__in=seen)
                    .select_for_update(skip_locked=True, of=("self",))
                    .select_related("recipient", "case", "consultation__case", "consultation__department",
                                    "violation__kind", "violation__person")
                    .order_by("created_at", "id")[:batch])
                if not notices:
                    break
                for notice in notices:
                    seen.add(notice.pk)
                    try:
                        connection.send_messages([_message(notice)])
                    except Exception as error:  # noqa: BLE001 - SMTP, network, template: all retried the same way
                        failed += 1
                        notice.mail_attempts += 1
                        notice.mail_error = f"{type(error).__name__}: {error}"[:2000]
                        if notice.mail_attempts >= settings.MAIL_MAX_ATTEMPTS:
                            notice.mail_state = MailState.FAILED
                        notice.save(update_fields=["mail_attempts", "mail_error", "mail_state"])
                        continue
                    sent += 1
                    notice.mail_state, notice.mailed_at = MailState.SENT, timezone.now()
                    notice.save(update_fields=["mail_state", "mailed_at"])
    return sent, failed
