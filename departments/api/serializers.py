"""What the API reads and writes for units, staff, case types, rules and calendar days (DESIGN.md §5).

Reference data is checked by the shared functions of departments/services.py, the same the admin's forms
call, so that a client gets 400 with the field at fault and the same sentence an admin would read; the
views then write through the services. The database guards the same invariants with CheckConstraints.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.forms import MAX_NOTE_LENGTH
from departments import services
from departments.api.fields import ReceivedAtField, code_field, locality_field
from departments.models import (
    AuthorityRule,
    CalendarDay,
    CaseType,
    DecisionLevel,
    Department,
    Role,
    Staff,
)
from departments.routing import AMBIGUOUS_RULE, NO_RULE

User = get_user_model()
# What the rule endpoints take beside the rule itself: why it changes, and that a tie is meant.
RULE_WRITE_ONLY = ("reason", "confirm_tie")


def shared_validation(*checks) -> None:
    """Run the shared checks and answer every field error they find at once, as a 400 of DRF."""
    errors: dict[str, list[str]] = {}
    for check in checks:
        try:
            check()
        except DjangoValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise serializers.ValidationError(errors)


def reason_field() -> serializers.CharField:
    # Blank passes here so that a missing, null or blank reason all get the one sentence of validate_reason.
    return serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"base_template": "textarea.html"},
        max_length=MAX_NOTE_LENGTH,
        error_messages={"null": services.REASON_REQUIRED},
        help_text=_("Why the rule changes; kept in the rule's history."),
    )


class ReferenceDataSerializer(serializers.ModelSerializer):
    """Serializers that parse and check only: the view writes through a service, never through save()."""

    def create(self, validated_data):
        raise NotImplementedError("Reference data is written by departments.services.")

    def update(self, instance, validated_data):
        raise NotImplementedError("Reference data is written by departments.services.")


class DepartmentSerializer(ReferenceDataSerializer):
    parent = code_field(Department.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "parent", "active", "national_id", "valid_from", "valid_to"]

    def validate(self, attrs):
        shared_validation(lambda: services.validate_department(attrs, department=self.instance))
        return attrs


class StaffSerializer(serializers.Serializer):
    """A user and their place in one department, created together or not at all."""

    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False,
                                     style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    department = code_field(Department.objects.filter(active=True))
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_username(self, value):
        # Case-insensitive: "Lan" and "lan" would be two accounts that people cannot tell apart.
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(_("This username is already taken."))
        return value

    def validate(self, attrs):
        candidate = User(username=attrs["username"], email=attrs["email"], **self._names(attrs["full_name"]))
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return attrs

    @staticmethod
    def _names(full_name: str) -> dict:
        # Vietnamese names are family name first; get_full_name() joins them back in the same order.
        first, _space, last = full_name.strip().partition(" ")
        return {"first_name": first, "last_name": last}

    def create(self, validated_data):
        with transaction.atomic():
            user = User.objects.create_user(
                username=validated_data["username"], password=validated_data["password"],
                email=validated_data["email"], **self._names(validated_data["full_name"]),
            )
            return Staff.objects.create(user=user, department=validated_data["department"],
                                        role=validated_data["role"])

    def to_representation(self, staff):
        return {
            "username": staff.user.username,
            "full_name": staff.user.get_full_name(),
            "email": staff.user.email,
            "department": staff.department.code,
            "role": staff.role,
        }


class CaseTypeSerializer(ReferenceDataSerializer):
    class Meta:
        model = CaseType
        fields = ["code", "name", "processing_days", "consultation_days"]

    def validate(self, attrs):
        shared_validation(lambda: services.validate_case_type(attrs, case_type=self.instance))
        return attrs


class AuthorityRuleSerializer(ReferenceDataSerializer):
    case_type = code_field(CaseType.objects.all())
    locality = locality_field(allow_null=True, required=False)
    # Any unit is looked up, so that the City Committee or a closed unit as owner or consultee gets the shared
    # check's sentence (the admin's too) rather than "does not exist".
    owner = code_field(Department.objects.all())
    required_consultees = code_field(Department.objects.all(), many=True, required=False)
    reason = reason_field()
    confirm_tie = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text=_("Save even though the rule ties with another active rule (answered 409 otherwise)."),
    )

    class Meta:
        model = AuthorityRule
        fields = ["id", "case_type", "locality", "min_amount", "max_amount", "owner", "decision_level",
                  "required_consultees", "processing_days", "consultation_days", "legal_basis", "valid_from",
                  "valid_to", "active", *RULE_WRITE_ONLY]

    def validate(self, attrs):
        rule_data = self.rule_data(attrs)

        def reason():
            attrs["reason"] = services.validate_reason(attrs.get("reason"))

        shared_validation(lambda: services.validate_rule(rule_data, rule=self.instance), reason)
        return attrs

    @staticmethod
    def rule_data(attrs) -> dict:
        """The rule's own fields among the validated input, as `services.rule_save` takes them."""
        return {name: value for name, value in attrs.items() if name not in RULE_WRITE_ONLY}


class RuleDeleteSerializer(serializers.Serializer):
    """A rule is deleted with a reason too: in the JSON body or as `?reason=`."""

    reason = reason_field()

    def validate(self, attrs):
        shared_validation(lambda: attrs.update(reason=services.validate_reason(attrs.get("reason"))))
        return attrs


class CalendarDaySerializer(ReferenceDataSerializer):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]

    def validate(self, attrs):
        shared_validation(lambda: services.validate_calendar_day(attrs, day=self.instance))
        return attrs


class RoutingPreviewInputSerializer(serializers.Serializer):
    case_type = code_field(CaseType.objects.filter(active=True))
    locality = locality_field(allow_null=True, required=False, default=None)
    amount = serializers.DecimalField(max_digits=18, decimal_places=0, min_value=0, allow_null=True,
                                      required=False, default=None)
    received_at = ReceivedAtField(required=False)


class RoutingPreviewSerializer(serializers.Serializer):
    """The answer of a routing preview; `owner` is null with a `reason` when no single rule decides."""

    owner = serializers.CharField(allow_null=True)
    rule = serializers.IntegerField(required=False)
    decision_level = serializers.ChoiceField(choices=DecisionLevel.choices, required=False)
    required_consultees = serializers.ListField(child=serializers.CharField(), required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
    legal_basis = serializers.CharField(required=False)
    processing_days = serializers.IntegerField(required=False)
    reason = serializers.ChoiceField(choices=[NO_RULE, AMBIGUOUS_RULE], required=False)
    conflicting_rules = serializers.ListField(child=serializers.IntegerField(), required=False)
