"""Figures the navigation bar shows beside its links, counted from the access policy, once per request however
often the bar shows them."""

from django import template

from cases import policy
from cases.models import ConsultationStatus, DisputeStatus

register = template.Library()


def _once(request, key: str, count) -> int:
    figures = request.__dict__.setdefault("_nav_figures", {})
    if key not in figures:
        figures[key] = count()
    return figures[key]


@register.simple_tag(takes_context=True)
def open_dispute_count(context) -> int:
    request = context["request"]
    return _once(request, "open_disputes", lambda: policy.disputes_visible_to(request.user).filter(
        status=DisputeStatus.OPEN).count())


@register.simple_tag(takes_context=True)
def open_consultation_count(context) -> int:
    """How many requests wait for the user's unit's opinion."""
    request = context["request"]
    return _once(request, "open_consultations", lambda: policy.consultations_addressed_to(request.user).filter(
        status=ConsultationStatus.OPEN).count())
