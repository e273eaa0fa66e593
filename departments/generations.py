"""Cross-process cache invalidation: a per-key counter in the database.

Each web or worker process keeps the routing index and the calendar in memory; reading one small row per
use is far cheaper than rebuilding them, and it makes an admin's edit visible to every process at once.
"""

from django.db import transaction
from django.db.models import F

from departments.models import Generation

RULES = "rules"
CALENDAR = "calendar"


def current(key: str) -> int:
    return Generation.objects.filter(key=key).values_list("value", flat=True).first() or 0


def bump(key: str) -> None:
    with transaction.atomic():
        updated = Generation.objects.filter(key=key).update(value=F("value") + 1)
        if not updated:
            Generation.objects.get_or_create(key=key, defaults={"value": 1})
