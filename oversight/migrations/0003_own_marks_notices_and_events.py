"""Oversight keeps its own deadline marks and notices, and an audit trail of its records.

A database that applied the first form of cases 0005 holds the marks and notices of violations in two
columns of the cases' tables (`violation_id` of the marks and of the notices). They are moved here, and
the columns dropped, so that the cases app's tables name nothing of oversight's; the constraints those
tables lost with the columns are made again as the cases app's models declare them.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

LEGACY_COLUMN = "violation_id"
MARK_COLUMNS = "violation_id, flag, due_date, flagged_at"
NOTICE_COLUMNS = ("recipient_id, kind, violation_id, on_date, created_at, read_at, mail_state, mail_attempts, "
                  "mailed_at, mail_error")


def has_legacy_column(schema_editor, table: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        columns = schema_editor.connection.introspection.get_table_description(cursor, table)
    return any(column.name == LEGACY_COLUMN for column in columns)


def drop_legacy_column(schema_editor, model) -> None:
    """The table without the column, with the constraints and indexes its model now declares."""
    table = model._meta.db_table
    if schema_editor.connection.vendor == "sqlite":
        # SQLite cannot drop a column a foreign key or a constraint names: the table is made again from the
        # model's state, which no longer has it (Django's own way of altering SQLite tables).
        schema_editor._remake_table(model)
        return
    schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} DROP COLUMN {LEGACY_COLUMN}")
    with schema_editor.connection.cursor() as cursor:
        present = set(schema_editor.connection.introspection.get_constraints(cursor, table))
    for constraint in model._meta.constraints:
        if constraint.name not in present:
            schema_editor.add_constraint(model, constraint)


def move_legacy_rows(apps, schema_editor):
    marks = apps.get_model("cases", "DeadlineMark")
    notices = apps.get_model("cases", "Notification")
    quote = schema_editor.quote_name
    for model, target, columns in ((marks, "oversight_violationmark", MARK_COLUMNS),
                                   (notices, "oversight_violationnotice", NOTICE_COLUMNS)):
        table = model._meta.db_table
        if not has_legacy_column(schema_editor, table):
            continue
        schema_editor.execute(f"INSERT INTO {quote(target)} ({columns}) SELECT {columns} FROM {quote(table)} "
                              f"WHERE {LEGACY_COLUMN} IS NOT NULL")
        schema_editor.execute(f"DELETE FROM {quote(table)} WHERE {LEGACY_COLUMN} IS NOT NULL")
        drop_legacy_column(schema_editor, model)


class Migration(migrations.Migration):

    dependencies = [
        ('oversight', '0002_choices'),
        ('cases', '0006_scoped_managers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ViolationMark',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('flag', models.CharField(choices=[('', 'On time'), ('due_soon', 'Due soon'), ('overdue', 'Overdue')], max_length=10, verbose_name='deadline flag')),
                ('due_date', models.DateField(verbose_name='flagged due date')),
                ('flagged_at', models.DateTimeField(db_index=True, verbose_name='flagged at')),
                ('violation', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='deadline_mark', to='oversight.violation')),
            ],
            options={
                'verbose_name': 'handling deadline flag',
                'verbose_name_plural': 'handling deadline flags',
            },
        ),
        migrations.CreateModel(
            name='OversightEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('action', models.CharField(choices=[('inspection_recorded', 'Inspection recorded'), ('file_added', 'File added to the inspection'), ('violation_recorded', 'Violation recorded'), ('extended', 'Handling deadline extended'), ('action_taken', 'Action taken'), ('handled', 'Handling ended'), ('dismissed', 'Closed as not confirmed'), ('commendation_recorded', 'Commendation recorded'), ('refused', 'Refused')], max_length=40, verbose_name='action')),
                ('note', models.TextField(blank=True, verbose_name='note')),
                ('payload', models.JSONField(blank=True, default=dict, verbose_name='details')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor')),
                ('commendation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='oversight.commendation')),
                ('inspection', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='oversight.inspection')),
                ('violation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='oversight.violation')),
            ],
            options={
                'verbose_name': 'oversight event',
                'verbose_name_plural': 'oversight events',
                'ordering': ['at', 'id'],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('commendation__isnull', True), ('inspection__isnull', False), ('violation__isnull', True)), models.Q(('commendation__isnull', True), ('inspection__isnull', True), ('violation__isnull', False)), models.Q(('commendation__isnull', False), ('inspection__isnull', True), ('violation__isnull', True)), _connector='OR'), name='oversight_event_one_record')],
            },
        ),
        migrations.CreateModel(
            name='ViolationNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('assigned', 'New assignment'), ('due_soon', 'Due soon'), ('overdue', 'Overdue'), ('digest', 'Daily digest')], max_length=20, verbose_name='kind')),
                ('on_date', models.DateField(blank=True, null=True, verbose_name='date')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read at')),
                ('mail_state', models.CharField(choices=[('pending', 'To be sent'), ('sent', 'Sent'), ('failed', 'Failed'), ('none', 'No e-mail address')], default='pending', max_length=10, verbose_name='e-mail')),
                ('mail_attempts', models.PositiveSmallIntegerField(db_default=0, verbose_name='e-mail attempts')),
                ('mailed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mailed at')),
                ('mail_error', models.TextField(blank=True, db_default='', verbose_name='last e-mail error')),
                ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recipient')),
                ('violation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='oversight.violation', verbose_name='violation')),
            ],
            options={
                'verbose_name': 'handling deadline notice',
                'verbose_name_plural': 'handling deadline notices',
                'ordering': ['-created_at', '-id'],
                'abstract': False,
                'indexes': [models.Index(fields=['recipient', 'read_at'], name='oversight_v_recipie_bf2947_idx'), models.Index(condition=models.Q(('mail_state', 'pending')), fields=['created_at'], name='violationnotice_pending')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('kind__in', ('due_soon', 'overdue'))), fields=('recipient', 'kind', 'violation', 'on_date'), name='one_violation_deadline_notice')],
            },
        ),
        migrations.RunPython(move_legacy_rows, migrations.RunPython.noop),
    ]
