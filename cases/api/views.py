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
from cases.api.attachments import AttachmentActions
from cases.api.filters import CaseFilter
from cases.models import Attachment, CaseEvent, Consultation, Return, Submission
from cases.selectors import cases_visible_to, is_clerk, with_list_relations
from cityops.api import AUTHENTICATION_CLASSES


def events_with_names():
    return Prefetch("events", queryset=CaseEvent.objects.select_related("actor", "from_department", "to_department"))


def detail_relations() -> list:
    """Everything the case detail lists, each in one query whatever the number of rows."""
    return [
        events_with_names(),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        Prefetch("returns", queryset=Return.objects.select_related("department", "returned_by",
                                                                   "competent_department")),
        Prefetch("submissions", queryset=Submission.objects.select_related("submitted_by", "decided_by")),
        Prefetch("consultations", queryset=Consultation.objects.select_related(
            "department", "requested_by", "assignee", "answered_by", "reconciliation__recorded_by")),
    ]


def case_action(form_class, *, url_path=None, url_name=None, responses=None, **action_kwargs):
    """A POST on `cases/{reference}/{action}/` taking `form_class`, answered with the case detail."""
    responses = responses or {200: serializers.CaseDetailSerializer}

    def decorate(method):
        method = action(detail=True, methods=["post"], url_path=url_path, url_name=url_name, **action_kwargs)(method)
        return extend_schema(request=form_class, responses={**responses, 409: serializers.RefusalSerializer})(method)

    return decorate


class IntakeDeskOnly(BasePermission):
    """Logging and routing from triage are the intake desk's (and admins') work (DESIGN.md §5)."""

    message = _("Only the intake desk may do this.")
    clerk_actions = frozenset({"create", "route"})

    def has_permission(self, request, view):
        return view.action not in self.clerk_actions or is_clerk(request.user)


