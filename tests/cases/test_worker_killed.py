"""A worker killed with `kill -9` in the middle of a sweep leaves the next sweep to finish the work, with no
duplicate mark, notice or mail.

Real processes on real PostgreSQL and Redis, as in tests/cases/test_celery_worker.py: the sweep is held in the
middle of its transaction by a trigger that sleeps on the insert of the marks, the worker is killed there, and a
second worker runs the next sweep. The sweep is one transaction: the killed one leaves nothing half-done.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cases import tasks
from cases.deadlines import SWEEP_LOCK
from cases.models import DeadlineFlag, DeadlineMark, MailState, NoticeKind, Notification
from cases.services import case_accept
from cityops import invariants
from cityops.celery import app
from departments.models import AuthorityRule, CaseType
from tests.support.databases import database_url
from tests.support.workers import forget_queue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROJECT = Path(settings.BASE_DIR)
TIMEOUT = 60
# Long enough to be caught in, short enough that the killed worker's session ends soon after.
HOLD_SECONDS = 4
SWEEP_DONE = re.compile(r"Task cases\.tasks\.flag_overdue\[[^\]]+\] succeeded")


@pytest.fixture(autouse=True)
def needs_postgres_and_redis():
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need a database server they share with the test (CI runs this on PostgreSQL)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: no Redis broker for a real worker (CI sets it)")


@pytest.fixture
def overdue_cases(city, log_case):
    complaint = CaseType.objects.create(code="citizen-complaint", name="Giải quyết kiến nghị của công dân",
                                        processing_days=3)
    AuthorityRule.objects.create(case_type=complaint, owner=city.owner, legal_basis="Nghị định 61/2018/NĐ-CP")
    cases = []
    for title in ("Kiến nghị về tiếng ồn ban đêm", "Kiến nghị về rác thải", "Kiến nghị về chiếu sáng ngõ"):
        case = log_case(case_type=complaint, received_at=timezone.now() - dt.timedelta(days=30), title=title)
        cases.append(case_accept(case=case, actor=city.user("specialist")))
    return cases


@pytest.fixture
def marks_held():
    """Every insert into the case marks waits HOLD_SECONDS first, inside the sweep's transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            CREATE FUNCTION test_hold_marks() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN PERFORM pg_sleep({HOLD_SECONDS}); RETURN NULL; END $$;
            CREATE TRIGGER test_hold_marks BEFORE INSERT ON {DeadlineMark._meta.db_table}
            FOR EACH STATEMENT EXECUTE FUNCTION test_hold_marks();""")
    yield release_marks
    release_marks()


def release_marks():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS test_hold_marks ON {DeadlineMark._meta.db_table};"
                       "DROP FUNCTION IF EXISTS test_hold_marks();")


class Worker:
    """`celery worker` in its own process on this test's own queue, mailing into a folder."""

    def __init__(self, queue: str, mail_dir: Path, log: Path):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cityops.settings", "DATABASE_URL": database_url(),
               "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(mail_dir),
               "CELERY_TASK_ALWAYS_EAGER": "false", "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "celery", "-A", "cityops", "worker", "--pool=solo", "-Q", queue,
                   f"--hostname={queue}-{uuid.uuid4().hex[:4]}@%h", "--without-heartbeat", "--without-gossip",
                   "--without-mingle", "--loglevel=INFO",
                   "--", f"task.default_queue={queue}", "task.routes=(json){}", "worker.enable_remote_control=false"]
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.wait_for(lambda: " ready." in log.read_text(), "the worker to be ready")

    def wait_for(self, condition, what: str):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if value := condition():
                return value
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}:\n{self.log.read_text()}")
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}; worker log:\n{self.log.read_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def sweep_sessions() -> list[int]:
    """The database sessions holding the sweep's advisory lock (SWEEP_LOCK, as two 32-bit halves)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND ((classid::bigint << 32) | objid::bigint) = %s", [SWEEP_LOCK])
        return [pid for (pid,) in cursor.fetchall()]


def test_a_worker_killed_mid_sweep_leaves_the_next_sweep_to_flag_and_mail_once(overdue_cases, marks_held, tmp_path):
    queue = f"cityops-kill-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    first = second = None
    try:
        first = Worker(queue, mail_dir, tmp_path / "first.log")
        tasks.flag_overdue.apply_async(queue=queue)
        # Inside the sweep's transaction: holding its lock, waiting in the trigger on the marks' insert.
        [held_by] = first.wait_for(sweep_sessions, "the sweep to take its lock")
        first.wait_for(lambda: _sleeping(held_by), "the sweep to reach the marks")
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)

        # PostgreSQL ends the killed worker's session when it next writes to it, and rolls its transaction back.
        deadline = time.monotonic() + TIMEOUT
        while sweep_sessions() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sweep_sessions() == []
        assert not DeadlineMark.objects.exists()
        assert not Notification.objects.filter(kind=NoticeKind.OVERDUE).exists()

        marks_held()  # the trigger goes; the next sweep runs at full speed
        second = Worker(queue, mail_dir, tmp_path / "second.log")
        tasks.flag_overdue.apply_async(queue=queue)
        notices = Notification.objects.filter(kind=NoticeKind.OVERDUE)
        second.wait_for(lambda: notices.exists() and not notices.exclude(mail_state=MailState.SENT).exists(),
                        "the overdue notices to be mailed")
        # A third sweep, as beat sends every five minutes: it must find nothing new.
        tasks.flag_overdue.apply_async(queue=queue)
        second.wait_for(lambda: len(SWEEP_DONE.findall(second.log.read_text())) == 2, "the third sweep to end")
    finally:
        app.conf.task_always_eager = eager
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        forget_queue(queue)

    flags = list(DeadlineMark.objects.values_list("case_id", "flag"))
    assert sorted(flags) == sorted((case.pk, DeadlineFlag.OVERDUE) for case in overdue_cases)
    per_case = {(n.recipient_id, n.case_id) for n in notices}
    assert len(per_case) == notices.count() >= len(overdue_cases)
    mailed = list(invariants.mails_in(mail_dir))
    assert len(mailed) == notices.count()
    assert len(set(mailed)) == len(mailed)


def _sleeping(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row and row[0] == "PgSleep")
