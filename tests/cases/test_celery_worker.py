"""A real Celery worker on real Redis runs the sweep and sends its mail, not eagerly.

The worker is a separate process started as in production (`celery -A cityops worker`), pointed at this
test run's PostgreSQL database, whose data the test commits first (transactional_db). Each run uses its own
queue, so messages left behind by another run never reach this worker and this worker never takes anyone
else's; the sweep's follow-up mail task goes to the same queue because it is the worker's default queue.
"""

import datetime as dt
import os
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
from cases.models import Case, DeadlineFlag, MailState, NoticeKind, Notification
from cases.services import case_accept
from cityops.celery import app
from departments.models import AuthorityRule, CaseType
from tests.support.databases import database_url
from tests.support.workers import forget_queue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

READY_TIMEOUT = 60
RESULT_TIMEOUT = 60
PROJECT = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def needs_postgres_and_redis():
    if connection.vendor != "postgresql":
        pytest.skip("the worker is a separate process: it needs a database server both processes reach, "
                    "which the in-memory SQLite test database is not (CI runs this on PostgreSQL)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL is not set: no Redis broker for a real worker (CI sets it)")




def wait_for(condition, timeout: float, what: str, log: Path, worker: subprocess.Popen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}) before {what}:\n{log.read_text()}")
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; worker log:\n{log.read_text()}")


@pytest.fixture
def overdue_case(city, log_case):
    """A complaint received a month ago (by the real clock the worker also reads), accepted and long overdue."""
    complaint = CaseType.objects.create(code="citizen-complaint", name="Giải quyết kiến nghị của công dân",
                                        processing_days=3)
    AuthorityRule.objects.create(case_type=complaint, owner=city.owner, legal_basis="Nghị định 61/2018/NĐ-CP")
    case = log_case(case_type=complaint, received_at=timezone.now() - dt.timedelta(days=30),
                    title="Kiến nghị về tiếng ồn công trình ban đêm")
    case = case_accept(case=case, actor=city.user("specialist"))
    assert case.is_overdue
    return case


def test_a_real_worker_on_redis_flags_overdue_work_and_mails_the_notices(city, overdue_case, tmp_path):
    assert settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    assert app.conf.broker_url == settings.CELERY_BROKER_URL  # this process publishes to Redis too
    queue = f"cityops-test-{uuid.uuid4().hex[:12]}"
    mail_dir, log = tmp_path / "mail", tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cityops.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "cityops", "worker", "--pool=solo", "--concurrency=1", "-Q", queue,
        f"--hostname={queue}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
        # Extra configuration after "--": the mail task the sweep queues lands on this run's queue too (no
        # routes to the shared sweep and mail queues), and no remote-control mailbox is left in the shared Redis.
        "--", f"task.default_queue={queue}", "task.routes=(json){}", "worker.enable_remote_control=false",
    ]
    eager = app.conf.task_always_eager
    with log.open("w") as output:
        worker = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: " ready." in log.read_text(), READY_TIMEOUT, "the worker to be ready", log, worker)

        # The inline fixture runs tasks in this process; this test publishes them for real.
        app.conf.task_always_eager = False
        tasks.flag_overdue.apply_async(queue=queue)

        case = Case.unscoped.filter(pk=overdue_case.pk)
        wait_for(lambda: case.filter(deadline_mark__flag=DeadlineFlag.OVERDUE).exists(), RESULT_TIMEOUT,
                 "the sweep to flag the case", log, worker)
        notices = Notification.objects.filter(case=overdue_case, kind=NoticeKind.OVERDUE)
        wait_for(lambda: notices.count() == 2 and not notices.exclude(mail_state=MailState.SENT).exists(),
                 RESULT_TIMEOUT, "the notices to be mailed", log, worker)
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        forget_queue(queue)

    assert sorted(notices.values_list("recipient__username", flat=True)) == ["head", "specialist"]
    assert all(notice.mailed_at is not None for notice in notices)
    text = log.read_text()
    assert "cases.tasks.flag_overdue" in text and "cases.tasks.send_notification_mail" in text
    assert "Overdue sweep: flagged 1 cases overdue" in text

    # The file backend wrote what the worker sent (one file per connection, messages separated by a rule).
    messages = [message for path in mail_dir.iterdir() for message in path.read_text().split("-" * 79)
                if message.strip()]
    recipients = sorted(line.removeprefix("To: ") for message in messages for line in message.splitlines()
                        if line.startswith("To: "))
    assert recipients == sorted([city.user("head").email, city.user("specialist").email])
    assert all(f"/cases/{overdue_case.reference}/" in message for message in messages)
