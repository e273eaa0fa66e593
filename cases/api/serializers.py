"""How a case reads in the API, and what each case action takes as input."""

from django.conf import settings
from rest_framework import serializers

from cases.models import Case, CaseEvent, Source, Status
from departments.api.fields import ReceivedAtField, code_field, locality_field
from departments.models import CaseType, Department

STATUS_HELP = "A case status code: " + ", ".join(Status.values) + "; empty when not applicable."


def code_of(**kwargs) -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(slug_field="code", read_only=True, **kwargs)


class CaseSerializer(serializers.ModelSerializer):
    case_type = code_of()
    locality = code_of()
    owner = code_of()
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    rule = serializers.PrimaryKeyRelatedField(read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Case
        fields = ["reference", "title", "description", "case_type", "locality", "amount", "source",
                  "applicant_name", "applicant_contact", "received_at", "key_task", "status", "owner", "assignee",
                  "due_date", "overdue", "rule", "triage_reason"]
        read_only_fields = fields


class CaseEventSerializer(serializers.ModelSerializer):
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


class CaseDetailSerializer(CaseSerializer):
    events = CaseEventSerializer(many=True, read_only=True)
    consultations = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "events", "consultations"]
        read_only_fields = fields

    def get_consultations(self, case) -> list[dict]:
        # Consultations are not built yet; the key is part of the contract so that clients can rely on it.
        return []


class CaseCreateSerializer(serializers.Serializer):
    """Intake input; the names match the keyword arguments of `cases.services.case_create`."""

    title = serializers.CharField(max_length=settings.MAX_TITLE_LENGTH)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    case_type = code_field(CaseType.objects.filter(active=True))
    locality = locality_field(allow_null=True, required=False, default=None)
    amount = serializers.DecimalField(max_digits=18, decimal_places=0, min_value=0, allow_null=True,
                                      required=False, default=None)
    source = serializers.ChoiceField(choices=Source.choices, default=Source.CITIZEN)
    applicant_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    applicant_contact = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    received_at = ReceivedAtField(required=False, default=None)
    key_task = serializers.BooleanField(default=False)


class CaseRouteSerializer(serializers.Serializer):
    """`route {to}`: the clerk names the owner of a case waiting in triage."""

    to = code_field(Department.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
