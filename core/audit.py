"""Audit trails that are only ever appended to (directive: rõ người, rõ việc, rõ trách nhiệm).

An event row is written once, in the transaction of the change it records, and never changed or removed:
the ORM refuses an update or a delete of one, whether of a row or of a queryset.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = _("Audit events are append-only.")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(APPEND_ONLY)

    def delete(self):
        raise ValidationError(APPEND_ONLY)


class AppendOnlyModel(models.Model):
    """A row of an audit trail: saved once, never again, never deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(APPEND_ONLY)


def changes(before: dict, after: dict) -> dict[str, list]:
    """{field: [old, new]} for every field whose value differs, as JSON-ready values (dates as ISO text)."""

    def plain(value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {name: [plain(before.get(name)), plain(value)] for name, value in after.items()
            if before.get(name) != value}
