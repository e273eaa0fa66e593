"""The city office's queue of matters submitted to the City Committee (DESIGN.md §1 `Submission`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, viewsets
from rest_framework.permissions import BasePermission, IsAuthenticated

from cases import policy
from cases.api.filters import SubmissionFilter
from cases.api.serializers import SubmissionQueueSerializer
from core.api import AUTHENTICATION_CLASSES


class RecordsDecisions(BasePermission):
    message = _("Only the city office sees the City Committee's queue.")

    def has_permission(self, request, view):
        return policy.may_record_decisions(request.user)


class SubmissionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Pending submissions, oldest first; `?outcome=` shows decided ones (or `all`)."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated, RecordsDecisions]
    serializer_class = SubmissionQueueSerializer
    filterset_class = SubmissionFilter

    def get_queryset(self):
        return (policy.submissions_visible_to(self.request.user)
                .select_related("case", "department", "submitted_by", "decided_by")
                .order_by("-case__key_task", "submitted_at", "id"))
