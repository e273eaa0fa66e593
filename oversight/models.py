"""Oversight records kept by the Inspectorate and Home Affairs (DESIGN.md §2 rule 10).

Inspections (scheduled or surprise), the violations they or complaints and alerts bring to light, the
actions taken on each violation within its handling deadline, and commendations. The lists a violation's
kind, severity and the actions and commendation levels are chosen from are tables the admins edit, since
the decrees that set them change. CityOps keeps these records and puts the evidence in front of people;
it never punishes anyone by itself.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Case, DeadlineFlag
from core.audit import AppendOnlyModel
from core.files import StoredFile
from core.notices import DEADLINE_KINDS, Notice
from departments.models import Department


class ChoiceTable(models.Model):
    """A list an admin keeps up to date with the law: a code for exports, a name, its legal basis.

    A choice in use is never deleted (the records keep it); an admin switches it off instead, and it is
    then no longer offered for new records.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(_("position in lists"), default=0)
    active = models.BooleanField(_("offered for new records"), default=True)

    class Meta:
        abstract = True
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class ViolationKind(ChoiceTable):
    """Conduct the one-stop-shop rules forbid (Decree 118/2025, formerly Decree 61/2018 art. 5)."""

    history = HistoricalRecords()

    class Meta(ChoiceTable.Meta):
        verbose_name = _("violation kind")
        verbose_name_plural = _("violation kinds")


class Severity(ChoiceTable):
    """How serious a violation is (Decree 172/2025): its position orders them, least serious first."""

    history = HistoricalRecords()

    class Meta(ChoiceTable.Meta):
        verbose_name = _("severity")
        verbose_name_plural = _("severities")


class ActionKind(ChoiceTable):
    """What was done about a violation: a review meeting, a move to other work, or a disciplinary form."""

    disciplinary = models.BooleanField(_("disciplinary measure"), default=False,
                                       help_text=_("A form of discipline under the current decree, as opposed "
                                                   "to a review meeting or a move to other work."))
    history = HistoricalRecords()

    class Meta(ChoiceTable.Meta):
        verbose_name = _("kind of action")
        verbose_name_plural = _("kinds of action")


class CommendationLevel(ChoiceTable):
    history = HistoricalRecords()

    class Meta(ChoiceTable.Meta):
        verbose_name = _("commendation level")
        verbose_name_plural = _("commendation levels")


class InspectionKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SURPRISE = "surprise", _("Surprise")


