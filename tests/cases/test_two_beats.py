"""A second beat started by mistake does no harm: two beats that tick for ten minutes of the real schedule
(django-celery-beat's own DatabaseScheduler, reading the jobs the migrations created) leave the same marks,
notices and mail as one.

Time is simulated with time-machine, which moves every clock the scheduler, Celery and the sweep read. Each
beat sends its tasks as in production, and the tasks run at once in this process (Celery eager here), so the
two beats' tasks interleave as two schedulers would on two hosts: each beat keeps its own idea of when a job
last ran, in memory, and sends it when it thinks it is due.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from cases import tasks
from cases.deadlines import deadline_items
from cityops.celery import app
from core.notices import notice_models

# Ten minutes across midnight at the end of the cases' due date: the sweep before midnight finds them due soon,
# the one after finds them overdue, and between the two the heads' digest runs (moved to 00:02 for the test, as
# an admin may move it). Every job last ran a minute before the window opens.
WINDOW = dt.timedelta(minutes=10)
STEP = dt.timedelta(seconds=5)
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = dt.datetime(2026, 12, 1, 9, 0, tzinfo=ZONE)


class InlineBeat(DatabaseScheduler):
    """The real scheduler; its tasks are handed to Celery, which runs them here instead of on a broker."""

    producer = None


class Rollback(Exception):
    pass


def what_the_beats_left(beats: int, start: dt.datetime) -> dict:
    """Run `beats` schedulers over the window, then roll everything back; returns what they sent and wrote."""
    mail.outbox.clear()
    sent: list[str] = []
    left: dict = {}
    with contextlib.suppress(Rollback), transaction.atomic(), time_machine.travel(start, tick=False) as clock:
        past_midnight, _ = CrontabSchedule.objects.get_or_create(minute="2", hour="0", timezone=ZONE)
        PeriodicTask.objects.filter(task="cases.tasks.send_daily_digest").update(crontab=past_midnight)
        PeriodicTask.objects.update(last_run_at=start - dt.timedelta(minutes=1))
        schedulers = [InlineBeat(app=app) for _ in range(beats)]
        for scheduler in schedulers:
            original = scheduler.apply_async

            def counted(entry, *args, _original=original, **kwargs):
                sent.append(entry.task)
                return _original(entry, *args, **kwargs)

            scheduler.apply_async = counted
        moment = start
        while moment < start + WINDOW:
            clock.move_to(moment)
            for scheduler in schedulers:
                scheduler.tick()
            moment += STEP
        for scheduler in schedulers:
            # What a beat writes back when it stops is rolled back with the rest; not at the interpreter's exit.
            scheduler._finalize.cancel()
        left = {
            "marks": sorted((item.name, *row) for item in deadline_items()
                            for row in item.mark_rows().values_list(item.field, "flag", "due_date")),
            "notices": sorted((model._meta.label, *row) for model in notice_models()
                              for row in model.objects.values_list("recipient_id", "kind", "on_date", "mail_state")),
            "mails": sorted((message.to[0], message.subject) for message in mail.outbox),
        }
        raise Rollback
    return {**left, "sent": sent}


@pytest.fixture
def window_start(stages) -> dt.datetime:
    """Two cases received on the same morning, so due on the same day; the window opens at 23:55 of that day."""
    cases = [stages.in_progress(title=title, received_at=RECEIVED) for title in
             ("Cấp phép xây dựng nhà ở riêng lẻ tại phường Hồng Bàng", "Cấp phép xây dựng công trình phụ trợ")]
    [due] = {case.due_date for case in cases}
    return dt.datetime.combine(due, dt.time(23, 55), tzinfo=ZONE)


@pytest.fixture(autouse=True)
def connection_kept(monkeypatch):
    """A real beat runs in autocommit and closes stale connections before it reads the schedule; here both runs
    are a transaction rolled back at the end, which closing the connection would end on PostgreSQL."""
    monkeypatch.setattr("django_celery_beat.schedulers.close_old_connections", lambda: None)


def test_two_beats_for_ten_minutes_leave_what_one_beat_leaves(window_start):
    # Registered in this process, so that the beats hand the tasks to Celery rather than to a broker.
    assert tasks.flag_overdue.name in app.tasks
    one = what_the_beats_left(1, window_start)
    two = what_the_beats_left(2, window_start)

    # The second beat did send everything again: the tasks themselves make the duplicates harmless.
    assert one["sent"].count("cases.tasks.flag_overdue") >= 2
    assert two["sent"].count("cases.tasks.flag_overdue") == 2 * one["sent"].count("cases.tasks.flag_overdue")
    assert two["sent"].count("cases.tasks.send_daily_digest") == 2 * one["sent"].count(
        "cases.tasks.send_daily_digest") > 0

    assert one["marks"] and one["notices"] and one["mails"]
    assert {kind for _model, _who, kind, *_rest in one["notices"]} >= {"due_soon", "overdue", "digest"}
    assert {flag for _item, _id, flag, _due in one["marks"]} == {"overdue"}
    assert two["marks"] == one["marks"]
    assert two["notices"] == one["notices"]
    assert two["mails"] == one["mails"]
    assert len(set(one["mails"])) == len(one["mails"])
