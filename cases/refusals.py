"""A refused move is a value: the rule code of DESIGN.md §2 and a sentence for the person who tried."""

import functools

from django.db import transaction


class Refused(Exception):
    def __init__(self, code: str, detail: str, **payload):
        super().__init__(detail)
        self.code = code
        self.detail = str(detail)
        self.payload = payload


def records_refusals(attempted: str):
    """Write a `refused` event on the case (who tried what, and why not) when the service refuses.

    The event is written after the service's own transaction has rolled back, so the refusal is kept
    while nothing of the refused change is.
    """

    def decorate(service):
        @functools.wraps(service)
        def wrapper(*, case, actor, **kwargs):
            try:
                return service(case=case, actor=actor, **kwargs)
            except Refused as refusal:
                from cases.models import Case, CaseEvent, EventAction

                with transaction.atomic():
                    # The caller's copy may be stale (that can be why it was refused): record the state as stored.
                    status = Case.objects.filter(pk=case.pk).values_list("status", flat=True).get()
                    CaseEvent.objects.create(
                        case=case, actor=actor if actor and actor.is_authenticated else None,
                        action=EventAction.REFUSED, from_status=status, to_status=status,
                        note=refusal.detail,
                        payload={"code": refusal.code, "attempted": attempted, **refusal.payload},
                    )
                raise

        return wrapper

    return decorate
