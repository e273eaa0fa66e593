"""Cases and their append-only event history (DESIGN.md §1, §4)."""

import re
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Case as DbCase
from django.db.models import Q, Value, When
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.audit_chain import chain, holds_case_lock
from core.audit import AppendOnlyModel, AppendOnlyQuerySet
from core.clock import today as local_today
from core.files import StoredFile
from core.notices import DEADLINE_KINDS, MailState, Notice, NoticeKind
from core.scopes import RefusingManager
from core.text import words
from departments.models import AuthorityRule, CaseType, DecisionLevel, Department

__all__ = ["DEADLINE_KINDS", "MailState", "NoticeKind"]  # the notice vocabulary, read here by the case pages

# The longest description the database holds (a CheckConstraint): the default of MAX_DESCRIPTION_CHARS, which may
# lower the limit the forms and the API apply but not raise it.
DESCRIPTION_MAX_CHARS = 20_000


class Status(models.TextChoices):
    TRIAGE = "triage", _("Triage")
    ROUTED = "routed", _("Routed")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("Awaiting supplement")
    SUBMITTED = "submitted", _("Submitted to the City Committee")
    RESOLVED = "resolved", _("Resolved")


OPEN_STATUSES = (Status.ROUTED, Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT, Status.SUBMITTED)
# Open work whose clock runs: a case waiting for the applicant's supplement has its clock stopped (DESIGN.md §3),
# so it is neither due soon nor overdue until the dossier is complete.
RUNNING_STATUSES = (Status.ROUTED, Status.IN_PROGRESS, Status.SUBMITTED)


class Source(models.TextChoices):
    CITIZEN = "citizen", _("Citizen or business")
    AGENCY = "agency", _("Agency")
    CITY_ASSIGNMENT = "city_assignment", _("City assignment")


class Outcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REWORK = "rework", _("Sent back for rework")


class TriageReason(models.TextChoices):
    NONE = "", _("—")
    NO_RULE = "no_rule", _("No authority rule matches")
    AMBIGUOUS_RULE = "ambiguous_rule", _("Equally specific rules name different owners")
    RETURNED = "returned", _("Returned by the receiving department")


class DeadlineFlag(models.TextChoices):
    """What the overdue sweep last marked on a case or consultation (DESIGN.md §2 rule 9): a flag, not a state."""

    NONE = "", _("On time")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


# What one search reads of a case, in the order its column keeps them (`Case.search_text`).
SEARCHED_FIELDS = ("reference", "title", "applicant_name", "description")
# More words than this in one search add nothing but work.
MAX_SEARCH_WORDS = 8
# A dossier's PIN (six digits, cases.services.intake), as a clerk types it from the applicant's receipt.
PIN_LOOK = re.compile(r"\d{6}")


def search_text_of(case: "Case") -> str:
    """The case's searched fields as their words, separated by one space (core.text.words)."""
    return " ".join(words(" ".join(getattr(case, name) or "" for name in SEARCHED_FIELDS)))


def search_words(text: str) -> list[str]:
    """The words of `text` as search compares them (a reference's parts are words too)."""
    return words(text)[:MAX_SEARCH_WORDS]


class WordsMatch(models.Func):
    """PostgreSQL: the search text holds each word, and a word that starts with the last one (the one still
    being typed), by the full-text index `case_search_words` (the same expression as the migration's). Only
    the last is a prefix: a prefix makes the index's answer one to check row by row (1.5 s against 0.07 s for
    three names on a million cases). `words` are `search_words`, safe for `to_tsquery`."""

    output_field = models.BooleanField()

    def __init__(self, column: str, words: list[str]):
        super().__init__(models.F(column))
        self.query = " & ".join([*words[:-1], f"{words[-1]}:*"])

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return (f"to_tsvector('simple'::regconfig, {column}) @@ to_tsquery('simple'::regconfig, %s)",
                [*params, self.query])


