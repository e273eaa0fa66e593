"""The admin's clerical correction of a case: wording, never anything routing or a service decides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case, EventAction
from cases.services.common import case_service, record, save_case
from core.audit import changes

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# What an admin may correct by hand: wording, not anything that routing or a service decides.
CLERICAL_FIELDS = ("title", "description", "applicant_name", "applicant_contact")


@case_service("correct", who=policy.CORRECTORS)
def case_correct(*, case: Case, actor: User, **corrections: str) -> Case:
    """Correct the wording of a case (a misspelt title, an applicant's contact) without touching its state.

    Like every other move it locks the row, refuses a correction made on an older view of the case
    (`case_changed`), bumps the version and records each field's old and new value on the trail
    (DESIGN.md §2 rule 8: the audit trail names every change and its author).
    """
    unknown = set(corrections) - set(CLERICAL_FIELDS)
    if unknown:
        raise ValueError(f"not clerical: {sorted(unknown)}")
    if "title" in corrections and not corrections["title"].strip():
        raise ValidationError({"title": _("This field is required.")})
    changed = changes({name: getattr(case, name) for name in corrections}, corrections)
    if not changed:
        return case
    for name in changed:
        setattr(case, name, corrections[name])
    save_case(case, *changed)
    record(case, actor, EventAction.CORRECTED, from_status=case.status, changes=changed)
    return case
