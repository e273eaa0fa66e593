"""Bump the cache generations whenever what the routing index or the calendar is built from changes."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from departments import generations
from departments.models import AuthorityRule, CalendarDay, CaseType, Department


@receiver([post_save, post_delete], sender=AuthorityRule)
@receiver([post_save, post_delete], sender=CaseType)
@receiver([post_save, post_delete], sender=Department)
def rules_changed(**kwargs):
    if not kwargs.get("raw"):
        generations.bump(generations.RULES)


@receiver(m2m_changed, sender=AuthorityRule.required_consultees.through)
def consultees_changed(action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        generations.bump(generations.RULES)


@receiver([post_save, post_delete], sender=CalendarDay)
def calendar_changed(**kwargs):
    if not kwargs.get("raw"):
        generations.bump(generations.CALENDAR)
