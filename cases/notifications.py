"""Notices to people: rows under the bell, and one e-mail each, sent by Celery (DESIGN.md §2 rule 9).

Rows are written in the transaction of the change they report; mail is queued only after that commits
(`transaction.on_commit`). If the broker is down the change still stands: the failure is logged and the
next sweep queues the mail again, since every unsent notice stays `pending` in the table.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cases.audit_chain import ChainReport, describe_break, summary
from cases.models import Case, CaseEvent, Consultation, EventAction, Notification, Outcome
from core.bulk import insert_from_select
from core.notices import MailState, Notice, NoticeKind, hold_unwanted_mail, mail_state_for, notice_models
from departments.models import Role, Staff

logger = logging.getLogger(__name__)

# At most this many mails of each notice table per run: a run stays far inside the task's time limit, and the
# task queues the next run for the rest.
MAIL_BATCH = 500


def notify_assignment(*, event: CaseEvent, assignee, department_id: int, actor, consultation=None) -> None:
    """Tell the new assignee and the unit's head about a new assignment; never the person who made it."""
    recipients = {assignee.pk: assignee} if assignee.is_active else {}
    recipients.update(_unit_leads(department_id, Role.HEAD, skip=recipients))
    _write_notices(NoticeKind.ASSIGNED, event=event, recipients=recipients, actor=actor, consultation=consultation,
                   ignore_conflicts=True)


def notify_withdrawal(*, event: CaseEvent, consultation, actor) -> None:
    """Tell the consulted unit's head and deputies, and the person preparing its answer, that the request is
    withdrawn: they stop working on it. Never the person who settled the case."""
    assignee = consultation.assignee
    recipients = {assignee.pk: assignee} if assignee is not None and assignee.is_active else {}
    recipients.update(_unit_leads(consultation.department_id, Role.HEAD, Role.DEPUTY, skip=recipients))
    _write_notices(NoticeKind.WITHDRAWN, event=event, recipients=recipients, actor=actor, consultation=consultation)


# --- Hand-offs: who must act next hears of it -------------------------------------------------------------

def _leads(*department_ids: int | None) -> Q:
    # No unit (a case that has no owner any more) names nobody; an empty IN () would not compile to SQL.
    units = [pk for pk in department_ids if pk] or [0]
    return Q(staff__department_id__in=units, staff__role__in=(Role.HEAD, Role.DEPUTY))


def _owner_side(event: CaseEvent, case: Case) -> Q:
    # The person working on the case and their head: the deputies hear of the case when it reaches the unit.
    return Q(pk=case.assignee_id) | Q(staff__department_id=case.owner_id, staff__role=Role.HEAD)


def _receiving_leads(event: CaseEvent, case: Case) -> Q:
    return _leads(event.to_department_id)


def _consulted_leads(event: CaseEvent, case: Case) -> Q:
    # The event names the units asked: no query to find them again.
    codes = [c["department"] for c in event.payload.get("consultations", [])]
    return Q(staff__department__code__in=codes, staff__role__in=(Role.HEAD, Role.DEPUTY))


def _receiving_clerks(event: CaseEvent, case: Case) -> Q:
    return Q(staff__department_id=case.receiving_unit_id, staff__role=Role.CLERK)


def _both_units(event: CaseEvent, case: Case) -> Q:
    # A dispute is the owner's and the disputing unit's: both heads and deputies hear how it was settled.
    disputing = (case.disputes.filter(pk=event.payload.get("dispute")).values_list("department_id", flat=True)
                 .first())
    return _leads(case.owner_id, disputing)


@dataclass(frozen=True)
class Handoff:
    """Which notice an event of the trail gives, and to whom: the people who must act on it next."""

    kind: Callable[[CaseEvent], str]
    to: Callable[[CaseEvent, Case], Q]
    # For a notice about one unit's consultation: the consultation each recipient's unit was asked.
    per_consultation: bool = False


def _always(kind: str) -> Callable[[CaseEvent], str]:
    return lambda event: kind


HANDOFFS: dict[str, Handoff] = {
    EventAction.ROUTED: Handoff(_always(NoticeKind.ROUTED), _receiving_leads),
    EventAction.ROUTED_MANUALLY: Handoff(_always(NoticeKind.ROUTED), _receiving_leads),
    EventAction.TRANSFERRED: Handoff(_always(NoticeKind.ROUTED), _receiving_leads),
    EventAction.CONSULTED: Handoff(_always(NoticeKind.OPINION_REQUESTED), _consulted_leads, per_consultation=True),
    EventAction.CONSULTATION_ANSWERED: Handoff(_always(NoticeKind.OPINION_GIVEN), _owner_side),
    EventAction.DEEMED_AGREED: Handoff(_always(NoticeKind.DEEMED_AGREED), _owner_side),
    EventAction.RETURNED: Handoff(_always(NoticeKind.BACK_TO_TRIAGE), _receiving_clerks),
    EventAction.DECIDED: Handoff(lambda event: NoticeKind.REWORK if event.payload.get("outcome") == Outcome.REWORK
                                 else NoticeKind.DECIDED, _owner_side),
    EventAction.SUPPLEMENT_COMPLETED: Handoff(_always(NoticeKind.SUPPLEMENT_DONE), _owner_side),
    EventAction.DISPUTE_SETTLED: Handoff(_always(NoticeKind.DISPUTE_SETTLED), _both_units),
    EventAction.EXTENDED: Handoff(_always(NoticeKind.EXTENDED), _owner_side),
    EventAction.KEY_TASK_SET: Handoff(_always(NoticeKind.KEY_TASK), _owner_side),
}


