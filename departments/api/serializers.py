"""What the API reads and writes for units, staff, case types, rules and calendar days (DESIGN.md §5).

The database guards the same invariants with CheckConstraints; the serializers check them first so that
a client gets 400 with the field at fault instead of an IntegrityError.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from departments.api.fields import MAX_WORKING_DAYS, ReceivedAtField, code_field, locality_field
from departments.models import (
    AuthorityRule,
    CalendarDay,
    CaseType,
    DecisionLevel,
    Department,
    DepartmentKind,
    Role,
    Staff,
)
from departments.routing import AMBIGUOUS_RULE, NO_RULE

User = get_user_model()
WORKING_DAYS_BOUNDS = {"min_value": 1, "max_value": MAX_WORKING_DAYS}


def current_value(serializer: serializers.Serializer, attrs: dict, name: str):
    """The value a field will have after this write: the new one, else (on update) the stored one."""
    if name in attrs:
        return attrs[name]
    return getattr(serializer.instance, name, None)


def check_valid_range(serializer: serializers.Serializer, attrs: dict) -> None:
    valid_from = current_value(serializer, attrs, "valid_from")
    valid_to = current_value(serializer, attrs, "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise serializers.ValidationError({"valid_to": _("The end of validity cannot be before its start.")})


class ImmutableCodeMixin:
    """A code names the object in URLs and in every case's rule snapshot, so it never changes."""

    def validate_code(self, value):
        if self.instance is not None and value != self.instance.code:
            raise serializers.ValidationError(_("The code cannot be changed."))
        return value


class DepartmentSerializer(ImmutableCodeMixin, serializers.ModelSerializer):
    parent = code_field(Department.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "parent", "active", "national_id", "valid_from", "valid_to"]

    def validate(self, attrs):
        check_valid_range(self, attrs)
        parent = attrs.get("parent")
        if self.instance is not None and parent is not None:
            ancestor = parent
            while ancestor is not None:
                if ancestor.pk == self.instance.pk:
                    raise serializers.ValidationError({"parent": _("A unit cannot be placed under itself.")})
                ancestor = ancestor.parent
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


class CaseTypeSerializer(ImmutableCodeMixin, serializers.ModelSerializer):
    class Meta:
        model = CaseType
        fields = ["code", "name", "processing_days", "consultation_days"]
        extra_kwargs = {"processing_days": WORKING_DAYS_BOUNDS, "consultation_days": WORKING_DAYS_BOUNDS}


class AuthorityRuleSerializer(serializers.ModelSerializer):
    case_type = code_field(CaseType.objects.all())
    locality = locality_field(allow_null=True, required=False)
    # A rule hands cases to a unit that exists today; the City Committee decides, it does not take cases.
    owner = code_field(Department.objects.filter(active=True).exclude(kind=DepartmentKind.CITY_COMMITTEE))
    required_consultees = code_field(Department.objects.filter(active=True), many=True, required=False)

    class Meta:
        model = AuthorityRule
        fields = ["id", "case_type", "locality", "min_amount", "max_amount", "owner", "decision_level",
                  "required_consultees", "processing_days", "consultation_days", "legal_basis", "valid_from",
                  "valid_to", "active"]
        extra_kwargs = {
            "min_amount": {"min_value": 0},
            "max_amount": {"min_value": 0},
            "processing_days": WORKING_DAYS_BOUNDS,
            "consultation_days": WORKING_DAYS_BOUNDS,
        }

    def validate(self, attrs):
        check_valid_range(self, attrs)
        min_amount = current_value(self, attrs, "min_amount")
        max_amount = current_value(self, attrs, "max_amount")
        if min_amount is not None and max_amount is not None and max_amount <= min_amount:
            raise serializers.ValidationError(
                {"max_amount": _("The maximum amount must be greater than the minimum amount.")})
        owner = current_value(self, attrs, "owner")
        if "required_consultees" in attrs:
            consultees = attrs["required_consultees"]
        else:
            consultees = self.instance.required_consultees.all() if self.instance else ()
        if owner is not None and owner in consultees:
            raise serializers.ValidationError(
                {"required_consultees": _("The owner cannot be its own required consultee.")})
        return attrs


class CalendarDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]


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
