"""The periodic jobs of DESIGN.md §2 rule 9, as django-celery-beat rows the admin can edit or pause."""

from django.db import migrations

SWEEP = "Overdue sweep"
DIGEST = "Daily digest for heads"


def create_jobs(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_five, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    morning, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="7", day_of_week="*", day_of_month="*",
                                                       month_of_year="*", timezone="Asia/Ho_Chi_Minh")
    PeriodicTask.objects.get_or_create(name=SWEEP, defaults={"task": "cases.tasks.flag_overdue",
                                                             "interval": every_five})
    PeriodicTask.objects.get_or_create(name=DIGEST, defaults={"task": "cases.tasks.send_daily_digest",
                                                              "crontab": morning})


def remove_jobs(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[SWEEP, DIGEST]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_deadlines_and_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_jobs, remove_jobs)]