def text_search(text: str, prefix: str = "", *, pin: bool = False) -> Q:
    """Every word of `text` is in the case's reference, title, applicant or description, whatever the case and
    the diacritics ("vinh bao" finds "Vĩnh Bảo"); with `pin`, the case whose PIN `text` is also matches (for
    the intake desk only: the PIN is what an applicant shows to ask about their file). `prefix` reaches the case
    from a related row ("case__").

    On PostgreSQL a word matches a word of the case, the last one also its beginning (the full-text index
    answers); SQLite, without one, finds each anywhere in the text.
    """
    words = search_words(text)
    found = Q()
    if words and connection.vendor == "postgresql":
        found = Q(WordsMatch(f"{prefix}search_text", words))
    else:
        for word in words:
            found &= Q(**{f"{prefix}search_text__contains": word})
    if pin and PIN_LOOK.fullmatch(text.strip()):
        found |= Q(**{f"{prefix}pin": text.strip()})
    return found


def search_rank(text: str, prefix: str = "") -> DbCase:
    """0 for the case whose reference (or PIN) is the text, 1 where the words stand together as typed, 2 for the
    rest: the order a search's results are listed in, before the list's own."""
    exact = text.strip()
    phrase = " ".join(search_words(text))
    return DbCase(When(Q(**{f"{prefix}reference__iexact": exact}) | Q(**{f"{prefix}pin": exact}),
                       then=Value(0)),
                  When(**{f"{prefix}search_text__contains": phrase}, then=Value(1)),
                  default=Value(2), output_field=models.IntegerField())


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, today=None):
        from cases.measures import cases_overdue

        return self.filter(cases_overdue(today or local_today()))

    def not_overdue(self, today=None):
        from cases.measures import cases_overdue

        return self.exclude(cases_overdue(today or local_today()))

    def search(self, text: str, *, pin: bool = False):
        """Cases matching every word of `text` (`text_search`), the best first (`search_rank`), then in the
        list's own order; the whole list when `text` has no word."""
        if not search_words(text) and not (pin and PIN_LOOK.fullmatch(text.strip())):
            return self
        order = self.query.order_by or self.model._meta.ordering
        return self.filter(text_search(text, pin=pin)).alias(search_rank=search_rank(text)).order_by(
            "search_rank", *order)

    def key_tasks_first(self):
        return self.order_by("-key_task", "due_date", "-received_at", "-id")


