"""The one way a case file leaves the server, for the pages and the API alike."""

from django.http import FileResponse, Http404

from cases.models import Attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    """Always a download under the cleaned original name, typed as detected from the content at upload;
    nosniff stops a browser from second-guessing that type and rendering a file as a page. A file lost
    from storage answers 404 like any other missing thing, never a 500."""
    try:
        stored = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stored, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
