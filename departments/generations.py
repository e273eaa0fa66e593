"""Cross-process cache invalidation: a per-key token in the database.

Each web or worker process keeps the routing index and the calendar in memory; reading one small row per
use is far cheaper than rebuilding them, and it makes an admin's edit visible to every process at once.
"""

import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from departments.models import Generation

T = TypeVar("T")

RULES = "rules"
CALENDAR = "calendar"


def current(key: str) -> str:
    return Generation.objects.filter(key=key).values_list("value", flat=True).first() or ""


def current_all() -> dict[str, str]:
    """Every key's token in one query, for callers that need both the rules and the calendar."""
    return dict(Generation.objects.values_list("key", "value"))


def bump(key: str) -> None:
    Generation.objects.update_or_create(key=key, defaults={"value": uuid.uuid4().hex})


class GenerationCache(Generic[T]):
    """One value per process, rebuilt when the token of its key has changed since it was built."""

    def __init__(self, key: str, build: Callable[[], T]):
        self.key = key
        self.build = build
        # (token, value), replaced as a whole: readers in other threads see the old pair or the new one.
        self._cached: tuple[str, T] | None = None

    def get(self, tokens: dict[str, str] | None = None) -> T:
        """The value; `tokens` (from `current_all()`) spares the query when the caller has just read them."""
        # Read the token before building: a change committed in between only causes one extra rebuild.
        token = tokens.get(self.key, "") if tokens is not None else current(self.key)
        cached = self._cached
        if cached is not None and cached[0] == token:
            return cached[1]
        value = self.build()
        self._cached = (token, value)
        return value
