"""Files on a case, through Django storage: size-limited, typed by their content, fingerprinted."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import PurePath

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from cases.models import Attachment, Case, EventAction
from cases.selectors import cases_visible_to, staff_of
from cases.services.common import record
from departments.models import Role

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


def validate_upload(upload: UploadedFile) -> tuple[str, str]:
    """(clean file name, detected content type), or a ValidationError on the `file` field."""
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError({"file": _("The file is %(size).1f MB; the limit is %(limit).0f MB.") % {
            "size": upload.size / 2**20, "limit": settings.ATTACHMENT_MAX_BYTES / 2**20}})
    name = clean_filename(upload.name)
    mime = detected_type(upload)
    if mime not in ALLOWED_TYPES:
        raise ValidationError({"file": _("Only PDF, JPEG, PNG, Word (.docx), Excel (.xlsx) and OpenDocument files "
                                         "are accepted; this file's content is not one of them.")})
    if PurePath(name).suffix.lower() not in ALLOWED_TYPES[mime]:
        raise ValidationError({"file": _("The file's name says %(suffix)s but its content is %(type)s.") % {
            "suffix": PurePath(name).suffix or _("no type"), "type": mime}})
    return name, mime


def may_attach(case: Case, user) -> bool:
    """The owner department's staff and the intake desk add files; overseers only read them."""
    staff = staff_of(user)
    if staff is None or not cases_visible_to(user).filter(pk=case.pk).exists():
        return False
    return staff.department_id == case.owner_id or staff.role == Role.CLERK


def attachment_add(*, case: Case, actor, upload: UploadedFile) -> Attachment:
    if not may_attach(case, actor):
        raise PermissionDenied(_("Only the owner department and the intake desk add files to a case."))
    name, mime = validate_upload(upload)
    digest = sha256_of(upload)
    attachment = Attachment(case=case, original_name=name, content_type=mime, size=upload.size, sha256=digest,
                            uploaded_by=actor)
    try:
        with transaction.atomic():
            attachment.file.save(name, upload, save=False)
            attachment.save()
            record(case, actor, EventAction.ATTACHMENT_ADDED, from_status=case.status, note=name,
                   attachment=attachment.pk, sha256=digest, size=upload.size)
    except Exception:
        # The row was rolled back; the stored file must not outlive it.
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment
