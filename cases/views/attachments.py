"""A case's files, handed only to those who see the case (anyone else: 404, as for the case itself)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cases import policy
from cases.reads import ReadKind, record_outside_read
from core.files import file_response


@require_GET
@login_required
def attachment_download(request, reference: str, attachment_id: int):
    attachments = policy.attachments_visible_to(request.user).select_related("case").annotate(
        consulted=policy.consulted_on(request.user, "case_id"))
    attachment = get_object_or_404(attachments, case__reference=reference, pk=attachment_id)
    response = file_response(attachment)
    record_outside_read(request, attachment.case, ReadKind.ATTACHMENT, item=attachment.original_name,
                        consulted=attachment.consulted)
    return response
