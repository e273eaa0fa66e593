"""The database refuses to change or remove an oversight event, to every role (core.audit)."""

from django.db import migrations

from core.audit import protect, unprotect

PROTECTED_TABLES = ["oversight_oversightevent"]


def protect_tables(apps, schema_editor):
    protect(schema_editor, *PROTECTED_TABLES)


def unprotect_tables(apps, schema_editor):
    unprotect(schema_editor, *PROTECTED_TABLES)


class Migration(migrations.Migration):

    dependencies = [
        ("oversight", "0003_own_marks_notices_and_events"),
    ]

    operations = [migrations.RunPython(protect_tables, unprotect_tables)]
