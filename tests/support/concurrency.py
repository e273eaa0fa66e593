"""Running moves at the same moment, for the PostgreSQL race tests."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from core.refusals import Refused


def skip_unless_postgres(why: str = "the row-lock race only exists on PostgreSQL") -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"SQLite serializes all writers; {why}")


def run_together(*moves: Callable[[], object]) -> list:
    """Each move in its own thread, released together; each one's result, or its refusal code."""
    start = threading.Barrier(len(moves))
    outcomes, errors = [None] * len(moves), []

    def act(index, move):
        try:
            start.wait(timeout=30)
            outcomes[index] = move()
        except Refused as refusal:
            outcomes[index] = refusal.code
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(i, move)) for i, move in enumerate(moves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    return outcomes
