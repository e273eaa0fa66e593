"""A refused move is a value: the rule code of DESIGN.md §2 and a sentence for the person who tried."""

import functools

from django.db import transaction
from django.utils import timezone


class Refused(Exception):
    def __init__(self, code: str, detail: str, **payload):
        super().__init__(detail)
        self.code = code
        self.detail = str(detail)
        self.payload = payload


def record_refusal(*, case, actor, refusal: Refused, attempted: str) -> None:
    """Write a `refused` event on the case (who tried what, and why not), in its own transaction.

    Called after the refused change has rolled back, so the refusal is kept while nothing of the change is.
    """
    from cases.models import Case, CaseEvent, EventAction

    with transaction.atomic():
        # The caller's copy may be stale (that can be why it was refused): record the state as stored.
        status = Case.objects.filter(pk=case.pk).values_list("status", flat=True).get()
        CaseEvent.objects.create(
            at=timezone.now(), case_id=case.pk, actor=actor if actor and actor.is_authenticated else None,
            action=EventAction.REFUSED, from_status=status, to_status=status, note=refusal.detail,
            payload={"code": refusal.code, "attempted": attempted, **refusal.payload},
        )


def records_refusals(attempted: str):
    """Record every `Refused` that the decorated case service raises, then let it propagate."""

    def decorate(service):
        @functools.wraps(service)
        def wrapper(*, case, actor, **kwargs):
            try:
                return service(case=case, actor=actor, **kwargs)
            except Refused as refusal:
                record_refusal(case=case, actor=actor, refusal=refusal, attempted=attempted)
                raise

        return wrapper

    return decorate
