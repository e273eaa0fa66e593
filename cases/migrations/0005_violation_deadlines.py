"""Once, violations' handling deadlines were flagged and notified in the cases' own tables.

They are oversight's records, and oversight now keeps their marks and notices in tables of its own
(oversight 0003), so the cases app depends on nothing above it. This migration keeps its name, so that a
database that applied its earlier form stays consistent: oversight 0003 moves what such a database holds in
the old columns to oversight's tables and drops the columns.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_resolution_days_and_report_indexes'),
    ]

    operations = []