class CaseViewSet(AttachmentActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases the signed-in user may see (any other answers 404); every action also takes the optional
    `version` the client last saw, and a stale one is refused with case_changed."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated, IntakeDeskOnly]
    filterset_class = CaseFilter
    lookup_field = "reference"
    lookup_value_regex = r"[^/]+"

    def get_queryset(self):
        cases = with_list_relations(cases_visible_to(self.request.user)).key_tasks_first()
        if self.action == "retrieve":
            cases = cases.prefetch_related(*detail_relations())
        return cases

    def get_serializer_class(self):
        return serializers.CaseSerializer if self.action == "list" else serializers.CaseDetailSerializer

    def _detail(self, case):
        """The case as `cases/{reference}/` shows it, after a service has changed it."""
        prefetch_related_objects([case], "case_type", "locality", "owner", "assignee", *detail_relations())
        return serializers.CaseDetailSerializer(case, context=self.get_serializer_context()).data

    def _run(self, request, form_class, service):
        """Find the case the user may see (404 otherwise), read the input, call the service."""
        case = self.get_object()
        # The case lets a form resolve ids (a consultation, an attachment) among the case's own.
        form = form_class(data=request.data, context={"case": case})
        form.is_valid(raise_exception=True)
        return service(case=case, actor=request.user, **form.validated_data)

    def _act(self, request, form_class, service):
        return Response(self._detail(self._run(request, form_class, service)))

    @extend_schema(request=serializers.CaseCreateSerializer, responses={201: serializers.CaseDetailSerializer})
    def create(self, request):
        form = serializers.CaseCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        case = services.case_create(actor=request.user, **form.validated_data)
        return Response(self._detail(case), status=status.HTTP_201_CREATED)

    @case_action(serializers.CaseRouteSerializer)
    def route(self, request, reference=None):
        """The intake desk routes a case waiting in triage to its owner. Refusals: invalid_transition,
        target_not_competent.
        """
        return self._act(request, serializers.CaseRouteSerializer, services.case_route)

    @case_action(serializers.CaseActionSerializer)
    def accept(self, request, reference=None):
        """A handler of the owner department takes the case on and becomes its assignee. Refusals: not_owner,
        invalid_transition.
        """
        return self._act(request, serializers.CaseActionSerializer, services.case_accept)

    @case_action(serializers.AssignSerializer)
    def assign(self, request, reference=None):
        """The owner's head or deputy names the one responsible handler. Refusals: not_owner, invalid_transition."""
        return self._act(request, serializers.AssignSerializer, services.case_assign)

    @case_action(serializers.ProposeSerializer)
    def propose(self, request, reference=None):
        """A handler proposes how to settle the case. Refusals: not_owner, invalid_transition."""
        return self._act(request, serializers.ProposeSerializer, services.case_propose)

    # `return` is a Python keyword: the method has another name, the URL keeps the contract's.
    @case_action(serializers.ReturnInputSerializer, url_path="return", url_name="return")
    def return_case(self, request, reference=None):
        """Return a case the rules do not give the owner; the answer names the competent unit. Refusals: not_owner,
        invalid_transition, within_own_authority.
        """
        return self._act(request, serializers.ReturnInputSerializer, services.case_return)

    @case_action(serializers.TransferSerializer)
    def transfer(self, request, reference=None):
        """The owner's head or deputy passes the case to the unit the rules name today. Refusals: not_owner,
        invalid_transition, within_own_authority, target_not_competent.
        """
        return self._act(request, serializers.TransferSerializer, services.case_transfer)

    @case_action(serializers.SubmitSerializer)
    def submit(self, request, reference=None):
        """The owner's head or deputy sends a city-level matter to the City Committee. Refusals: not_owner,
        invalid_transition, within_own_authority.
        """
        return self._act(request, serializers.SubmitSerializer, services.case_submit)

    @case_action(serializers.DecideSerializer)
    def decide(self, request, reference=None):
        """The city office records the City Committee's decision. Refusals: invalid_transition."""
        return self._act(request, serializers.DecideSerializer, services.case_decide)

    @case_action(serializers.ResolveSerializer)
    def resolve(self, request, reference=None):
        """The owner's head or deputy settles a department-level matter. Refusals: not_owner, invalid_transition."""
        return self._act(request, serializers.ResolveSerializer, services.case_resolve)

    @case_action(serializers.RequestSupplementSerializer, url_path="request-supplement")
    def request_supplement(self, request, reference=None):
        """Ask the applicant, once and in time, for everything missing. Refusals: not_owner, invalid_transition,
        supplement_already_requested, supplement_too_late.
        """
        return self._act(request, serializers.RequestSupplementSerializer, services.case_request_supplement)

    @case_action(serializers.CompleteSupplementSerializer, url_path="complete-supplement")
    def complete_supplement(self, request, reference=None):
        """The dossier is complete; the clock restarts. Refusals: not_owner, invalid_transition."""
        return self._act(request, serializers.CompleteSupplementSerializer, services.case_complete_supplement)

    @case_action(serializers.ExtendSerializer)
    def extend(self, request, reference=None):
        """The owner's head or deputy moves the due date once, at least one working day before it falls; a citizen's
        dossier then has its apology letter. Refusals: not_owner, invalid_transition, already_extended,
        extension_too_late.
        """
        return self._act(request, serializers.ExtendSerializer, services.case_extend)

    @case_action(serializers.KeyTaskSerializer, url_path="key-task")
    def key_task(self, request, reference=None):
        """The owner's head or deputy, or the city office, marks or unmarks a key task, which lists show first.
        Refusals: invalid_transition (a resolved case).
        """
        return self._act(request, serializers.KeyTaskSerializer, services.case_set_key_task)

    @case_action(serializers.DisputeInputSerializer, responses={201: serializers.DisputeSerializer})
    def dispute(self, request, reference=None):
        """File a rule dispute instead of returning own-authority work; answers 201 with the dispute. Refusals:
        not_owner, invalid_transition, dispute_already_open.
        """
        dispute = self._run(request, serializers.DisputeInputSerializer, services.case_dispute)
        return Response(serializers.DisputeSerializer(dispute).data, status=status.HTTP_201_CREATED)

    # Not paginated: the answer is the few consultations just opened, as a plain list.
    @case_action(serializers.ConsultSerializer, responses={201: serializers.ConsultationSerializer(many=True)},
                 pagination_class=None)
    def consult(self, request, reference=None):
        """A handler of the owner asks other units for their opinion; answers 201 with the consultations it
        opened. Refusals: not_owner, invalid_transition, justification_required, consultation_open,
        max_rounds_exceeded.
        """
        consultations = self._run(request, serializers.ConsultSerializer, services.case_consult)
        return Response(serializers.ConsultationSerializer(consultations, many=True).data,
                        status=status.HTTP_201_CREATED)

    @case_action(serializers.ReconcileSerializer)
    def reconcile(self, request, reference=None):
        """The owner's head or deputy records how a disagreement was settled, so the case may be submitted.
        Refusals: not_owner, invalid_transition.
        """
        self._run(request, serializers.ReconcileSerializer, services.case_reconcile)
        # The service answers with the reconciliation; the contract answers with the case as it is now.
        return Response(self._detail(self.get_object()))
