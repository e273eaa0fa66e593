"""Violations' handling deadlines are flagged and notified like any other deadline."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_resolution_days_and_report_indexes'),
        ('oversight', '0002_choices'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='deadlinemark',
            name='deadline_mark_one_item',
        ),
        migrations.RemoveConstraint(
            model_name='notification',
            name='one_case_deadline_notice',
        ),
        migrations.AddField(
            model_name='deadlinemark',
            name='violation',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='deadline_marks', to='oversight.violation'),
        ),
        migrations.AddField(
            model_name='notification',
            name='violation',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to='oversight.violation', verbose_name='violation'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(condition=models.Q(('violation__isnull', False)), fields=['violation'], name='notification_violation'),
        ),
        migrations.AddConstraint(
            model_name='deadlinemark',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('case__isnull', False), ('consultation__isnull', True), ('violation__isnull', True)), models.Q(('case__isnull', True), ('consultation__isnull', False), ('violation__isnull', True)), models.Q(('case__isnull', True), ('consultation__isnull', True), ('violation__isnull', False)), _connector='OR'), name='deadline_mark_one_item'),
        ),
        migrations.AddConstraint(
            model_name='deadlinemark',
            constraint=models.UniqueConstraint(condition=models.Q(('violation__isnull', False)), fields=('violation',), name='one_deadline_mark_per_violation'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(condition=models.Q(('consultation__isnull', True), ('kind__in', ('due_soon', 'overdue')), ('violation__isnull', True)), fields=('recipient', 'kind', 'case', 'on_date'), name='one_case_deadline_notice'),
        ),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.UniqueConstraint(condition=models.Q(('kind__in', ('due_soon', 'overdue')), ('violation__isnull', False)), fields=('recipient', 'kind', 'violation', 'on_date'), name='one_violation_deadline_notice'),
        ),
    ]
