"""Files kept through Django storage: the stored-file row, the checks every upload passes, and the one way a
stored file leaves the server.

An upload is size-limited, typed by its content (never by its name or the type the browser claims), and
fingerprinted; it is stored under a random name, its cleaned original name kept in the row.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Detected content type -> the extensions a file of that type may carry.
ALLOWED_TYPES = {
    "application/pdf": {".pdf"},
    "image/jpeg": {".jpg", ".jpeg"},
    "image/png": {".png"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {".docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {".xlsx"},
    "application/vnd.oasis.opendocument.text": {".odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {".ods"},
}
# Enough of the file for every signature above, including the zip-based office formats.
SNIFF_BYTES = 8192


class StoredFile(models.Model):
    """A file kept through Django storage under a random name, with the name it was uploaded as, the type its
    content shows, its size and fingerprint, and who added it when. Subclasses say where it is stored."""

    file = models.FileField(gettext_lazy("file"), max_length=300)
    original_name = models.CharField(gettext_lazy("file name"), max_length=255)
    content_type = models.CharField(gettext_lazy("content type"), max_length=100)
    size = models.PositiveBigIntegerField(gettext_lazy("size (bytes)"))
    sha256 = models.CharField(gettext_lazy("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=gettext_lazy("uploaded by"),
                                    on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(gettext_lazy("uploaded at"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


def clean_filename(name: str) -> str:
    """The applicant's file name made safe to show and to offer back: no path, no control characters."""
    base = PurePath(unicodedata.normalize("NFC", name or "").replace("\\", "/")).name
    cleaned = get_valid_filename(base) if base.strip(". ") else ""
    stem, dot, suffix = cleaned.rpartition(".")
    if len(cleaned) > 200:
        cleaned = f"{stem[: 200 - len(suffix) - 1]}.{suffix}" if dot else cleaned[:200]
    return cleaned or "file"


def detected_type(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    return kind.mime if kind else None


def sha256_of(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


# What a browser would run if it ever rendered the file as a page; refused by content whatever the name says.
MARKUP = re.compile(rb"<\s*(?:!doctype\s+html|html|svg|script|iframe|object|embed)\b|<\?xml", re.IGNORECASE)
# Within a PDF (whose metadata is XML, so not that): a page a browser would render if it sniffed the file.
HTML_IN_PDF = re.compile(rb"<\s*(?:!doctype\s+html|html|script|iframe|body)\b", re.IGNORECASE)
# PDF actions that run code, open other programs or send the reader's data away.
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/Rendition", "/RichMediaExecute"}
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/EmbeddedFiles", "/RichMedia", "/XFA"}
# Enough for any real document's objects; a file with more is refused rather than walked for ever.
PDF_MAX_OBJECTS = 200_000


def validate_upload(upload: UploadedFile) -> tuple[str, str]:
    """(clean file name, detected content type), or a ValidationError on the `file` field."""
    if upload.size is not None and upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": _("The file is %(size).1f MB; the limit is %(limit).0f MB.") % {
            "size": upload.size / 2**20, "limit": settings.ATTACHMENT_MAX_BYTES / 2**20}})
    name = clean_filename(upload.name or "")
    mime = detected_type(upload)
    if mime is None and is_markup(upload):
        raise ValidationError({"file": _("Web pages and SVG images are not accepted, whatever the file's name: "
                                         "print the page to PDF and attach the PDF.")})
    if mime not in ALLOWED_TYPES:
        raise ValidationError({"file": _("Only PDF, JPEG, PNG, Word (.docx), Excel (.xlsx) and OpenDocument files "
                                         "are accepted; this file's content is not one of them.")})
    if PurePath(name).suffix.lower() not in ALLOWED_TYPES[mime]:
        raise ValidationError({"file": _("The file's name says %(suffix)s but its content is %(type)s.") % {
            "suffix": PurePath(name).suffix or _("no type"), "type": mime}})
    if mime == "application/pdf":
        check_pdf(upload)
    return name, mime


def is_markup(upload: UploadedFile) -> bool:
    """Whether the file's start is HTML, SVG or XML markup (after any byte-order mark and white space)."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return bool(MARKUP.match(head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")))


def check_pdf(upload: UploadedFile) -> None:
    """A PDF must parse, and hold no script, no action that launches or sends, no embedded file and no HTML: a
    case file is read by officials on office computers, and a PDF viewer runs what a PDF asks it to."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    refused = ValidationError({"file": _("This PDF contains scripts, embedded files or web content, which are not "
                                         "accepted: print it to a new PDF and attach that one.")})
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    if HTML_IN_PDF.search(content):
        raise refused
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise ValidationError({"file": _("Password-protected PDFs are not accepted: save it without the "
                                             "password and attach it again.")})
        if has_active_content(reader.trailer):
            raise refused
    except ValidationError:
        raise
    except (PdfReadError, ValueError, TypeError, KeyError, AttributeError, RecursionError, OSError) as error:
        raise ValidationError({"file": _("The file says it is a PDF but cannot be read as one.")}) from error


def has_active_content(root) -> bool:
    """Walk every object reachable from the trailer (pages, annotations, forms, name trees) for an action or a key
    that makes the document do something; unreachable objects are never shown, so never run."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            if len(seen) > PDF_MAX_OBJECTS:
                return True
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            if PDF_ACTIVE_KEYS & set(item.keys()) or item.get("/S") in PDF_ACTIVE_ACTIONS:
                return True
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return False


def accepted_suffixes() -> list[str]:
    return sorted({suffix for suffixes in ALLOWED_TYPES.values() for suffix in suffixes})


def store_upload(stored: StoredFile, upload: UploadedFile, *, name: str) -> None:
    """Write the upload to storage under the row's random name and save the row; call inside the transaction
    that writes the rest of the change, and `forget_files` the names stored if that transaction fails."""
    stored.file.save(name, upload, save=False)
    stored.save()


def forget_files(stored_files) -> None:
    """The rows were rolled back; the stored files must not outlive them."""
    for stored in stored_files:
        if stored.file.name:
            stored.file.storage.delete(stored.file.name)


def file_response(stored: StoredFile) -> FileResponse:
    """Always a download under the cleaned original name, typed as detected from the content at upload;
    nosniff stops a browser from second-guessing that type and rendering a file as a page. A file lost
    from storage answers 404 like any other missing thing, never a 500."""
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=stored.original_name,
                            content_type=stored.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
