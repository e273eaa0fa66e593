"""A case's files over HTTP: listed and downloaded by whoever sees the case, added through the service."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from cases import services
from cases.api.serializers import AttachmentSerializer
from cases.downloads import attachment_response
from cases.services.attachments import may_attach


class AttachmentUploadSerializer(serializers.Serializer):
    # Size and type are the service's to judge (by content, not by the name or the declared type).
    file = serializers.FileField(allow_empty_file=False, use_url=False)


# Mixed into the case viewset, so that a case's files are found the way the case is: 404 if unseen.
class AttachmentActions:

    def _attachment_list(self, case):
        attachments = case.attachments.select_related("uploaded_by")
        page = self.paginate_queryset(attachments)
        serializer = AttachmentSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    def _attach(self, request, case):
        # Checked before the input, so that an overseer hears "may not" rather than what was wrong with the file.
        if not may_attach(case, request.user):
            raise PermissionDenied(_("You may read this case's files but not add to them."))
        form = AttachmentUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        attachment = services.attachment_add(case=case, actor=request.user, upload=form.validated_data["file"])
        return Response(AttachmentSerializer(attachment, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": AttachmentUploadSerializer},
                   responses={201: AttachmentSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser], filter_backends=[])
    def attachments(self, request, reference=None):
        """The case's files; POST (multipart `file`) adds one: the owner department and the intake desk."""
        case = self.get_object()
        if request.method == "POST":
            return self._attach(request, case)
        return self._attachment_list(case)

    @extend_schema(parameters=[OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
            url_name="attachment-download", filter_backends=[])
    def download(self, request, reference=None, attachment_id=None):
        """The file itself, as an attachment under its original name, to whoever sees the case."""
        attachment = get_object_or_404(self.get_object().attachments, pk=attachment_id)
        return attachment_response(attachment)
