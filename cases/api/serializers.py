"""How a case reads in the API, and what each case action takes as input."""

import re

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Left
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.forms.intake import MAX_DESCRIPTION_LENGTH
from cases.measures import working_days_late
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    Consultation,
    ConsultationStatus,
    DisputeStatus,
    Reconciliation,
    Return,
    RuleDispute,
    Source,
    Status,
    Submission,
)
from cases.services import routing_decision
from core.api import FieldsBuiltOnce
from core.forms import MAX_NOTE_LENGTH
from core.periods import within_calendar
from core.refusals import RefusalCode
from departments.api.fields import ReceivedAtField, code_field, locality_field
from departments.models import CaseType, Department

STATUS_HELP = "A case status code: " + ", ".join(Status.values) + "; empty when not applicable."


def code_of(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


# A list shows the first words of each description, never all of it: a description may be 20,000 characters, and
# a page of 50 whole ones is megabytes nobody reads in a list. The database sends one character more than a
# summary holds, so that the summary knows whether it cut anything.
SUMMARY_CHARS = 200


def with_summaries(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The cases with the head of their description (`summary_head`) instead of all of it."""
    return cases.defer("description").annotate(summary_head=Left("description", SUMMARY_CHARS + 1))


def summary_of(head: str) -> str:
    """The head of a description, on one line, cut at the last word that fits, with an ellipsis if cut."""
    if len(head) <= SUMMARY_CHARS:
        return " ".join(head.split())
    cut = head[:SUMMARY_CHARS]
    if not head[SUMMARY_CHARS].isspace() and re.search(r"\s", cut):
        cut = re.sub(r"\S*$", "", cut)
    return " ".join(cut.split()).rstrip(",;:.-–") + "…"


# The fields a case shows in a list and in full; the full one has its description where the list has a summary.
CASE_FIELDS = ["reference", "title", "case_type", "locality", "amount", "source", "applicant_name",
               "applicant_contact", "received_at", "key_task", "status", "owner", "assignee", "due_date", "overdue",
               "rule", "triage_reason", "version", "accepted_at", "resolved_at", "outcome", "decision_level",
               "legal_basis", "supplement_requested_at", "supplement_items", "handover_late"]


class CaseSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """A case as a list shows it: a summary of its description (read from `with_summaries`)."""

    case_type = code_of()
    locality = code_of()
    owner = code_of()
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    rule = serializers.PrimaryKeyRelatedField(read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    legal_basis = serializers.CharField(read_only=True)
    summary = serializers.SerializerMethodField(
        help_text=f"The description's first words (at most {SUMMARY_CHARS} characters, an ellipsis if cut); the "
                  "case's own address has it all.")

    class Meta:
        model = Case
        fields = ["reference", "title", "summary", *CASE_FIELDS[1:]]
        read_only_fields = fields

    def get_summary(self, case) -> str:
        head = getattr(case, "summary_head", None)
        # A case not read through `with_summaries` has its whole description at hand (one query more, if any).
        return summary_of(case.description[:SUMMARY_CHARS + 1] if head is None else head)


class CaseEventSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Plain strings in the schema: as enums they would give the case status choices a second and third
    # name there (drf-spectacular warns), until SPECTACULAR_SETTINGS names the set once.
    from_status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    to_status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    from_department = code_of()
    to_department = code_of()

    class Meta:
        model = CaseEvent
        fields = ["at", "actor", "action", "from_status", "to_status", "from_department", "to_department", "note"]
        read_only_fields = fields


def username_of(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="username", read_only=True, **kwargs)


class AttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    uploaded_by = username_of()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment) -> str:
        # Through the API, never the storage URL: the download checks who may see the case.
        path = reverse("api-case-attachment-download", kwargs={
            "reference": attachment.case.reference, "attachment_id": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ReturnSerializer(serializers.ModelSerializer):
    department = code_of()
    returned_by = username_of()
    competent_department = code_of(help_text="The unit the rules named when the case was returned; null: none.")

    class Meta:
        model = Return
        fields = ["department", "returned_by", "returned_at", "reason", "late", "competent_department"]
        read_only_fields = fields


class CaseSubmissionSerializer(serializers.ModelSerializer):
    submitted_by = username_of()
    decided_by = username_of()

    class Meta:
        model = Submission
        fields = ["submitted_by", "submitted_at", "summary", "outcome", "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class ConsultationSerializer(serializers.ModelSerializer):
    """One request for another unit's opinion, as `consultations/` lists it and `respond` answers it."""

    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    department = code_of(help_text="The consulted unit.")
    requested_by = username_of()
    assignee = username_of(help_text="Who prepares the consulted unit's answer; null until its head names one.")
    answered_by = username_of()
    overdue = serializers.BooleanField(source="is_overdue", read_only=True,
                                       help_text="Still open after its due date (local time).")

    class Meta:
        model = Consultation
        fields = ["id", "case", "department", "question", "due_date", "status", "position", "comment", "round",
                  "required", "justification", "requested_by", "requested_at", "assignee", "answered_by",
                  "answered_at", "answered_late", "overdue"]
        read_only_fields = fields


class ReconciliationSerializer(serializers.ModelSerializer):
    recorded_by = username_of()
    attachment = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Id of one of the case's attachments.")

    class Meta:
        model = Reconciliation
        fields = ["note", "settled_on", "recorded_by", "attachment"]
        read_only_fields = fields


CONSULTATION_STATUS_HELP = "A consultation status code: " + ", ".join(ConsultationStatus.values) + "."


class CaseConsultationSerializer(ConsultationSerializer):
    reconciliation = ReconciliationSerializer(read_only=True, allow_null=True,
                                              help_text="How the owner settled a disagreement; null if not (yet).")

    class Meta(ConsultationSerializer.Meta):
        fields = [*ConsultationSerializer.Meta.fields, "reconciliation"]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    events = CaseEventSerializer(many=True, read_only=True)
    consultations = CaseConsultationSerializer(many=True, read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)
    returns = ReturnSerializer(many=True, read_only=True)
    submissions = CaseSubmissionSerializer(many=True, read_only=True)
    competent_department = serializers.SerializerMethodField(
        help_text="Code of the unit the authority rules, applied today, name as owner; null when none or tied.")

    class Meta(CaseSerializer.Meta):
        fields = ["reference", "title", "description", *CASE_FIELDS[1:], "events", "consultations", "attachments",
                  "returns", "submissions", "competent_department", "extended_at", "due_date_before_extension",
                  "extension_reason"]
        read_only_fields = fields

    def get_competent_department(self, case) -> str | None:
        # The in-memory routing index answers without a query (beyond its generation check).
        rule = routing_decision(case).rule
        return rule.owner_code if rule else None


class CaseCreateSerializer(serializers.Serializer):
    """Intake input; the names match the keyword arguments of `cases.services.case_create`."""

    title = serializers.CharField(max_length=settings.MAX_TITLE_LENGTH)
    description = serializers.CharField(required=False, allow_blank=True, default="",
                                        max_length=MAX_DESCRIPTION_LENGTH)
    case_type = code_field(CaseType.objects.filter(active=True))
    locality = locality_field(allow_null=True, required=False, default=None)
    amount = serializers.DecimalField(max_digits=18, decimal_places=0, min_value=0, allow_null=True,
                                      required=False, default=None)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.CITIZEN)
    applicant_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    applicant_contact = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    received_at = ReceivedAtField(required=False, default=None, validators=[within_calendar])
    key_task = serializers.BooleanField(default=False)


class SubmissionQueueSerializer(serializers.ModelSerializer):
    """A row of the city office's queue: the matter, who sent it up and how it was decided."""

    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    case_title = serializers.CharField(source="case.title", read_only=True)
    case_version = serializers.IntegerField(source="case.version", read_only=True,
                                            help_text="Pass it as `version` to `decide`.")
    decision_level = serializers.CharField(source="case.decision_level", read_only=True)
    department = code_of()
    submitted_by = username_of()
    decided_by = username_of()

    class Meta:
        model = Submission
        fields = ["id", "case", "case_title", "case_version", "decision_level", "department", "summary",
                  "submitted_by", "submitted_at", "outcome", "decided_by", "decided_at", "decision_note"]
        read_only_fields = fields


class DisputeSerializer(serializers.ModelSerializer):
    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    rule = serializers.PrimaryKeyRelatedField(read_only=True)
    department = code_of()
    filed_by = username_of()
    settled_by = username_of()

    class Meta:
        model = RuleDispute
        fields = ["id", "case", "rule", "department", "filed_by", "filed_at", "reason", "status", "settled_by",
                  "settled_at", "settlement_note"]
        read_only_fields = fields


SETTLEMENTS = (DisputeStatus.RULE_CHANGED, DisputeStatus.DISMISSED)


class DisputeSettleSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in SETTLEMENTS],
                                     help_text="rule_changed (after editing the rule) or dismissed.")
    note = serializers.CharField(max_length=MAX_NOTE_LENGTH)