class Inspection(models.Model):
    """A public-service inspection of one unit (kiểm tra công vụ), announced or not."""

    department = models.ForeignKey(Department, verbose_name=_("inspected unit"), on_delete=models.PROTECT,
                                   related_name="inspections")
    kind = models.CharField(_("kind"), max_length=20, choices=InspectionKind.choices)
    inspected_on = models.DateField(_("date of the inspection"))
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("inspection team"),
                                  related_name="inspections")
    findings = models.TextField(_("findings"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        indexes = [models.Index(fields=["department", "inspected_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.department} {self.inspected_on:%d/%m/%Y}"


def inspection_file_path(instance: "InspectionAttachment", filename: str) -> str:
    # A random stored name: the uploaded name is kept in the row, never trusted as a path.
    return f"oversight/inspections/{instance.inspection_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class InspectionAttachment(StoredFile):
    """A minute, photo or report of an inspection; checked and fingerprinted as case files are."""

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=inspection_file_path, max_length=300)

    class Meta(StoredFile.Meta):
        verbose_name = _("inspection file")
        verbose_name_plural = _("inspection files")


class ViolationSource(models.TextChoices):
    SURPRISE_INSPECTION = "surprise_inspection", _("Surprise inspection")
    PERIODIC_INSPECTION = "periodic_inspection", _("Periodic inspection")
    COMPLAINT = "complaint", _("Complaint")
    SYSTEM_ALERT = "system_alert", _("System alert")


# The inspection kind each inspection source must come from.
INSPECTION_SOURCES = {
    ViolationSource.SURPRISE_INSPECTION: InspectionKind.SURPRISE,
    ViolationSource.PERIODIC_INSPECTION: InspectionKind.SCHEDULED,
}


class ViolationStatus(models.TextChoices):
    OPEN = "open", _("Being handled")
    HANDLED = "handled", _("Handled")
    DISMISSED = "dismissed", _("Not confirmed")


class Violation(models.Model):
    """Misconduct of one person, from discovery until its handling ends.

    The handling must end within VIOLATION_HANDLING_DAYS of discovery, extendable once to
    VIOLATION_HANDLING_MAX_DAYS (90 and 150 days: Decree 234/2026); `due_date` is that deadline, flagged by
    the overdue sweep like any other. `handler` is the one official answerable for following it through.
    """

    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
                               related_name="violations")
    department = models.ForeignKey(Department, verbose_name=_("unit"), on_delete=models.PROTECT,
                                   related_name="violations")
    discovered_on = models.DateField(_("discovered on"))
    source = models.CharField(_("source"), max_length=30, choices=ViolationSource.choices)
    inspection = models.ForeignKey(Inspection, verbose_name=_("inspection"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="violations")
    kind = models.ForeignKey(ViolationKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+")
    severity = models.ForeignKey(Severity, verbose_name=_("severity"), on_delete=models.PROTECT, related_name="+")
    description = models.TextField(_("what happened"))
    cases = models.ManyToManyField(Case, verbose_name=_("related cases"), blank=True, related_name="violations")
    status = models.CharField(_("status"), max_length=20, choices=ViolationStatus.choices,
                              default=ViolationStatus.OPEN)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible official"),
                                on_delete=models.PROTECT, related_name="violations_handled")
    due_date = models.DateField(_("handling due date"))
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extended_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("extended by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    due_date_before_extension = models.DateField(_("due date before the extension"), null=True, blank=True)
    closed_at = models.DateTimeField(_("handling ended at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("ended by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    closing_note = models.TextField(_("conclusion"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-discovered_on", "-id"]
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        indexes = [
            models.Index(fields=["person", "discovered_on"]),
            models.Index(fields=["department", "discovered_on"]),
            models.Index(fields=["due_date"], include=["id"], condition=Q(status="open"), name="violation_open_due"),
        ]
        constraints = [
            # An inspection source names its inspection; a complaint or an alert has none.
            models.CheckConstraint(
                condition=Q(source__in=list(INSPECTION_SOURCES), inspection__isnull=False)
                | (~Q(source__in=list(INSPECTION_SOURCES)) & Q(inspection__isnull=True)),
                name="violation_inspection_matches_source"),
            models.CheckConstraint(condition=Q(due_date__gte=F("discovered_on")), name="violation_due_after_discovery"),
            models.CheckConstraint(condition=Q(status="open") | Q(closed_at__isnull=False),
                                   name="violation_closed_when_ended"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} ({self.discovered_on:%d/%m/%Y})"


class ActionTaken(models.Model):
    """One measure decided on a violation, by whom and under which decision (rõ người, rõ trách nhiệm)."""

    violation = models.ForeignKey(Violation, on_delete=models.PROTECT, related_name="actions")
    kind = models.ForeignKey(ActionKind, verbose_name=_("action"), on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField(_("decided on"))
    decision_number = models.CharField(_("decision number"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["decided_on", "id"]
        verbose_name = _("action taken")
        verbose_name_plural = _("actions taken")

    def __str__(self) -> str:
        return f"{self.kind} {self.decided_on:%d/%m/%Y}"


class Commendation(models.Model):
    """Praise for a person or a unit that dared to act (directive: khen thưởng người dám nghĩ, dám làm)."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("person"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="commendations")
    department = models.ForeignKey(Department, verbose_name=_("unit"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="commendations")
    level = models.ForeignKey(CommendationLevel, verbose_name=_("level"), on_delete=models.PROTECT,
                              related_name="+")
    reason = models.TextField(_("reason"))
    awarded_on = models.DateField(_("awarded on"))
    decision_number = models.CharField(_("decision number"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-awarded_on", "-id"]
        verbose_name = _("commendation")
        verbose_name_plural = _("commendations")
        constraints = [
            models.CheckConstraint(condition=Q(person__isnull=False, department__isnull=True)
                                   | Q(person__isnull=True, department__isnull=False),
                                   name="commendation_person_or_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.person or self.department} {self.awarded_on:%d/%m/%Y}"


class ReviewThresholds(models.Model):
    """Where the staff report draws its two lists (one row, edited by the admins, with history).

    Someone is listed for review when any figure crosses its line; a candidate for commendation has
    handled enough cases, almost all on time, with nothing against them in the period. The lists inform
    Home Affairs and the Inspectorate; they decide nothing (DESIGN.md §2 rule 10).
    """

    min_cases_for_rate = models.PositiveSmallIntegerField(
        _("cases needed to judge the on-time rate"), default=5,
        help_text=_("Below this many cases handled in the period, the on-time rate puts no one on either list."))
    review_on_time_below = models.PositiveSmallIntegerField(_("review: on-time rate below (%)"), default=70)
    review_overdue_at_least = models.PositiveSmallIntegerField(_("review: cases overdue now, at least"), default=3)
    review_late_returns_at_least = models.PositiveSmallIntegerField(_("review: late returns, at least"), default=2)
    review_refusals_at_least = models.PositiveSmallIntegerField(
        _("review: refused attempts to pass own work on, at least"), default=2)
    review_late_consultations_at_least = models.PositiveSmallIntegerField(
        _("review: consultations answered late, at least"), default=2)
    commend_cases_at_least = models.PositiveSmallIntegerField(_("commendation: cases handled, at least"), default=10)
    commend_on_time_at_least = models.PositiveSmallIntegerField(_("commendation: on-time rate at least (%)"),
                                                                default=95)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("staff report thresholds")
        verbose_name_plural = _("staff report thresholds")
        constraints = [
            models.CheckConstraint(condition=Q(review_on_time_below__lte=100) & Q(commend_on_time_at_least__lte=100),
                                   name="thresholds_percentages"),
            models.CheckConstraint(condition=Q(pk=1), name="thresholds_single_row"),
        ]

    def __str__(self) -> str:
        return str(_("Staff report thresholds"))

    @classmethod
    def current(cls) -> "ReviewThresholds":
        thresholds, _created = cls.objects.get_or_create(pk=1)
        return thresholds


class ViolationMark(models.Model):
    """The overdue sweep's mark on a violation whose handling is due soon or overdue: one per violation, for
    one due date (an extension is flagged afresh), as the sweep keeps for cases and consultations."""

    violation = models.OneToOneField(Violation, on_delete=models.CASCADE, related_name="deadline_mark")
    flag = models.CharField(_("deadline flag"), max_length=10, choices=DeadlineFlag.choices)
    due_date = models.DateField(_("flagged due date"))
    flagged_at = models.DateTimeField(_("flagged at"), db_index=True)

    class Meta:
        verbose_name = _("handling deadline flag")
        verbose_name_plural = _("handling deadline flags")

    def __str__(self) -> str:
        return f"{self.violation_id} {self.flag} {self.due_date.isoformat()}"


class ViolationNotice(Notice):
    """A notice to the official answerable for a violation's handling, or to the head of their unit, that the
    handling is due soon or overdue; one per person, violation, kind and due date."""

    headline_template = "oversight/records/notice_headline.txt"
    list_relations = ("violation__kind", "violation__person")

    violation = models.ForeignKey(Violation, verbose_name=_("violation"), on_delete=models.CASCADE,
                                  related_name="notices")

    class Meta(Notice.Meta):
        verbose_name = _("handling deadline notice")
        verbose_name_plural = _("handling deadline notices")
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The mail queue in the order it is sent (cases.notifications), so that claiming the next notice reads one
            # entry: on created_at alone, the planner sorted every pending notice, with its joins, for each mail.
            models.Index(fields=["created_at", "id"], condition=Q(mail_state="pending"),
                         name="violationnotice_pending"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "violation", "on_date"],
                                    condition=Q(kind__in=DEADLINE_KINDS), name="one_violation_deadline_notice"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.violation_id}"

    def link(self) -> str:
        from django.urls import reverse

        return reverse("violation-detail", args=[self.violation_id])


class OversightAction(models.TextChoices):
    INSPECTION_RECORDED = "inspection_recorded", _("Inspection recorded")
    FILE_ADDED = "file_added", _("File added to the inspection")
    VIOLATION_RECORDED = "violation_recorded", _("Violation recorded")
    EXTENDED = "extended", _("Handling deadline extended")
    ACTION_TAKEN = "action_taken", _("Action taken")
    HANDLED = "handled", _("Handling ended")
    DISMISSED = "dismissed", _("Closed as not confirmed")
    COMMENDATION_RECORDED = "commendation_recorded", _("Commendation recorded")
    REFUSED = "refused", _("Refused")


class OversightEvent(AppendOnlyModel):
    """One entry of the oversight records' audit trail: who changed which record when, from what to what;
    never changed or removed once written (directive: rõ trách nhiệm). A refused move is recorded too."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=40, choices=OversightAction.choices)
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    violation = models.ForeignKey(Violation, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    commendation = models.ForeignKey(Commendation, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="events")
    note = models.TextField(_("note"), blank=True)
    # Codes and old/new values ({field: [old, new]}); labels are rendered in the reader's language.
    payload = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("oversight event")
        verbose_name_plural = _("oversight events")
        constraints = [
            models.CheckConstraint(
                condition=Q(inspection__isnull=False, violation__isnull=True, commendation__isnull=True)
                | Q(inspection__isnull=True, violation__isnull=False, commendation__isnull=True)
                | Q(inspection__isnull=True, violation__isnull=True, commendation__isnull=False),
                name="oversight_event_one_record"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {timezone.localtime(self.at):%d/%m/%Y %H:%M}"
