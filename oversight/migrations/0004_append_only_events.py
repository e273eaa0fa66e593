"""The database refuses to change or remove an oversight event, to every role (core.audit)."""

from django.db import migrations

from core.audit import protect_tables

PROTECTED_TABLES = ["oversight_oversightevent"]


class Migration(migrations.Migration):

    dependencies = [
        ("oversight", "0003_own_marks_notices_and_events"),
    ]

    operations = [protect_tables(*PROTECTED_TABLES)]