class RefusalSerializer(serializers.Serializer):
    """The 409 answer: the directive's rule code and a sentence for the person who tried (DESIGN.md §5)."""

    code = serializers.ChoiceField(choices=RefusalCode.choices, help_text="The rule the move would break.")
    detail = serializers.CharField()


# --- The overdue desk over HTTP ----------------------------------------------------------------------------
# Each item is judged against one window and one calendar, which `OverdueView` passes in the context so
# that a list of 500 costs no query per item.


class DeskItemSerializer(serializers.Serializer):
    """The deadline facts an overdue-desk item shares, whether a case or a consultation."""

    overdue = serializers.SerializerMethodField(help_text="Still open after the end of its due date (local time).")
    due_soon = serializers.SerializerMethodField(help_text="Due today or on the next working day.")
    working_days_late = serializers.SerializerMethodField(
        help_text="Working days past the due date; 0 while it has not passed.")

    def get_overdue(self, item) -> bool:
        return item.due_date < self.context["window"].today

    def get_due_soon(self, item) -> bool:
        window = self.context["window"]
        return window.today <= item.due_date <= window.soon

    def get_working_days_late(self, item) -> int:
        today = self.context["window"].today
        return working_days_late(item.due_date, today, self.context["calendar"])


class OverdueCaseSerializer(DeskItemSerializer, serializers.ModelSerializer):
    """An open case of the unit, overdue or due soon."""

    owner = code_of()
    assignee = username_of(help_text="The case's one named assignee; null while it is not accepted.")
    legal_basis = serializers.CharField(read_only=True, help_text="The legal basis of the rule the case was routed by.")

    class Meta:
        model = Case
        fields = ["reference", "title", "status", "owner", "assignee", "due_date", "overdue", "due_soon",
                  "working_days_late", "key_task", "legal_basis"]
        read_only_fields = fields


