"""The nightly check of the case trail's hash chain, as a django-celery-beat row the admin can edit or pause.

At 02:30 in Hải Phòng: after the day's work and before the heads' 07:30 digest.
"""

from django.db import migrations

JOB = "Nightly audit trail check"


def create_job(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    night, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="2", day_of_week="*", day_of_month="*",
                                                     month_of_year="*", timezone="Asia/Ho_Chi_Minh")
    PeriodicTask.objects.get_or_create(name=JOB, defaults={"task": "cases.tasks.verify_audit_nightly",
                                                           "crontab": night})


def remove_job(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=JOB).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_append_only_events"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_job, remove_job)]
