"""Consultations over HTTP: a unit reads the requests addressed to it and those it sent, answers and assigns
its own (DESIGN.md §2 rules 4 and 6). Every change is one call to a service; refusals answer 409.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases import services
from cases.api import serializers
from cases.api.filters import ConsultationFilter
from cases.selectors import consultations_visible_to
from cityops.api import AUTHENTICATION_CLASSES


def consultation_action(form_class):
    def decorate(method):
        method = action(detail=True, methods=["post"], filter_backends=[])(method)
        return extend_schema(request=form_class, responses={200: serializers.ConsultationSerializer,
                                                            409: serializers.RefusalSerializer})(method)

    return decorate


class ConsultationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Consultations the signed-in user may see (any other answers 404), soonest due first."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]
    serializer_class = serializers.ConsultationSerializer
    filterset_class = ConsultationFilter

    def get_queryset(self):
        return (consultations_visible_to(self.request.user)
                .select_related("case", "department", "requested_by", "assignee", "answered_by")
                .order_by("-case__key_task", "due_date", "id"))

    def _act(self, request, form_class, service):
        consultation = self.get_object()
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        service(consultation=consultation, actor=request.user, **form.validated_data)
        # Read back as the list shows it, with its names in the same few queries.
        return Response(self.get_serializer(self.get_queryset().get(pk=consultation.pk)).data)

    @consultation_action(serializers.RespondSerializer)
    def respond(self, request, pk=None):
        """The consulted unit gives its opinion; a comment is required unless it agrees, and not_competent
        opens a rule dispute. Refusals: not_owner (not the consulted unit), invalid_transition (already answered).
        """
        return self._act(request, serializers.RespondSerializer, services.consultation_respond)

    @consultation_action(serializers.ConsultationAssignSerializer)
    def assign(self, request, pk=None):
        """The consulted unit's head or deputy names who prepares the answer. Refusals: not_owner,
        invalid_transition (no longer open).
        """
        return self._act(request, serializers.ConsultationAssignSerializer, services.consultation_assign)
