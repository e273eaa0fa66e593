"""The database refuses to change or remove a case event, to every role (core.audit).

After 0009: its fill is the last update the trail takes.
"""

from django.db import migrations

from core.audit import protect, unprotect

PROTECTED_TABLES = ["cases_caseevent"]


def protect_tables(apps, schema_editor):
    protect(schema_editor, *PROTECTED_TABLES)


def unprotect_tables(apps, schema_editor):
    unprotect(schema_editor, *PROTECTED_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_event_digests"),
    ]

    operations = [migrations.RunPython(protect_tables, unprotect_tables)]
