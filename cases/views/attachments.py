"""A case's files, handed only to those who see the case (anyone else: 404, as for the case itself)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cases.downloads import attachment_response
from cases.selectors import cases_visible_to


@require_GET
@login_required
def attachment_download(request, reference: str, attachment_id: int):
    case = get_object_or_404(cases_visible_to(request.user), reference=reference)
    attachment = get_object_or_404(case.attachments, pk=attachment_id)
    return attachment_response(attachment)
