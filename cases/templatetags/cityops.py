from django import template
from django.utils.formats import get_format

register = template.Library()


@register.filter
def vnd(amount) -> str:
    """An amount in đồng, grouped by thousands in every language: Django's Vietnamese format has no grouping."""
    if amount is None or amount == "":
        return "—"
    return f"{amount:,.0f}".replace(",", get_format("THOUSAND_SEPARATOR")) + " VND"
