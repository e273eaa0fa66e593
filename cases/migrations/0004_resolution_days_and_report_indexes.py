"""The oversight reports' groundwork: working days taken by each resolved case, and two indexes."""

from django.db import migrations, models


def fill_working_days_taken(apps, schema_editor):
    # Cases resolved before this field existed get it from the calendar as it stands now, read through the
    # historical models so that a later change to the calendar's table cannot break this step.
    from departments.workdays import WorkingCalendar, local_date

    Case = apps.get_model("cases", "Case")
    CalendarDay = apps.get_model("departments", "CalendarDay")
    calendar = WorkingCalendar(dict(CalendarDay.objects.values_list("date", "kind")))
    resolved = Case.objects.filter(status="resolved", resolved_at__isnull=False, working_days_taken__isnull=True)
    for case in resolved.only("pk", "received_at", "resolved_at").iterator(chunk_size=2000):
        days = calendar.working_days_between(calendar.working_day_on_or_after(local_date(case.received_at)),
                                             local_date(case.resolved_at))
        Case.objects.filter(pk=case.pk).update(working_days_taken=days)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_periodic_jobs'),
        ('departments', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='working_days_taken',
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='working days taken'),
        ),
        migrations.RunPython(fill_working_days_taken, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status', 'resolved')), fields=['resolved_at'], include=('assignee', 'owner', 'due_date', 'working_days_taken'), name='case_resolved_at'),
        ),
        migrations.AddIndex(
            model_name='caseevent',
            index=models.Index(condition=models.Q(('action', 'refused')), fields=['at'], name='event_refusals_at'),
        ),
    ]
