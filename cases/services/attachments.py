"""Files on a case, through Django storage: size-limited, typed by their content, fingerprinted."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from cases import policy
from cases.models import Attachment, Case, EventAction
from cases.services.common import case_service, record
from core.files import forget_files, sha256_of, store_upload, validate_upload

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@case_service("attach", who=policy.ATTACHERS, lock=False)
def attachment_add(*, case: Case, actor: User, upload: UploadedFile) -> Attachment:
    """The owner department and the intake desk add files to a case; overseers only read them. Adding a file
    changes nothing another person could be overriding, so it takes no lock and no version."""
    name, mime = validate_upload(upload)
    digest = sha256_of(upload)
    # An upload Django has received knows its size; only a hand-made file object might not.
    attachment = Attachment(case=case, original_name=name, content_type=mime, size=cast(int, upload.size),
                            sha256=digest, uploaded_by=actor)
    try:
        with transaction.atomic():
            store_upload(attachment, upload, name=name)
            record(case, actor, EventAction.ATTACHMENT_ADDED, from_status=case.status, note=name,
                   attachment=attachment.pk, sha256=digest, size=upload.size)
    except Exception:
        # The row was rolled back; the stored file must not outlive it.
        forget_files([attachment])
        raise
    return attachment