def notify_handoff(event: CaseEvent, case: Case) -> int:
    """The notices of a hand-off event (HANDOFFS), written in one INSERT … SELECT, never to the person who made
    the move; returns how many were written. Other events give none."""
    handoff = HANDOFFS.get(event.action)
    if handoff is None:
        return 0
    people = get_user_model().objects.filter(handoff.to(event, case), is_active=True)
    if event.actor_id is not None:
        people = people.exclude(pk=event.actor_id)
    fields = ["recipient", "kind", "case", "event", "created_at", "mail_state"]
    values: list = ["pk", Value(handoff.kind(event)), Value(case.pk), Value(event.pk), Value(event.at),
                    mail_state_for("email")]
    if handoff.per_consultation:
        fields.append("consultation")
        values.append(Subquery(Consultation.unscoped.filter(
            case_id=case.pk, department_id=OuterRef("staff__department_id"),
            pk__in=[c["id"] for c in event.payload.get("consultations", [])]).values("pk")[:1]))
    written = insert_from_select(Notification, fields, people.values_list(*values))
    if written:
        queue_mail()
    return written


def notify_deemed_agreed(now: dt.datetime) -> int:
    """The owner side's notices of every silence deemed agreement at `now`: one INSERT … SELECT for the
    assignees and one for the heads, whatever the number of consultations."""
    events = CaseEvent.objects.filter(action=EventAction.DEEMED_AGREED, at=now)
    assignees = events.filter(case__assignee__is_active=True).values_list(
        "case__assignee_id", Value(NoticeKind.DEEMED_AGREED), "case_id", "pk", Value(now),
        mail_state_for("case__assignee__email"))
    heads = events.filter(case__owner__staff__role=Role.HEAD, case__owner__staff__user__is_active=True).values_list(
        "case__owner__staff__user_id", Value(NoticeKind.DEEMED_AGREED), "case_id", "pk", Value(now),
        mail_state_for("case__owner__staff__user__email"))
    fields = ["recipient", "kind", "case", "event", "created_at", "mail_state"]
    written = insert_from_select(Notification, fields, assignees) + insert_from_select(Notification, fields, heads)
    if written:
        queue_mail()
    return written


def _unit_leads(department_id: int, *roles: str, skip: dict) -> dict:
    leads = Staff.objects.filter(department_id=department_id, role__in=roles, user__is_active=True)
    return {lead.user_id: lead.user for lead in leads.exclude(user_id__in=list(skip)).select_related("user")}


def _write_notices(kind: str, *, event: CaseEvent, recipients: dict, actor, consultation=None,
                   ignore_conflicts: bool = False) -> None:
    recipients.pop(actor.pk, None)
    if not recipients:
        return
    Notification.objects.bulk_create([
        Notification(recipient=user, kind=kind, case_id=event.case_id, event=event, consultation=consultation,
                     mail_state=MailState.PENDING if user.email else MailState.NONE)
        for user in recipients.values()
    ], ignore_conflicts=ignore_conflicts)
    queue_mail()


def queue_mail() -> None:
    """Send pending mail once the current transaction commits (at once outside one)."""
    transaction.on_commit(_publish)


# Publishing waits for the broker: with Redis down, redis-py retries the connection for seconds. An
# official's request must not wait on that, so the message is handed to this thread and the response goes.
_publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notice-mail")


def _publish() -> None:
    from celery import current_app

    if current_app.conf.task_always_eager:
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
    return any(model.objects.filter(mail_state=MailState.PENDING).exists() for model in notice_models())


def headline(notice: Notice) -> str:
    """One line for the bell list and the mail subject, in the active language."""
    return render_to_string(notice.headline_template, {"notice": notice}).strip()


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _message(notice: Notice) -> EmailMessage:
    context = {"notice": notice, "headline": headline(notice), "site_url": settings.SITE_URL.rstrip("/"),
               "link": _site_url(notice.link() if notice.kind != NoticeKind.DIGEST else reverse("notifications")),
               **notice.mail_context()}
    body = render_to_string("notifications/mail.txt", context)
    subject = " ".join(f"[CityOps] {context['headline']}".split())
    return EmailMessage(subject=subject, body=body, to=[notice.recipient.email])


