"""Serializer fields that more than one endpoint reads the same way."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from departments.models import Department

# An older receipt is a typing mistake rather than a backlog import, and it keeps dates far from datetime's limits.
EARLIEST_RECEIPT_YEAR = 2000


def code_field(queryset, **kwargs) -> serializers.SlugRelatedField:
    """Objects are named by their codes in the API, never by database ids."""
    return serializers.SlugRelatedField(slug_field="code", queryset=queryset, **kwargs)


def locality_field(**kwargs) -> serializers.SlugRelatedField:
    return code_field(Department.objects.localities(), **kwargs)


class ReceivedAtField(serializers.DateTimeField):
    """When a dossier was received: never in the future (DESIGN.md §5), never implausibly old."""

    default_error_messages = {
        "future": _("The receipt time cannot be in the future."),
        "too_old": _("The receipt time cannot be before %(year)s."),
    }

    def to_internal_value(self, value):
        try:
            moment = super().to_internal_value(value)
        except OverflowError:
            # DRF's own time-zone checks overflow on naive datetimes near year 1.
            self.fail("overflow")
        if moment > timezone.now():
            self.fail("future")
        if timezone.localtime(moment).year < EARLIEST_RECEIPT_YEAR:
            raise serializers.ValidationError(self.error_messages["too_old"] % {"year": EARLIEST_RECEIPT_YEAR})
        return moment
