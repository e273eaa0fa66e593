"""The database refuses to change or remove a version of an authority rule, or the required consultees it
named, to every role (core.audit): the history says who changed which rule, when and why (DESIGN.md §3)."""

from django.db import migrations

from core.audit import protect, unprotect

PROTECTED_TABLES = ["departments_historicalauthorityrule", "departments_historicalauthorityrule_required_consultees"]


def protect_tables(apps, schema_editor):
    protect(schema_editor, *PROTECTED_TABLES)


def unprotect_tables(apps, schema_editor):
    unprotect(schema_editor, *PROTECTED_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ("departments", "0002_rule_history_reason_text"),
    ]

    operations = [migrations.RunPython(protect_tables, unprotect_tables)]
