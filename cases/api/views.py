"""Cases over HTTP. Reads start from `cases_visible_to`; every change is one call to a service.

A case action is one `@action` that names its input serializer and its service (see `_act`); the
service decides the directive's rules and raises `Refused`, which the API answers with 409.
"""

from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from cases import services
from cases.api import serializers
from cases.api.filters import CaseFilter
from cases.models import CaseEvent
from cases.selectors import cases_visible_to, is_clerk, with_list_relations
from cityops.api import AUTHENTICATION_CLASSES


def events_with_names():
    return Prefetch("events", queryset=CaseEvent.objects.select_related("actor", "from_department", "to_department"))


class IntakeDeskOnly(BasePermission):
    """Logging and routing from triage are the intake desk's (and admins') work (DESIGN.md §5)."""

    message = _("Only the intake desk may do this.")
    clerk_actions = frozenset({"create", "route"})

    def has_permission(self, request, view):
        return view.action not in self.clerk_actions or is_clerk(request.user)


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated, IntakeDeskOnly]
    filterset_class = CaseFilter
    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        cases = with_list_relations(cases_visible_to(self.request.user)).key_tasks_first()
        if self.action == "retrieve":
            cases = cases.prefetch_related(events_with_names())
        return cases

    def get_serializer_class(self):
        return serializers.CaseSerializer if self.action == "list" else serializers.CaseDetailSerializer

    def _detail(self, case):
        """The case as `cases/{reference}/` shows it, after a service has changed it."""
        prefetch_related_objects([case], "case_type", "locality", "owner", "assignee", events_with_names())
        return serializers.CaseDetailSerializer(case, context=self.get_serializer_context()).data

    def _act(self, request, form_class, service):
        """Run one case action: find the case the user may see, read the input, call the service."""
        case = self.get_object()
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        updated = service(case=case, actor=request.user, **form.validated_data)
        return Response(self._detail(updated))

    @extend_schema(request=serializers.CaseCreateSerializer, responses={201: serializers.CaseDetailSerializer})
    def create(self, request):
        form = serializers.CaseCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, **form.validated_data)
        return Response(self._detail(case), status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CaseRouteSerializer, responses=serializers.CaseDetailSerializer)
    @action(detail=True, methods=["post"])
    def route(self, request, reference=None):
        return self._act(request, serializers.CaseRouteSerializer, services.case_route)
