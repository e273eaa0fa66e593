"""The database refuses to change or remove a case event, to every role (core.audit).

After 0009: its fill is the last update the trail takes.
"""

from django.db import migrations

from core.audit import protect_tables

PROTECTED_TABLES = ["cases_caseevent"]


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0009_event_digests"),
    ]

    operations = [protect_tables(*PROTECTED_TABLES)]
