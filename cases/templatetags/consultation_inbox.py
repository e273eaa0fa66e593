"""The consultations link of the navigation bar: how many requests wait for the user's unit."""

from django import template

from cases.models import Consultation, ConsultationStatus

register = template.Library()


@register.simple_tag
def open_consultation_count(membership) -> int:
    if membership is None:
        return 0
    return Consultation.objects.filter(department_id=membership.department_id, status=ConsultationStatus.OPEN).count()
