"""Two people acting on one case at the same moment: the moves and how a race between them is run."""

from collections.abc import Callable
from dataclasses import dataclass

from cases.models import Case, EventAction
from cases.services import case_accept, case_assign, case_resolve, case_return, case_transfer
from tests.support.concurrency import run_together

OK = "ok"


@dataclass(frozen=True)
class Move:
    actor: str
    action: str  # the attempted-action code the service records when it refuses
    service: Callable
    event: str
    fields: Callable = lambda city: {}


def accept(actor):
    return Move(actor, "accept", case_accept, EventAction.ACCEPTED)


def assign(actor, assignee):
    return Move(actor, "assign", case_assign, EventAction.ASSIGNED, lambda city: {"assignee": city.user(assignee)})


def return_(actor):
    return Move(actor, "return", case_return, EventAction.RETURNED, lambda city: {"reason": "Không đúng thẩm quyền"})


def transfer(actor):
    return Move(actor, "transfer", case_transfer, EventAction.TRANSFERRED,
                lambda city: {"to": city.outsider, "reason": "Chuyển Sở Tài chính"})


def resolve(actor):
    return Move(actor, "resolve", case_resolve, EventAction.RESOLVED, lambda city: {"note": "Cấp phép"})


def run_race(city, case, moves, *, with_version):
    """Each move in its own thread, released together; returns each move's outcome (OK or the refusal code)."""
    # The version each person saw when they opened the case, before anyone acted.
    seen = Case.unscoped.values_list("version", flat=True).get(pk=case.pk) if with_version else None

    def act(move):
        def service():
            move.service(case=case, actor=city.user(move.actor), expected_version=seen, **move.fields(city))
            return OK
        return service

    return tuple(run_together(*(act(move) for move in moves)))
