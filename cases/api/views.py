"""Cases over HTTP. Reads start from the access policy; every change is one call to a service.

Each case action of the registry (`cases.actions`) is one endpoint `cases/{reference}/{action}/`, made from
its entry: the input is the entry's serializer, the move its service, the documentation its summary and
refusal codes. A refusal answers 409 with its code.
"""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action as drf_action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from cases import policy, services
from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS, Action
from cases.api import serializers
from cases.api.filters import CaseFilter, ConsultationFilter
from cases.models import Case
from cases.reads import ReadKind, record_outside_read
from core.api import AUTHENTICATION_CLASSES
from core.files import file_response


class IntakeDeskOnly(BasePermission):
    """Logging a case is the intake desk's (and admins') work (DESIGN.md §5)."""

    message = _("Only the intake desk may do this.")

    def has_permission(self, request, view):
        return view.action != "create" or policy.is_clerk(request.user)


def _responses(spec: Action) -> dict:
    answers = {
        "case": {200: serializers.CaseDetailSerializer},
        "consultations": {201: serializers.ConsultationSerializer(many=True)},
        "dispute": {201: serializers.DisputeSerializer},
        "attachment": {201: serializers.AttachmentSerializer},
        "consultation": {200: serializers.ConsultationSerializer},
    }[spec.answer]
    return {**answers, 409: serializers.RefusalSerializer}


def api_action(spec: Action):
    """The endpoint of one registry entry: find the record the user may act on (404 otherwise), read the
    entry's input, call its service, answer as the entry says."""

    def act(self, request, **kwargs):
        record = self.get_object()
        if request.method == "GET":
            return self.read_action(spec, record)
        spec.precheck(request.user, record)
        spec.refuse_if_stale(request.user, record, request.data)
        form = spec.serializer_class(data=request.data, context={"record": record, "request": request})
        form.is_valid(raise_exception=True)
        result = spec.service(**{spec.subject: record}, actor=request.user, **form.validated_data)
        return self.answer(spec, record, result)

    act.__name__ = spec.method_name
    act.__doc__ = spec.api_description()
    options = {"parser_classes": [MultiPartParser]} if spec.answer == "attachment" else {}
    if spec.answer == "consultations":
        # The answer is the few consultations just opened, as a plain list, not a page of them.
        options["pagination_class"] = None
    # The schema is added after `action`, which replaces the function's initkwargs where it is kept.
    endpoint = drf_action(detail=True, methods=list(spec.api_methods), url_path=spec.slug, url_name=spec.slug,
                          filter_backends=[], **options)(act)
    request_body = ({"multipart/form-data": spec.serializer_class} if spec.answer == "attachment"
                    else spec.serializer_class)
    endpoint = extend_schema(methods=["POST"], request=request_body, responses=_responses(spec),
                             description=spec.api_description())(endpoint)
    if "get" in spec.api_methods:
        endpoint = extend_schema(methods=["GET"], responses=serializers.AttachmentSerializer(many=True))(endpoint)
    return endpoint


class ActionViewSet(viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION_CLASSES

    @classmethod
    def with_actions(cls, actions: dict[str, Action]):
        """Add an endpoint per registry entry, before the router reads the viewset's actions."""
        for spec in actions.values():
            setattr(cls, spec.method_name, api_action(spec))
        return cls


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActionViewSet):
    """Cases the signed-in user may see (any other answers 404); every action also takes the optional
    `version` the client last saw, and a stale one is refused with case_changed."""

    permission_classes = [IsAuthenticated, IntakeDeskOnly]
    filterset_class = CaseFilter
    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        if self.action == "retrieve":
            return policy.case_details(self.request.user)
        cases = policy.with_list_relations(policy.cases_visible_to(self.request.user)).key_tasks_first()
        return serializers.with_summaries(cases) if self.action == "list" else cases

    def get_serializer_class(self):
        return serializers.CaseSerializer if self.action == "list" else serializers.CaseDetailSerializer

    def get_object(self):
        if self.request.method == "GET":
            return super().get_object()
        # A move: on a case the user sees, or one their unit gave up while the request was on its way, so that
        # the service refuses and records it instead of a 404.
        case = policy.case_to_act_on(self.request.user, self.kwargs[self.lookup_field], self.get_queryset())
        self.check_object_permissions(self.request, case)
        return case

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        record_outside_read(request, case, ReadKind.CASE_DETAIL)
        return Response(self.get_serializer(case).data)

    def _detail(self, case):
        """The case as `cases/{reference}/` shows it, after a service has changed it."""
        prefetch_related_objects([case], *policy.LIST_RELATIONS, "extended_by", *policy.detail_relations())
        return serializers.CaseDetailSerializer(case, context=self.get_serializer_context()).data

    def answer(self, spec: Action, case, result):
        context = self.get_serializer_context()
        if spec.answer == "consultations":
            return Response(serializers.ConsultationSerializer(result, many=True).data, status=status.HTTP_201_CREATED)
        if spec.answer == "dispute":
            return Response(serializers.DisputeSerializer(result).data, status=status.HTTP_201_CREATED)
        if spec.answer == "attachment":
            return Response(serializers.AttachmentSerializer(result, context=context).data,
                            status=status.HTTP_201_CREATED)
        # A move that made another record (a reconciliation) answers with the case as it is now.
        return Response(self._detail(result if isinstance(result, Case) else self.get_object()))

    def read_action(self, spec: Action, case):
        """GET of an action's address: the case's files."""
        attachments = case.attachments.select_related("uploaded_by")
        page = self.paginate_queryset(attachments)
        serializer = serializers.AttachmentSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=serializers.CaseCreateSerializer,
                   responses={201: serializers.CaseDetailSerializer, 409: serializers.RefusalSerializer},
                   description="Log a case. Refusals (409): backdated_receipt (a receipt older than "
                               "MAX_BACKDATE_DAYS, which only an admin may log).")
    def create(self, request):
        form = serializers.CaseCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, **form.validated_data)
        # The service hands the new case back with all that its detail shows (`policy.with_first_details`).
        detail = serializers.CaseDetailSerializer(case, context=self.get_serializer_context())
        return Response(detail.data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @drf_action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
                url_name="attachment-download", filter_backends=[])
    def download(self, request, reference=None, attachment_id=None):
        """The file itself, as an attachment under its original name, to whoever sees the case."""
        case = self.get_object()
        attachment = get_object_or_404(case.attachments, pk=attachment_id)
        response = file_response(attachment)
        record_outside_read(request, case, ReadKind.ATTACHMENT, item=attachment.original_name)
        return response


CaseViewSet.with_actions(CASE_ACTIONS)


class ConsultationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ActionViewSet):
    """Consultations the signed-in user may see (any other answers 404), soonest due first; a move on one is
    open only to the unit it is addressed to (404 for anyone else, whoever sees its case)."""

    permission_classes = [IsAuthenticated]
    serializer_class = serializers.ConsultationSerializer
    filterset_class = ConsultationFilter

    def get_queryset(self):
        user = self.request.user
        consultations = (policy.consultations_addressed_to(user) if self.action in CONSULTATION_ACTIONS
                         else policy.consultations_visible_to(user))
        return (consultations.select_related("case", "department", "requested_by", "assignee", "answered_by")
                .order_by("-case__key_task", "due_date", "id"))

    def answer(self, spec: Action, consultation, result):
        # Read back as the list shows it, with its names in the same few queries.
        return Response(self.get_serializer(self.get_queryset().get(pk=consultation.pk)).data)


ConsultationViewSet.with_actions(CONSULTATION_ACTIONS)
