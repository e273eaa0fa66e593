"""A case's files, handed only to those who see the case (anyone else: 404, as for the case itself)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from cases.selectors import cases_visible_to


@require_GET
@login_required
def attachment_download(request, reference: str, attachment_id: int):
    case = get_object_or_404(cases_visible_to(request.user), reference=reference)
    attachment = get_object_or_404(case.attachments, pk=attachment_id)
    try:
        stored = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    # Always a download under the cleaned original name, typed as detected from the content at upload;
    # nosniff stops a browser from second-guessing that type and rendering a file as a page.
    response = FileResponse(stored, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
