"""Rule disputes: a unit reads its own, the admins read all and settle them (DESIGN.md §2 rule 5)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from cases import policy, services
from cases.api.filters import DisputeFilter
from cases.api.serializers import DisputeSerializer, DisputeSettleSerializer, RefusalSerializer
from core.api import AUTHENTICATION_CLASSES


class SettledByAdmins(BasePermission):
    message = _("Only administrators settle rule disputes.")

    def has_permission(self, request, view):
        return view.action != "settle" or policy.is_admin(request.user)


class DisputeViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated, SettledByAdmins]
    serializer_class = DisputeSerializer
    filterset_class = DisputeFilter

    def get_queryset(self):
        return (policy.disputes_visible_to(self.request.user)
                .select_related("case", "department", "filed_by", "settled_by").order_by("-filed_at", "-id"))

    @extend_schema(request=DisputeSettleSerializer, responses={200: DisputeSerializer, 409: RefusalSerializer})
    @action(detail=True, methods=["post"], filter_backends=[])
    def settle(self, request, pk=None):
        dispute = self.get_object()
        form = DisputeSettleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        dispute = services.dispute_settle(dispute=dispute, actor=request.user, **form.validated_data)
        return Response(DisputeSerializer(dispute).data)
