"""A case's files, handed only to those who see the case (anyone else: 404, as for the case itself)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cases import policy
from core.files import file_response


@require_GET
@login_required
def attachment_download(request, reference: str, attachment_id: int):
    attachment = get_object_or_404(policy.attachments_visible_to(request.user), case__reference=reference,
                                   pk=attachment_id)
    return file_response(attachment)
