"""The database refuses to change or remove a version of an authority rule, or the required consultees it
named, to every role (core.audit): the history says who changed which rule, when and why (DESIGN.md §3)."""

from django.db import migrations

from core.audit import protect_tables

PROTECTED_TABLES = ["departments_historicalauthorityrule", "departments_historicalauthorityrule_required_consultees"]


class Migration(migrations.Migration):

    dependencies = [
        ("departments", "0002_rule_history_reason_text"),
    ]

    operations = [protect_tables(*PROTECTED_TABLES)]