class Case(models.Model):
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    pin = models.CharField(_("PIN"), max_length=8)
    title = models.CharField(_("title"), max_length=settings.MAX_TITLE_LENGTH)
    description = models.TextField(_("description"), blank=True)
    case_type = models.ForeignKey(CaseType, verbose_name=_("case type"), on_delete=models.PROTECT, related_name="cases")
    locality = models.ForeignKey(Department, verbose_name=_("locality"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="local_cases")
    amount = models.DecimalField(_("amount (VND)"), max_digits=18, decimal_places=0, null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.CITIZEN)
    applicant_name = models.CharField(_("applicant"), max_length=200, blank=True)
    applicant_contact = models.CharField(_("applicant contact"), max_length=200, blank=True)
    received_at = models.DateTimeField(_("received at"))
    receiving_unit = models.ForeignKey(Department, verbose_name=_("receiving unit"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="received_cases")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logged by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.TRIAGE)
    triage_reason = models.CharField(_("triage reason"), max_length=20, choices=TriageReason.choices, blank=True)
    owner = models.ForeignKey(Department, verbose_name=_("owner"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="owned_cases")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="assigned_cases")
    key_task = models.BooleanField(_("key task"), default=False)

    # The rule the case was routed by, and a snapshot of its terms: rule edits never re-route a case.
    rule = models.ForeignKey(AuthorityRule, verbose_name=_("rule"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="cases")
    rule_snapshot = models.JSONField(_("rule snapshot"), default=dict, blank=True)
    decision_level = models.CharField(_("decision level"), max_length=20, choices=DecisionLevel.choices, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)

    # Handover from the intake desk to the owner (Decree 61/2018 art. 18).
    triage_since = models.DateTimeField(_("in triage since"), null=True, blank=True)
    handover_due_at = models.DateTimeField(_("handover due"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handover_late = models.BooleanField(_("handover late"), null=True, blank=True)

    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    # Working days from receipt to resolution, fixed when it is resolved so later calendar edits don't
    # rewrite a unit's record; the department report's median reads it.
    working_days_taken = models.PositiveSmallIntegerField(_("working days taken"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)

    # The one request to the applicant to complete the dossier (Decree 61/2018 art. 15, 19).
    supplement_requested_at = models.DateTimeField(_("supplement requested at"), null=True, blank=True)
    supplement_items = models.TextField(_("documents missing"), blank=True)
    supplement_completed_at = models.DateTimeField(_("supplement completed at"), null=True, blank=True)

    # The one extension of the deadline the owner's head may grant, with its reason (DESIGN.md §3).
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extended_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("extended by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    due_date_before_extension = models.DateField(_("due date before the extension"), null=True, blank=True)

    # Bumped by every service that changes the case: an action based on an older view of it is refused.
    version = models.PositiveIntegerField(_("version"), default=1)
    # Reference, title, applicant and description as search compares them (core.text.words), kept by
    # `save` whenever one of them is saved: one column that a full-text index serves on PostgreSQL and that
    # SQLite, which has no such index and no unaccent, reads the same way.
    search_text = models.TextField(_("search text"), blank=True, default="", db_default="", editable=False)

    # Who sees which case is the access policy's to say (cases.policy): `objects` refuses to be used, and
    # whole-table work names itself `unscoped`.
    unscoped = CaseQuerySet.as_manager()
    objects = RefusingManager()

    class Meta:
        default_manager_name = "unscoped"
        ordering = ["-received_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["owner", "status", "due_date"]),
            models.Index(fields=["status", "received_at"]),
            models.Index(fields=["assignee", "status"]),
            # The sweep's working sets: open work by due date, and what it has flagged.
            # The overdue desk's order within a unit: key tasks first, then the longest overdue.
            models.Index(fields=["owner", "-key_task", "due_date", "id"], condition=Q(status__in=RUNNING_STATUSES),
                         name="case_desk_order"),
            # A unit's queue, every status, in its order (`key_tasks_first`): the first page is read from the
            # index, not sorted out of the unit's whole history (0.2 ms against 500 ms for a unit of 149,000 cases).
            models.Index(fields=["owner", "-key_task", "due_date", "-received_at", "-id"], name="case_queue_order"),
            # The intake desk's list: what the unit received, the latest first.
            models.Index(fields=["receiving_unit", "-received_at", "-id"], name="case_received_order"),
            # The sweep reads running work by due date, and only its id (PostgreSQL answers from the index).
            models.Index(fields=["due_date"], include=["id"], condition=Q(status__in=RUNNING_STATUSES),
                         name="case_running_due"),
            # The oversight reports: a period's resolutions, read from the index alone on PostgreSQL.
            models.Index(fields=["resolved_at"], include=["assignee", "owner", "due_date", "working_days_taken"],
                         condition=Q(status=Status.RESOLVED), name="case_resolved_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0),
                                   name="case_amount_not_negative"),
            # Only triage is ownerless; every accepted case has one named assignee (directive: rõ người).
            models.CheckConstraint(condition=Q(status=Status.TRIAGE) | Q(owner__isnull=False),
                                   name="case_owner_unless_triage"),
            models.CheckConstraint(
                condition=~Q(status__in=[Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT]) | Q(assignee__isnull=False),
                name="case_assignee_when_accepted",
            ),
            # A 5 MB description made a list of 20 cases 48 MB; no writer, however it gets in, goes past this.
            models.CheckConstraint(condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX_CHARS),
                                   name="case_description_length"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            # A row read without its description (the lists defer it) saves only what it read.
            refresh = not self.get_deferred_fields().intersection(SEARCHED_FIELDS)
        else:
            refresh = bool(set(update_fields).intersection(SEARCHED_FIELDS))
            if refresh:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        if refresh:
            self.search_text = search_text_of(self)
        super().save(*args, **kwargs)

    @property
    def is_overdue(self) -> bool:
        from cases.measures import case_is_overdue

        return case_is_overdue(self, local_today())

    @property
    def legal_basis(self) -> str:
        return self.rule_snapshot.get("legal_basis", "")


class EventAction(models.TextChoices):
    CREATED = "created", _("Logged at intake")
    ROUTED = "routed", _("Routed by rule")
    TRIAGED = "triaged", _("Sent to triage")
    ROUTED_MANUALLY = "routed_manually", _("Routed by a clerk")
    ACCEPTED = "accepted", _("Accepted")
    ASSIGNED = "assigned", _("Assigned")
    RETURNED = "returned", _("Returned")
    TRANSFERRED = "transferred", _("Transferred")
    PROPOSED = "proposed", _("Resolution proposed")
    SUBMITTED = "submitted", _("Submitted to the City Committee")
    DECIDED = "decided", _("Decided by the City Committee")
    RESOLVED = "resolved", _("Resolved")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplement requested")
    SUPPLEMENT_COMPLETED = "supplement_completed", _("Supplement completed")
    DISPUTE_FILED = "dispute_filed", _("Rule dispute filed")
    DISPUTE_SETTLED = "dispute_settled", _("Rule dispute settled")
    ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
    CONSULTED = "consulted", _("Opinions requested")
    CONSULTATION_ASSIGNED = "consultation_assigned", _("Consultation assigned")
    CONSULTATION_ANSWERED = "consultation_answered", _("Opinion given")
    DEEMED_AGREED = "deemed_agreed", _("Deemed to agree after silence")
    CONSULTATION_WITHDRAWN = "consultation_withdrawn", _("Opinion request withdrawn")
    RECONCILED = "reconciled", _("Disagreement reconciled")
    EXTENDED = "extended", _("Deadline extended")
    KEY_TASK_SET = "key_task_set", _("Marked as a key task")
    KEY_TASK_CLEARED = "key_task_cleared", _("No longer a key task")
    CORRECTED = "corrected", _("Clerical details corrected")
    REFUSED = "refused", _("Refused")


class CaseEventQuerySet(AppendOnlyQuerySet):
    def last_digest(self, case_id: int) -> str:
        """The digest the case's next event follows: its latest event's ("" before its first)."""
        return self.filter(case_id=case_id).order_by("-id").values_list("digest", flat=True).first() or ""

    def bulk_create(self, objs, *args, **kwargs):
        # The bulk paths (intake, the silence sweep) link their events themselves, in the order they write them.
        objs = list(objs)
        if any(not event.digest for event in objs):
            raise ValueError("case events are written chained: link them with cases.audit_chain.chain first")
        return super().bulk_create(objs, *args, **kwargs)


class CaseEvent(AppendOnlyModel):
    """One entry of a case's audit trail; never changed or removed once written (directive: rõ trách nhiệm).

    Each event carries the SHA-256 of its content and of the case's event before it (cases.audit_chain), so a
    change made past the database's refusal shows: `manage.py verify_audit`.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=40, choices=EventAction.choices)
    from_status = models.CharField(_("from status"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=Status.choices, blank=True)
    from_department = models.ForeignKey(Department, verbose_name=_("from unit"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    to_department = models.ForeignKey(Department, verbose_name=_("to unit"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    # Codes and old/new values (e.g. the refusal code, the rule id); labels are rendered in the reader's language.
    payload = models.JSONField(_("details"), default=dict, blank=True)
    # The hash chain, in hex: the digest of this event's content and `previous_digest`, the digest of the case's
    # event before it (blank for its first). Computed when the event is written, never given.
    digest = models.CharField(_("digest"), max_length=64, blank=True, editable=False)
    previous_digest = models.CharField(_("previous digest"), max_length=64, blank=True, editable=False)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        # The oversight reports count a period's refused attempts; refusals are a small share of all events.
        indexes = [models.Index(fields=["at"], condition=Q(action="refused"), name="event_refusals_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {timezone.localtime(self.at):%d/%m/%Y %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            return super().save(*args, **kwargs)  # refused: an event is never saved twice
        with transaction.atomic(savepoint=False):
            if not holds_case_lock(self.case_id):
                # Two events on one case at once must not both follow the same event: the second writer waits
                # here until the first commits, then reads the event the first wrote. A service that already
                # holds the case (`locked_case`) says so, and the lock is not taken twice.
                list(Case.unscoped.select_for_update().filter(pk=self.case_id).values_list("pk", flat=True))
            chain([self], CaseEvent.objects.last_digest(self.case_id))
            return super().save(*args, **kwargs)


class ReferenceCounter(models.Model):
    """The last dossier sequence number issued per receiving unit and day (Circular 01/2018 art. 19)."""

    prefix = models.CharField(max_length=32)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="reference_counter_unique")]

    def __str__(self) -> str:
        return f"{self.prefix} {self.day.isoformat()}: {self.last}"


class Return(models.Model):
    """A case sent back by a department the rules do not give it (directive: trả lại ngay)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="returns")
    department = models.ForeignKey(Department, verbose_name=_("returned by unit"), on_delete=models.PROTECT,
                                   related_name="returns")
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("returned by"),
                                    on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField(_("returned at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    late = models.BooleanField(_("late"), default=False)
    working_days_held = models.PositiveSmallIntegerField(_("working days held"), default=0)
    competent_department = models.ForeignKey(Department, verbose_name=_("competent unit by the rules"), null=True,
                                             blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-returned_at"]
        verbose_name = _("return")
        verbose_name_plural = _("returns")

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.department_id}"


class Submission(models.Model):
    """A matter beyond the owner's authority sent up for the City Committee's decision."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="submissions")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="submissions")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"),
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    summary = models.TextField(_("summary"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(outcome=""), name="one_pending_submission_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.submitted_at:%Y-%m-%d}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RULE_CHANGED = "rule_changed", _("Rule changed")
    DISMISSED = "dismissed", _("Dismissed")


class RuleDispute(models.Model):
    """A department's objection that the rule giving it a case is wrong, for the admins to settle."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="disputes")
    rule = models.ForeignKey(AuthorityRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="disputes")
    department = models.ForeignKey(Department, verbose_name=_("disputing unit"), on_delete=models.PROTECT,
                                   related_name="rule_disputes")
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("filed by"), on_delete=models.PROTECT,
                                 related_name="+")
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("settled by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settlement_note = models.TextField(_("settlement note"), blank=True)

    class Meta:
        ordering = ["-filed_at"]
        verbose_name = _("rule dispute")
        verbose_name_plural = _("rule disputes")
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], condition=Q(status="open"),
                                    name="one_open_dispute_per_case_and_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department_id} {self.status}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Stored under a random name: the applicant's file name is kept in the row, never trusted as a path.
    return f"cases/{instance.case_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class Attachment(StoredFile):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=300)

    class Meta(StoredFile.Meta):
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")


class ConsultationStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")
    ANSWERED = "answered", _("Answered")
    DEEMED_AGREED = "deemed_agreed", _("Deemed to agree (no answer by the deadline)")
    # The case was settled while the request was open: there is nothing left to give an opinion on.
    WITHDRAWN = "withdrawn", _("Withdrawn: the case was settled")


class Position(models.TextChoices):
    AGREE = "agree", _("Agree")
    AGREE_WITH_COMMENTS = "agree_with_comments", _("Agree with comments")
    DISAGREE = "disagree", _("Disagree")
    NOT_COMPETENT = "not_competent", _("Not within our functions")


class Consultation(models.Model):
    """The owner's request to another department for its opinion, with its own deadline (DESIGN.md §2 rule 6)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    department = models.ForeignKey(Department, verbose_name=_("consulted unit"), on_delete=models.PROTECT,
                                   related_name="consultations")
    # The owner when it asked: the figures stay with the unit that consulted, even after a transfer.
    requesting_department = models.ForeignKey(Department, verbose_name=_("requesting unit"),
                                              on_delete=models.PROTECT, related_name="requested_consultations")
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    required = models.BooleanField(_("required by the rule"), default=False)
    question = models.TextField(_("question"))
    justification = models.TextField(_("why this unit"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"),
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_date = models.DateField(_("due date"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="assigned_consultations")
    status = models.CharField(_("status"), max_length=20, choices=ConsultationStatus.choices,
                              default=ConsultationStatus.OPEN)
    position = models.CharField(_("position"), max_length=30, choices=Position.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_late = models.BooleanField(_("answered late"), null=True, blank=True)
    # Fixed when the answer comes, so later calendar edits don't rewrite the unit's record.
    answer_working_days = models.PositiveSmallIntegerField(_("answer time (working days)"), null=True, blank=True)
    deemed_agreed_at = models.DateTimeField(_("deemed to agree at"), null=True, blank=True)

    # As for cases: who sees a consultation is the access policy's to say.
    unscoped = models.Manager()
    objects = RefusingManager()

    class Meta:
        default_manager_name = "unscoped"
        ordering = ["requested_at", "id"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        indexes = [
            models.Index(fields=["department", "status", "due_date"]),
            models.Index(fields=["due_date"], include=["id"], condition=Q(status="open"), name="consultation_open_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], condition=Q(status="open"),
                                    name="one_open_consultation_per_case_and_unit"),
            models.UniqueConstraint(fields=["case", "department", "round"], name="one_consultation_per_round"),
            models.CheckConstraint(condition=~Q(status="answered") | ~Q(position=""),
                                   name="consultation_answer_has_position"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id} #{self.round}"

    @property
    def is_overdue(self) -> bool:
        from cases.measures import consultation_is_overdue

        return consultation_is_overdue(self, local_today())


class Reconciliation(models.Model):
    """How the owner's head settled a disagreement before submitting (directive: thống nhất trước khi trình)."""

    consultation = models.OneToOneField(Consultation, on_delete=models.PROTECT, related_name="reconciliation")
    note = models.TextField(_("how it was settled"))
    settled_on = models.DateField(_("settled on"))
    attachment = models.ForeignKey(Attachment, verbose_name=_("attachment"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")

    def __str__(self) -> str:
        return f"{self.consultation_id} {self.settled_on.isoformat()}"


class Notification(Notice):
    """A notice about a case or a consultation, or a head's daily digest (DESIGN.md §2 rule 9).

    The unique constraints are what make the sweep safe to run twice or on two workers at once: one notice
    per person, item, kind and due date (a moved deadline is news again), one per assignment event, one
    digest per person and day.
    """

    headline_template = "notifications/headline.txt"
    list_relations = ("case", "consultation__case")

    case = models.ForeignKey(Case, verbose_name=_("case"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="notifications")
    consultation = models.ForeignKey(Consultation, verbose_name=_("consultation"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(CaseEvent, verbose_name=_("event"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="notifications")

    class Meta(Notice.Meta):
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The mail queue in the order it is sent (cases.notifications), so that claiming the next notice reads one
            # entry: on created_at alone, the planner sorted every pending notice, with its joins, for each mail.
            models.Index(fields=["created_at", "id"], condition=Q(mail_state="pending"),
                         name="notification_mail_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "case", "on_date"], name="one_case_deadline_notice",
                                    condition=Q(kind__in=DEADLINE_KINDS, consultation__isnull=True)),
            models.UniqueConstraint(fields=["recipient", "kind", "consultation", "on_date"],
                                    name="one_consultation_deadline_notice",
                                    condition=Q(kind__in=DEADLINE_KINDS, consultation__isnull=False)),
            models.UniqueConstraint(fields=["recipient", "event"], name="one_notice_per_event",
                                    condition=Q(event__isnull=False)),
            models.UniqueConstraint(fields=["recipient", "on_date"], name="one_digest_per_day",
                                    condition=Q(kind=NoticeKind.DIGEST)),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.case_id or self.consultation_id or self.on_date}"

    @property
    def subject_case(self) -> Case | None:
        return self.consultation.case if self.consultation_id else self.case

    def link(self) -> str:
        from django.urls import reverse

        case = self.subject_case
        return reverse("case-detail", args=[case.reference]) if case else reverse("overdue-desk")

    def mail_context(self) -> dict:
        if self.kind != NoticeKind.DIGEST:
            return {}
        # Imported here: the digest reads the desk, whose module imports the case services.
        from cases.digests import digest

        return digest(self.recipient)


class DeadlineMark(models.Model):
    """The overdue sweep's memory: one row per case or consultation it flagged due soon or overdue.

    Kept beside the item, not in its row, because the sweep writes it in bulk: flagging ten thousand cases
    writes ten thousand narrow rows here instead of ten thousand wide case rows through all their indexes,
    and never locks a case an official is working on. A mark is for one due date: a moved deadline is
    flagged afresh. Unique per item, so two sweeps at once flag each item once.
    """

    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.CASCADE, related_name="deadline_mark")
    consultation = models.OneToOneField(Consultation, null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="deadline_mark")
    flag = models.CharField(_("deadline flag"), max_length=10, choices=DeadlineFlag.choices)
    due_date = models.DateField(_("flagged due date"))
    flagged_at = models.DateTimeField(_("flagged at"))

    class Meta:
        verbose_name = _("deadline flag")
        verbose_name_plural = _("deadline flags")
        indexes = [models.Index(fields=["flagged_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(case__isnull=False, consultation__isnull=True)
                                   | Q(case__isnull=True, consultation__isnull=False),
                                   name="deadline_mark_one_item"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id or self.consultation_id} {self.flag} {self.due_date.isoformat()}"
