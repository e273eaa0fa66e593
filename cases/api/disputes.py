"""Rule disputes: a unit reads its own, the admins read all and settle them (DESIGN.md §2 rule 5)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from cases import services
from cases.api.filters import DisputeFilter
from cases.api.serializers import DisputeSerializer, DisputeSettleSerializer, RefusalSerializer
from cases.models import RuleDispute
from cases.selectors import staff_of
from cityops.api import AUTHENTICATION_CLASSES


def disputes_visible_to(user):
    disputes = RuleDispute.objects.select_related("case", "department", "filed_by", "settled_by")
    if user.is_superuser:
        return disputes
    staff = staff_of(user)
    return disputes.filter(department_id=staff.department_id) if staff else disputes.none()


class SettledByAdmins(BasePermission):
    message = _("Only administrators settle rule disputes.")

    def has_permission(self, request, view):
        return view.action != "settle" or request.user.is_superuser


class DisputeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated, SettledByAdmins]
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter

    def get_queryset(self):
        return disputes_visible_to(self.request.user).order_by("-filed_at", "-id")

    @extend_schema(request=DisputeSettleSerializer, responses={200: DisputeSerializer, 409: RefusalSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def settle(self, request, pk=None):
        dispute = self.get_object()
        form = DisputeSettleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dispute = services.dispute_settle(dispute=dispute, actor=request.user, **form.validated_data)
        return Response(DisputeSerializer(dispute).data)
