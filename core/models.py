"""The record of who read personal data from outside the units that work on it (core.reads writes it)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.audit import AppendOnlyModel
from core.notices import NoticeKind

# An export's query string is kept as it was asked, up to this long (a longer one is a client's mistake).
MAX_QUERY_CHARS = 2000


class ReadKind(models.TextChoices):
    CASE_DETAIL = "case_detail", _("Case details")
    ATTACHMENT = "attachment", _("Attachment")
    LETTER = "letter", _("Letter to the applicant")
    EXPORT = "export", _("Export")


class PersonalDataRead(AppendOnlyModel):
    """One read of personal data: who, when, what, from which address.

    The Law on Personal Data Protection (Law 91/2025/QH15, in force since 1 January 2026) wants access to
    personal data controlled and accounted for. A case's owner unit and the units consulted on it read its
    applicant's data to do their work; everyone else who can open it (inspectors, Home Affairs, the city office,
    admins) reads it from outside, and each such read of its page, a file or a letter is a row here, as is every
    export of a desk or a report by anyone. Rows are written once, in one INSERT, and never changed or removed.
    """

    reader = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reader"), on_delete=models.PROTECT,
                               related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("what was read"), max_length=20, choices=ReadKind.choices)
    # The case's reference, or the export's address.
    subject = models.CharField(_("case or export"), max_length=200)
    # Which file or letter of the case; empty for its page and for an export.
    item = models.CharField(_("item"), max_length=300, blank=True)
    query = models.TextField(_("query"), blank=True)
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("personal data read")
        verbose_name_plural = _("personal data reads")
        indexes = [
            models.Index(fields=["-at"], name="read_at"),
            models.Index(fields=["reader", "-at"], name="read_reader_at"),
            models.Index(fields=["subject", "-at"], name="read_subject_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=ReadKind.values), name="read_kind_known"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject}"


class RefusedAttempt(AppendOnlyModel):
    """A refused move with no record to write it beside: a case that was never logged because its receipt was
    dated too far back, say. A refusal on an existing record goes on that record's own trail instead."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    attempted = models.CharField(_("attempted"), max_length=40)
    code = models.CharField(_("code"), max_length=40)
    detail = models.TextField(_("reason"))
    # Codes and values (never display text): what was asked for, and the limit it went past.
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("refused attempt")
        verbose_name_plural = _("refused attempts")
        indexes = [models.Index(fields=["-at"], name="refused_attempt_at")]

    def __str__(self) -> str:
        return f"{self.code} {self.attempted}"


class MailChoice(models.Model):
    """Whether a person gets one kind of notice by mail; without a row, they do. The bell shows every notice
    whatever is chosen here, and the daily digest lists what is still unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="mail_choices")
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    mail = models.BooleanField(_("by e-mail"), default=True)

    class Meta:
        verbose_name = _("e-mail choice")
        verbose_name_plural = _("e-mail choices")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_mail_choice_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} {'✓' if self.mail else '✗'}"
