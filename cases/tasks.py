"""Celery tasks: the overdue sweep, notice mail, the heads' daily digest (DESIGN.md §2 rule 9) and the nightly
check of the case trail's hash chain.

Beat runs them from the schedule in the database (django-celery-beat; the admin edits it). Each is safe to
run twice or on two workers at once; see `cases.deadlines` and `cases.notifications`.
"""

import logging

from celery import shared_task

from cases import audit_chain, deadlines, digests, notifications

logger = logging.getLogger(__name__)


class MailNotSent(Exception):
    """Some notices could not be mailed; the task is retried with backoff for those."""


@shared_task(name="cases.tasks.flag_overdue")
def flag_overdue() -> str:
    result = deadlines.flag_overdue()
    logger.info("Overdue sweep: %s", result)
    # Also the catch-up for mail whose queueing failed earlier (broker down during a request).
    if notifications.pending_mail_exists():
        send_notification_mail.delay()
    return str(result)


@shared_task(name="cases.tasks.send_notification_mail", bind=True, autoretry_for=(MailNotSent,),
             retry_backoff=30, retry_backoff_max=1800, retry_jitter=True, max_retries=5)
def send_notification_mail(self) -> str:
    sent, failed = notifications.send_pending_mail()
    if sent + failed >= notifications.MAIL_BATCH and notifications.pending_mail_exists():
        # A run sends a bounded batch; the rest goes in the next one, queued behind whatever else waits.
        send_notification_mail.delay()
    if failed:
        raise MailNotSent(f"{failed} notices could not be mailed ({sent} sent)")
    return f"sent {sent}"


@shared_task(name="cases.tasks.send_daily_digest")
def send_daily_digest() -> str:
    created = digests.create_digests()
    if created:
        send_notification_mail.delay()
    return f"{created} digests"


@shared_task(name="cases.tasks.verify_audit_nightly")
def verify_audit_nightly() -> str:
    """`manage.py verify_audit`, by night; the admins are mailed when a chain is broken. Read-only: safe to run
    twice (they are then mailed twice, which a broken trail deserves)."""
    report = audit_chain.verify_chains()
    if report.holds:
        return f"chain holds: {report.events} events of {report.cases} cases"
    logger.error("Audit trail: the chain of %s cases is broken (first: %s, event %s)", len(report.breaks),
                 report.breaks[0].reference, report.breaks[0].event_id)
    mailed = notifications.mail_admins_of_breaks(report)
    return f"{len(report.breaks)} broken chains; {mailed} admins mailed"