def send_pending_mail(*, batch: int | None = None) -> tuple[int, int]:
    """Send pending notices once, at most `batch` (MAIL_BATCH) of each notice table; returns (sent, failed)."""
    batch = batch or MAIL_BATCH
    sent = failed = 0
    with translation.override(settings.LANGUAGE_CODE):
        connection = get_connection()
        for model in notice_models():
            done, missed = _send_pending(model, connection, batch)
            sent, failed = sent + done, failed + missed
    return sent, failed


def _send_pending(model: type[Notice], connection, batch: int) -> tuple[int, int]:
    """Each notice is claimed on its own (SKIP LOCKED: two workers never take the same) and marked `sending` in
    a transaction committed before its mail leaves, then marked sent. A worker killed in between leaves the
    notice `sending`, and it is never mailed again: a person may miss one mail (the bell still shows the
    notice), never get two. After MAIL_SENDING_STALE_MINUTES such a notice is marked failed, for an admin to see
    and resend. A failed send is counted on the row; after MAIL_MAX_ATTEMPTS it is marked failed too.

    `batch` bounds one run: the task runs again for the rest, so that no run outlasts its time limit."""
    _give_up_interrupted(model)
    hold_unwanted_mail(model)
    sent = failed = 0
    # A cursor in the queue's order: a notice that failed now goes back to pending and waits for the next run.
    after: tuple[dt.datetime, int] | None = None
    while sent + failed < batch:
        with transaction.atomic():
            queue = model.objects.filter(mail_state=MailState.PENDING)
            if after is not None:
                queue = queue.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], pk__gt=after[1]))
            notice = (queue.select_for_update(skip_locked=True, of=("self",))
                      .select_related("recipient", *model.list_relations).order_by("created_at", "id").first())
            if notice is None:
                break
            # While `sending`, mailed_at is when the notice was claimed: how long ago tells an interrupted send.
            notice.mail_state, notice.mailed_at = MailState.SENDING, timezone.now()
            notice.save(update_fields=["mail_state", "mailed_at"])
        after = (notice.created_at, notice.pk)
        try:
            connection.send_messages([_message(notice)])
        except Exception as error:  # noqa: BLE001 - SMTP, network, template: all retried the same way
            failed += 1
            notice.mail_attempts += 1
            notice.mail_error = f"{type(error).__name__}: {error}"[:2000]
            notice.mail_state = (MailState.FAILED if notice.mail_attempts >= settings.MAIL_MAX_ATTEMPTS
                                 else MailState.PENDING)
            notice.mailed_at = None
            notice.save(update_fields=["mail_attempts", "mail_error", "mail_state", "mailed_at"])
            continue
        sent += 1
        notice.mail_state, notice.mailed_at = MailState.SENT, timezone.now()
        notice.save(update_fields=["mail_state", "mailed_at"])
    return sent, failed


def _give_up_interrupted(model: type[Notice]) -> int:
    """Notices left `sending` by a worker that died while mailing them: whether the mail left is unknown, so
    they are not sent again but marked failed with the reason, where the admin's list of failed mail shows them."""
    claimed_before = timezone.now() - dt.timedelta(minutes=settings.MAIL_SENDING_STALE_MINUTES)
    return model.objects.filter(mail_state=MailState.SENDING, mailed_at__lt=claimed_before).update(
        mail_state=MailState.FAILED, mail_attempts=F("mail_attempts") + 1,
        mail_error="Interrupted while sending (the worker stopped): the mail may or may not have left; "
                   "not sent again. Resend it from the admin if it did not arrive.")


def mail_admins_of_breaks(report: ChainReport) -> int:
    """Tell every active superuser with an address, by mail, which case trails the nightly check found broken;
    returns how many were mailed. Mail, not a bell notice: a notice is about a case or a consultation, and the
    admin must hear of this even if nobody opens the site."""
    admins = list(get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
                  .order_by("pk").values_list("email", flat=True))
    if not admins:
        logger.error("Broken audit trail chains, and no active superuser with an e-mail address to tell")
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = "[CityOps] " + ngettext("The audit trail of %(count)s case was changed",
                                          "The audit trail of %(count)s cases were changed",
                                          len(report.breaks)) % {"count": len(report.breaks)}
        body = "\n\n".join([
            _("The nightly check of the case trail's hash chain found events that were changed or removed after "
              "they were written, past the database's refusal:"),
            "\n".join(f"- {describe_break(broken)}" for broken in report.breaks),
            summary(report),
            _("The events are named as they are stored now; `manage.py verify_audit` checks again."),
        ])
    get_connection().send_messages([EmailMessage(subject=subject, body=body, to=[email]) for email in admins])
    return len(admins)
