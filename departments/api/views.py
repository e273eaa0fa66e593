"""Admin-edited reference data and the routing preview. Anyone signed in reads; only superusers write.

Writes go through the serializers' ORM save() and m2m set(), so that django-simple-history keeps every
rule change and the routing index generation is bumped (departments/signals.py).
"""

import datetime as dt

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AUTHENTICATION_CLASSES
from departments import routing
from departments.api import serializers
from departments.models import AuthorityRule, CalendarDay, CaseType, Department, Role, Staff
from departments.workdays import local_date


class IsSuperuserOrReadOnly(BasePermission):
    message = _("Only an administrator may change this.")

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.is_superuser


class ReferenceDataViewSet(viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsSuperuserOrReadOnly]


class CodeLookup:
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"


class DepartmentFilter(django_filters.FilterSet):
    parent = django_filters.CharFilter(field_name="parent__code")

    class Meta:
        model = Department
        fields = ["kind", "active", "parent"]


class DepartmentViewSet(CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        mixins.UpdateModelMixin, ReferenceDataViewSet):
    queryset = Department.objects.select_related("parent")
    serializer_class = serializers.DepartmentSerializer
    filterset_class = DepartmentFilter


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


class CaseTypeViewSet(CodeLookup, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, ReferenceDataViewSet):
    queryset = CaseType.objects.all()
    serializer_class = serializers.CaseTypeSerializer


class AuthorityRuleFilter(django_filters.FilterSet):
    case_type = django_filters.CharFilter(field_name="case_type__code")
    owner = django_filters.CharFilter(field_name="owner__code")
    locality = django_filters.CharFilter(field_name="locality__code")

    class Meta:
        model = AuthorityRule
        fields = ["case_type", "owner", "locality", "decision_level", "active"]


class AuthorityRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           mixins.UpdateModelMixin, mixins.DestroyModelMixin, ReferenceDataViewSet):
    queryset = AuthorityRule.objects.select_related("case_type", "locality", "owner").prefetch_related(
        "required_consultees")
    serializer_class = serializers.AuthorityRuleSerializer
    filterset_class = AuthorityRuleFilter


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("date", dt.date, OpenApiParameter.PATH)]),
    destroy=extend_schema(parameters=[OpenApiParameter("date", dt.date, OpenApiParameter.PATH)]),
)
class CalendarDayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.DestroyModelMixin, ReferenceDataViewSet):
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
