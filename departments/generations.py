"""Cross-process cache invalidation: a per-key token in the database.

Each web or worker process keeps the routing index and the calendar in memory; reading one small row per
use is far cheaper than rebuilding them, and it makes an admin's edit visible to every process at once.
"""

import uuid

from departments.models import Generation

RULES = "rules"
CALENDAR = "calendar"


def current(key: str) -> str:
    return Generation.objects.filter(key=key).values_list("value", flat=True).first() or ""


def current_all() -> dict[str, str]:
    """Every key's token in one query, for callers that need both the rules and the calendar."""
    return dict(Generation.objects.values_list("key", "value"))


def bump(key: str) -> None:
    Generation.objects.update_or_create(key=key, defaults={"value": uuid.uuid4().hex})
