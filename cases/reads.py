"""Reads of a case's personal data from outside the units that work on it, recorded as they are served.

The Law on Personal Data Protection (Law 91/2025/QH15) wants every access accounted for; the units that own or
are consulted on a case read its applicant's data to do their work, and the policy says who reads from outside
(`policy.reads_from_outside`). Pages and the API ask here, so that the two record alike.
"""

from __future__ import annotations

from django.http import HttpRequest

from cases import policy
from cases.models import Case
from core.reads import ReadKind, record_read

__all__ = ["ReadKind", "record_outside_read"]


def record_outside_read(request: HttpRequest, case: Case, kind: ReadKind, *, item: str = "",
                        consulted: bool | None = None) -> None:
    """Record the read when the reader is outside the case's units; `consulted` is the `policy.consulted_on`
    annotation where the view read it with the case."""
    if policy.reads_from_outside(request.user, case, consulted=consulted):
        record_read(request.user, kind, case.reference, item=item, request=request)  # type: ignore[arg-type]
