"""The periodic jobs: beat's schedule rows made by the migration, and the tasks they name."""

import datetime as dt

import pytest
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from cases import tasks
from cases.models import DeadlineFlag, NoticeKind
from cityops.celery import app
from tests.support.cases import forget_notices, mark_of
from tests.support.world import local_datetime

SWEEP_TASK = "cases.tasks.flag_overdue"
DIGEST_TASK = "cases.tasks.send_daily_digest"


@pytest.fixture
def registered_tasks():
    # What a worker or beat does when it starts: import every app's tasks module.
    app.loader.import_default_modules()
    return app.tasks


def test_the_sweep_runs_every_five_minutes(db):
    sweep = PeriodicTask.objects.get(task=SWEEP_TASK)

    assert sweep.enabled
    assert sweep.crontab is None
    assert (sweep.interval.every, sweep.interval.period) == (5, "minutes")
    assert sweep.interval.schedule.run_every == dt.timedelta(minutes=5)


def test_the_digest_runs_at_half_past_seven_in_hai_phong(db):
    digest = PeriodicTask.objects.get(task=DIGEST_TASK)

    assert digest.enabled
    assert digest.interval is None
    crontab = digest.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == (
        "30", "7", "*", "*", "*")
    assert str(crontab.timezone) == "Asia/Ho_Chi_Minh"
    # After a run at midnight UTC the next one falls at 07:30 local, which is 00:30 UTC.
    last_run, wait, _now = crontab.schedule.remaining_delta(dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC))
    assert (last_run + wait).astimezone(dt.UTC) == dt.datetime(2026, 11, 25, 0, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(("hour", "expected"), [(7, [SWEEP_TASK, DIGEST_TASK]), (14, [SWEEP_TASK])])
def test_beat_reads_the_jobs_from_the_database(db, monkeypatch, hour, expected):
    # Beat loads crontab jobs only within two hours of the time on the server; at 14:00 local the 07:30 digest
    # would be loaded only if its time zone were lost (07:30 UTC is 14:30 in Hải Phòng).
    monkeypatch.setattr("django_celery_beat.schedulers.aware_now", lambda: local_datetime(2026, 11, 25, hour, 10))

    entries = DatabaseScheduler(app=app, lazy=True).all_as_schedule()

    assert sorted(entry.task for entry in entries.values() if entry.task.startswith("cases.")) == sorted(expected)


def test_the_scheduled_tasks_are_registered_under_those_names(db, registered_tasks):
    for name, task in [(SWEEP_TASK, tasks.flag_overdue), (DIGEST_TASK, tasks.send_daily_digest),
                       ("cases.tasks.send_notification_mail", tasks.send_notification_mail)]:
        assert registered_tasks[name].run is task.run
    # Every job the schedule names is one the workers know.
    assert set(PeriodicTask.objects.values_list("task", flat=True)) <= set(registered_tasks)


def test_the_sweep_task_returns_its_summary(city, log_case, clock, mailoutbox):
    clock.set(local_datetime(2026, 10, 5, 9))
    case = log_case(received_at=local_datetime(2026, 10, 5, 9))  # a permit, due Monday 26 October
    forget_notices()  # the routing's, to the unit's leads
    clock.set(local_datetime(2026, 10, 27, 10))

    summary = tasks.flag_overdue.delay().get()

    assert summary.startswith("flagged 1 cases overdue, 0 consultations overdue, 0 due soon")
    assert mark_of(case).flag == DeadlineFlag.OVERDUE
    # A routed case has no assignee yet: its owner's head is told, by a notice and (queued by the task) mail.
    assert list(case.notifications.values_list("recipient__username", "kind", "mail_state")) == [
        ("head", NoticeKind.OVERDUE, "sent")]
    assert [message.to for message in mailoutbox] == [[city.user("head").email]]
