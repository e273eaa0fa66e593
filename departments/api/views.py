"""Admin-edited reference data and the routing preview. Anyone signed in reads; only superusers write.

The serializers parse and check; every write goes through departments/services.py, the functions the admin
uses too, so that the rule history keeps who changed a rule and why, and the routing index moves
(departments/signals.py). A rule that would tie with another answers 409 `ambiguous_rule`.
"""

import datetime as dt

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AUTHENTICATION_CLASSES
from departments import routing, services
from departments.api import serializers
from departments.models import AuthorityRule, CalendarDay, CaseType, Department, Role, Staff
from departments.workdays import local_date


class IsSuperuserOrReadOnly(BasePermission):
    message = _("Only an administrator may change this.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or services.may_edit_reference_data(user)


class ReferenceDataViewSet(viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsSuperuserOrReadOnly]


class WrittenByService:
    """Creates and updates go through the object's service (`write`), never through the serializer's save().
    First among a viewset's bases, so that it overrides the create and update mixins."""

    def write(self, instance, data):
        raise NotImplementedError

    def perform_create(self, serializer):
        serializer.instance = self.write(None, serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.write(serializer.instance, serializer.validated_data)


class CodeLookup:
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"


class DepartmentFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code")

    class Meta:
        model = Department
        fields = ["kind", "active", "parent"]


class DepartmentViewSet(WrittenByService, CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, mixins.UpdateModelMixin, ReferenceDataViewSet):
    queryset = Department.objects.select_related("parent")
    serializer_class = serializers.DepartmentSerializer
    filterset_class = DepartmentFilter

    def write(self, instance, data):
        return services.department_save(actor=self.request.user, department=instance, data=data)


class StaffFilter(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__code")
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Staff
        fields = ["department", "role"]


@extend_schema_view(retrieve=extend_schema(parameters=[OpenApiParameter("username", str, OpenApiParameter.PATH)]))
class StaffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ReferenceDataViewSet):
    queryset = Staff.objects.select_related("user", "department")
    serializer_class = serializers.StaffSerializer
    filterset_class = StaffFilter
    lookup_field = "user__username"
    lookup_url_kwarg = "username"
    lookup_value_regex = r"[\w.@+-]+"


class CaseTypeViewSet(WrittenByService, CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, mixins.UpdateModelMixin, ReferenceDataViewSet):
    queryset = CaseType.objects.all()
    serializer_class = serializers.CaseTypeSerializer

    def write(self, instance, data):
        return services.case_type_save(actor=self.request.user, case_type=instance, data=data)


class AuthorityRuleFilter(django_filters.FilterSet):
    case_type = django_filters.CharFilter(field_name="case_type__code")
    owner = django_filters.CharFilter(field_name="owner__code")
    locality = django_filters.CharFilter(field_name="locality__code")

    class Meta:
        model = AuthorityRule
        fields = ["case_type", "owner", "locality", "decision_level", "active"]


TIE = OpenApiResponse(description="`{code: ambiguous_rule, detail, conflicting_rules}`: the rule ties with "
                                  "another active rule; send `confirm_tie: true` to save it anyway.")


@extend_schema_view(
    create=extend_schema(responses={201: serializers.AuthorityRuleSerializer, 409: TIE}),
    update=extend_schema(responses={200: serializers.AuthorityRuleSerializer, 409: TIE}),
    partial_update=extend_schema(responses={200: serializers.AuthorityRuleSerializer, 409: TIE}),
    destroy=extend_schema(
        request=serializers.RuleDeleteSerializer,
        parameters=[OpenApiParameter("reason", str, OpenApiParameter.QUERY, required=False,
                                     description="Why the rule is deleted, when not given in the JSON body.")],
    ),
)
class AuthorityRuleViewSet(WrittenByService, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                           ReferenceDataViewSet):
    queryset = AuthorityRule.objects.select_related("case_type", "locality", "owner").prefetch_related(
        "required_consultees")
    serializer_class = serializers.AuthorityRuleSerializer
    filterset_class = AuthorityRuleFilter

    def write(self, instance, data):
        return services.rule_save(actor=self.request.user, rule=instance, data=self.serializer_class.rule_data(data),
                                  reason=data["reason"], confirm_tie=data.get("confirm_tie", False))

    def perform_destroy(self, instance):
        body = self.request.data if isinstance(self.request.data, dict) else {}
        given = body.get("reason", self.request.query_params.get("reason"))
        form = serializers.RuleDeleteSerializer(data={} if given is None else {"reason": given})
        form.is_valid(raise_exception=True)
        services.rule_delete(actor=self.request.user, rule=instance, reason=form.validated_data["reason"])


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("date", dt.date, OpenApiParameter.PATH)]),
    destroy=extend_schema(parameters=[OpenApiParameter("date", dt.date, OpenApiParameter.PATH)]),
)
class CalendarDayViewSet(WrittenByService, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.DestroyModelMixin, ReferenceDataViewSet):
    queryset = CalendarDay.objects.all()
    serializer_class = serializers.CalendarDaySerializer
    filterset_fields = ["kind"]
    lookup_field = "date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"

    def get_object(self):
        # 2025-02-30 has the right shape but is no date: that is "not found", not a database error.
        try:
            dt.date.fromisoformat(self.kwargs["date"])
        except ValueError:
            raise Http404 from None
        return super().get_object()

    def write(self, instance, data):
        return services.calendar_day_save(actor=self.request.user, day=instance, data=data)

    def perform_destroy(self, instance):
        services.calendar_day_delete(actor=self.request.user, day=instance)


class RoutingPreviewView(APIView):
    """Which unit the authority rules would give a case to, and by when, without logging anything."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]

    @extend_schema(request=serializers.RoutingPreviewInputSerializer, responses=serializers.RoutingPreviewSerializer)
    def post(self, request):
        form = serializers.RoutingPreviewInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        result = routing.preview(
            case_type_id=data["case_type"].pk,
            locality_id=data["locality"].pk if data["locality"] else None,
            amount=data["amount"],
            received_on=local_date(data.get("received_at") or timezone.now()),
        )
        return Response(result.as_dict())