class OverdueConsultationSerializer(DeskItemSerializer, serializers.ModelSerializer):
    """An open request for the unit's opinion, overdue or due soon."""

    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    department = code_of(help_text="The consulted unit, which owes the opinion.")
    assignee = username_of(help_text="Who prepares the consulted unit's answer; null until its head names one.")
    key_task = serializers.BooleanField(source="case.key_task", read_only=True,
                                        help_text="The case is a key task (listed first).")

    class Meta:
        model = Consultation
        fields = ["id", "case", "department", "due_date", "overdue", "due_soon", "working_days_late", "assignee",
                  "required", "round", "key_task"]
        read_only_fields = fields


class OverdueSerializer(serializers.Serializer):
    """A unit's overdue and due-soon work: key tasks first, then the most working days late."""

    cases = OverdueCaseSerializer(many=True, read_only=True, help_text="The unit's own open cases (at most 500).")
    consultations = OverdueConsultationSerializer(
        many=True, read_only=True, help_text="Open requests for the unit's opinion (at most 500).")


class OverdueQuerySerializer(serializers.Serializer):
    department = serializers.SlugRelatedField(
        slug_field="code", queryset=Department.objects.all(), required=False,
        help_text="The unit's code; default the signed-in user's own unit. Another unit needs a city-wide role.")
