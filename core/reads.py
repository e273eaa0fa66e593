"""Who read personal data: one row per read, written by the view that served it (core.models.PersonalDataRead).

Whether a read of a case counts as one from outside is the access policy's to say
(`cases.policy.reads_from_outside`); the views ask it and call `record_read`. Every export is recorded, whoever
asks, by wrapping its view in `records_export`. Each record is a single INSERT and nothing else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponseBase

from core.models import MAX_QUERY_CHARS, PersonalDataRead, ReadKind
from core.replicas import reads_replica

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["ReadKind", "record_read", "records_export"]


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address as django-axes reads it (behind the proxies `TRUSTED_PROXY_COUNT` says), if it is
    one: the column holds addresses only."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    address = get_client_ip_address(request)
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def record_read(user: User, kind: ReadKind, subject: str, *, item: str = "", query: str = "",
                request: HttpRequest | None = None) -> PersonalDataRead:
    """Record that `user` read `subject` (a case's reference, an export's address) now."""
    subject_field = PersonalDataRead._meta.get_field("subject")
    item_field = PersonalDataRead._meta.get_field("item")
    return PersonalDataRead.objects.create(
        reader=user, kind=kind, subject=subject[:subject_field.max_length], item=item[:item_field.max_length],
        query=query[:MAX_QUERY_CHARS], address=client_address(request))


def records_export(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Record every file the view hands out (a redirect or a refusal is not an export), with its query. The
    file is read from the replica, when there is one; the record is written to the primary."""
    on_replica = reads_replica(view)

    @wraps(view)
    def recorded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = on_replica(request, *args, **kwargs)
        if response.status_code == 200 and response.has_header("Content-Disposition"):
            record_read(request.user, ReadKind.EXPORT, request.path,  # type: ignore[arg-type]
                        query=request.GET.urlencode(), request=request)
        return response

    return recorded
