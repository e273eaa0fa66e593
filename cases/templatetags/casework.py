"""Figures the navigation bar shows beside its links."""

from django import template

from cases.models import DisputeStatus, RuleDispute

register = template.Library()


@register.simple_tag
def open_dispute_count() -> int:
    return RuleDispute.objects.filter(status=DisputeStatus.OPEN).count()
