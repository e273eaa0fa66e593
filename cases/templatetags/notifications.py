"""The bell list's line for a notice, the same sentence as the mail's subject."""

from django import template

from cases import notifications

register = template.Library()


@register.filter
def headline(notice) -> str:
    return notifications.headline(notice)
