"""Notices to people: what a notice row is, and the registry of the apps' notice tables.

Each app keeps its own notices (cases: assignments, deadlines and the daily digest; oversight: the handling
deadline of violations) in a table of its own, made from `Notice`, and registers it here. The bell, its list
and the mailer read every registered table, so an app's notices reach people without another app knowing
its models.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Case as DbCase
from django.db.models import QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    ASSIGNED = "assigned", _("New assignment")
    ROUTED = "routed", _("Case routed to your unit")
    OPINION_REQUESTED = "opinion_requested", _("Opinion requested from your unit")
    OPINION_GIVEN = "opinion_given", _("Opinion given")
    DEEMED_AGREED = "deemed_agreed", _("Opinion deemed given after silence")
    BACK_TO_TRIAGE = "back_to_triage", _("Case returned to triage")
    DECIDED = "decided", _("City Committee's decision")
    REWORK = "rework", _("Sent back for rework")
    SUPPLEMENT_DONE = "supplement_done", _("Supplement completed")
    DISPUTE_SETTLED = "dispute_settled", _("Rule dispute settled")
    EXTENDED = "extended", _("Deadline extended")
    KEY_TASK = "key_task", _("Marked as a key task")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    DIGEST = "digest", _("Daily digest")
    WITHDRAWN = "withdrawn", _("Request withdrawn")


DEADLINE_KINDS = (NoticeKind.DUE_SOON, NoticeKind.OVERDUE)


class MailState(models.TextChoices):
    PENDING = "pending", _("To be sent")
    # Claimed by a worker, whose mail is leaving now; left so only by a worker that died (cases.notifications).
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    NONE = "none", _("No e-mail address")
    # The person chose not to get this kind by mail; the bell and the daily digest still show it.
    OFF = "off", _("Not mailed, as chosen")


class Notice(models.Model):
    """A notice to one person, shown under the bell and mailed once (DESIGN.md §2 rule 9).

    A concrete table names what its notices are about, says in `headline_template` how one reads, in
    `link()` where it leads, and in `list_relations` what the bell reads beside each row.
    """

    headline_template = ""
    list_relations: tuple[str, ...] = ()

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
                                  related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    # The due date the notice is about, or the digest's day.
    on_date = models.DateField(_("date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    mail_state = models.CharField(_("e-mail"), max_length=10, choices=MailState.choices, default=MailState.PENDING)
    mail_attempts = models.PositiveSmallIntegerField(_("e-mail attempts"), db_default=0)
    mailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    mail_error = models.TextField(_("last e-mail error"), blank=True, db_default="")

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def link(self) -> str:
        """The page the notice leads to."""
        raise NotImplementedError

    def mail_context(self) -> dict:
        """What the mail of this notice lists beyond its headline and link."""
        return {}

    @property
    def source(self) -> str:
        """The notice's table, as the bell's links name it."""
        return self._meta.label_lower


_notice_models: list[type[Notice]] = []


def register_notices(model: type[Notice]) -> None:
    """Called by an app's `ready()` for each of its notice tables."""
    if model not in _notice_models:
        _notice_models.append(model)


def notice_models() -> tuple[type[Notice], ...]:
    return tuple(_notice_models)


def notice_model(source: str) -> type[Notice] | None:
    return next((model for model in _notice_models if model._meta.label_lower == source), None)


def hold_unwanted_mail(model: type[Notice]) -> int:
    """Pending notices of a kind their recipient chose not to get by mail are marked so, not sent: one UPDATE,
    run by the mailer before it sends, so that every way a notice is written is covered by one rule."""
    from core.models import MailChoice

    unwanted = MailChoice.objects.filter(user=models.OuterRef("recipient"), kind=models.OuterRef("kind"), mail=False)
    return model._default_manager.filter(mail_state=MailState.PENDING).filter(models.Exists(unwanted)).update(
        mail_state=MailState.OFF)


def mail_state_for(email_path: str) -> DbCase:
    """A new notice's mail state, in SQL: `none` for someone without an address (`email_path` names it)."""
    return DbCase(When(**{email_path: ""}, then=Value(MailState.NONE)), default=Value(MailState.PENDING))


def each_table(select) -> Iterable[QuerySet]:
    """`select(model)` for every registered notice table."""
    return (select(model) for model in _notice_models)


def union_all(querysets: Iterable[QuerySet]) -> QuerySet:
    """One query over the same columns of every notice table (each part unordered: a compound statement is
    ordered as a whole)."""
    first, *rest = (queryset.order_by() for queryset in querysets)
    return first.union(*rest, all=True) if rest else first
