"""Reports off the primary: a read replica (DATABASE_REPLICA_URL) for the views that only read a great deal.

A view marked `@reads_replica` runs its reads, and the reads of the file it streams, on the "replica" alias; its
writes (the record of an export) and everything any other view does go to the primary. Without a replica no
router is installed and every read stays on the primary. A replica lags its primary by a moment: what a report
shows may be a second old, which a report can afford and a case page cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase

REPLICA = "replica"

_on_replica: ContextVar[bool] = ContextVar("reads_on_replica", default=False)


class ReplicaRouter:
    """Installed by the settings only when a replica is configured."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return REPLICA if _on_replica.get() else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The same rows, read from either copy.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica follows the primary's schema by replication; migrate never writes to it.
        return db != REPLICA


class _ReadingOnReplica:
    """A streamed file's chunks, each made with reads on the replica: the view has returned by then."""

    def __init__(self, chunks: Any):
        self._chunks = iter(chunks)
        self.close = getattr(chunks, "close", lambda: None)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        token = _on_replica.set(True)
        try:
            return next(self._chunks)
        finally:
            _on_replica.reset(token)


def reads_replica(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def on_replica(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        token = _on_replica.set(True)
        try:
            response = view(request, *args, **kwargs)
        finally:
            _on_replica.reset(token)
        if response.streaming:
            response.streaming_content = _ReadingOnReplica(response.streaming_content)  # type: ignore[attr-defined]
        return response

    return on_replica
