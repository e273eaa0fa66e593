"""A refused move is a value: the rule code of DESIGN.md §2 and a sentence for the person who tried.

Every code the server refuses with is one member of `RefusalCode`, with the label reports show it by. A
service that refuses records the attempt (who tried what, and why not) through `records_refusals`, the one
way a refusal is written down: the app that owns the record says how it is stored.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


class RefusalCode(models.TextChoices):
    """Every code a service refuses with (DESIGN.md §2), named for the reader: the one place their labels live."""

    WITHIN_OWN_AUTHORITY = "within_own_authority", _("Passing on work within own authority")
    TARGET_NOT_COMPETENT = "target_not_competent", _("Transfer to a unit that is not competent")
    NOT_OWNER = "not_owner", _("Acting on another unit's case")
    INVALID_TRANSITION = "invalid_transition", _("Action not allowed at this stage")
    CONSULTATIONS_PENDING = "consultations_pending", _("Submitted before the required opinions")
    UNRESOLVED_DISAGREEMENT = "unresolved_disagreement", _("Submitted over an unreconciled disagreement")
    MAX_ROUNDS_EXCEEDED = "max_rounds_exceeded", _("Too many consultation rounds")
    CONSULTATION_OPEN = "consultation_open", _("Asked again before the answer")
    JUSTIFICATION_REQUIRED = "justification_required", _("Consultation beyond the rule without a reason")
    CASE_CHANGED = "case_changed", _("Acted on an outdated view of the case")
    ALREADY_EXTENDED = "already_extended", _("Deadline already extended")
    EXTENSION_TOO_LATE = "extension_too_late", _("Extension asked too late")
    SUPPLEMENT_ALREADY_REQUESTED = "supplement_already_requested", _("Supplement already requested")
    SUPPLEMENT_TOO_LATE = "supplement_too_late", _("Supplement asked too late")
    DISPUTE_ALREADY_OPEN = "dispute_already_open", _("Rule dispute already open")
    AMBIGUOUS_RULE = "ambiguous_rule", _("A rule that ties with another rule")
    EXTENSION_TOO_LONG = "extension_too_long", _("Extension beyond the case's own processing time")
    BACKDATED_RECEIPT = "backdated_receipt", _("Receipt dated too far back")


# What the directive forbids: pushing one's own work away or settling another unit's, submitting before
# agreement, consultation used to stall, figures bent (a backdated receipt, an extension past the case's own
# time). Every other code is a slip: a stale tab, a step out of order, a reason left out. A report shows the
# two apart, so that a unit is not judged by its clicks.
DIRECTIVE_CODES = frozenset({
    RefusalCode.WITHIN_OWN_AUTHORITY, RefusalCode.TARGET_NOT_COMPETENT, RefusalCode.NOT_OWNER,
    RefusalCode.CONSULTATIONS_PENDING, RefusalCode.UNRESOLVED_DISAGREEMENT, RefusalCode.MAX_ROUNDS_EXCEEDED,
    RefusalCode.CONSULTATION_OPEN, RefusalCode.EXTENSION_TOO_LONG, RefusalCode.BACKDATED_RECEIPT,
})


def refusal_label(code: str) -> str:
    """The code's label; a code recorded by a later version, or an older one since renamed, shows as itself."""
    return str(RefusalCode(code).label) if code in RefusalCode.values else code


class Refused(Exception):
    """A move the directive forbids. `payload` keeps codes and values (never display text) for the record."""

    def __init__(self, code: RefusalCode, detail: str, **payload: Any):
        super().__init__(detail)
        self.code = RefusalCode(code)
        self.detail = str(detail)
        self.payload = payload


class RefusalWriter(Protocol):
    # `subject` is positional: each app names it for what it is (a case, a violation). The actor is whatever
    # the refused call was given, a visitor or nobody included.
    def __call__(self, subject: Any, /, *, actor: User | AnonymousUser | None, refusal: Refused,
                 attempted: str) -> None: ...


Service = TypeVar("Service", bound=Callable[..., Any])


def write_unattached_refusal(_subject: Any, /, *, actor: User | AnonymousUser | None, refusal: Refused,
                             attempted: str) -> None:
    """For a move that would have made its record (a case logged at intake): the refusal is kept on its own."""
    from core.models import RefusedAttempt

    RefusedAttempt.objects.create(actor=actor if actor is not None and actor.is_authenticated else None,
                                  attempted=attempted, code=refusal.code, detail=refusal.detail,
                                  payload=refusal.payload)


def records_refusals(attempted: str, *, on: str, write: RefusalWriter) -> Callable[[Service], Service]:
    """Record every `Refused` that the decorated service raises, then let it propagate.

    `on` names the keyword argument holding the record the attempt was on (a case, a consultation, a
    violation); `write` stores the refusal beside it. It runs in a transaction of its own, after the refused
    change has rolled back, so the refusal is kept while nothing of the change is.
    """

    def decorate(service: Service) -> Service:
        @functools.wraps(service)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return service(*args, **kwargs)
            except Refused as refusal:
                with transaction.atomic():
                    write(kwargs[on], actor=kwargs.get("actor"), refusal=refusal, attempted=attempted)
                raise

        wrapper.attempted = attempted  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
