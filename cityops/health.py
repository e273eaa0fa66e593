"""Health for the load balancer and the IT staff: `/healthz/` (the process answers) and `/readyz/` (it can serve).

Neither needs a login nor says anything about people or cases: a load balancer asks every few seconds, and
the answer may be read by anyone who can reach the port. `/readyz/` answers 503 naming the failing part, so
that a web process whose database or broker is unreachable is taken out of rotation until it is back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import redis
from celery import signals
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_celery_beat.models import PeriodicTask

# The broker must answer within this, or the process is not ready: a load balancer waits for nobody.
BROKER_TIMEOUT_SECONDS = 1.0
# The sweep task writes when it last finished here, in the shared cache (Redis in production).
LAST_SWEEP_KEY = "health:last-sweep"
SWEEP_TASK = "cases.tasks.flag_overdue"

# Migrations are read from disk and compared with the database: costly, and once none is pending for this
# code, none will be until the code changes, which restarts the process.
_migrations_done = threading.Event()


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "migrations": _migrations(), "broker": _broker()}
    failing = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "ok" if not failing else "failing", "failing": failing, "checks": checks,
            "last_sweep_seconds_ago": _last_sweep_age() if "database" not in failing else None}
    return JsonResponse(body, status=503 if failing else 200)


def _database() -> str:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure means not ready; its kind is the answer
        return f"unreachable: {type(error).__name__}"
    return "ok"


def _migrations() -> str:
    if _migrations_done.is_set():
        return "ok"
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # noqa: BLE001
        return f"unknown: {type(error).__name__}"
    if pending:
        return f"{len(pending)} pending"
    _migrations_done.set()
    return "ok"


def _broker() -> str:
    if not settings.REDIS_URL:
        # The embedded mode's broker is a folder beside the project: there is nothing to reach.
        return "ok"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=BROKER_TIMEOUT_SECONDS,
                                  socket_connect_timeout=BROKER_TIMEOUT_SECONDS)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"unreachable: {type(error).__name__}"
    finally:
        client.close()
    return "ok"


@signals.task_success.connect
def _note_sweep_finished(sender=None, **kwargs) -> None:
    """When the sweep task has finished, in the worker; never fails it (the note is only information)."""
    if getattr(sender, "name", "") != SWEEP_TASK:
        return
    # The sweep's work is committed; a cache that is down only delays the note to the next sweep.
    with contextlib.suppress(Exception):
        cache.set(LAST_SWEEP_KEY, timezone.now().isoformat(), timeout=None)


def _last_sweep_age() -> int | None:
    """Seconds since the last sweep finished; without a shared cache, since beat last sent one."""
    finished = None
    # A cache that is down is the broker check's to report.
    with contextlib.suppress(Exception):
        stamp = cache.get(LAST_SWEEP_KEY)
        finished = dt.datetime.fromisoformat(stamp) if stamp else None
    if finished is None:
        try:
            finished = (PeriodicTask.objects.filter(task=SWEEP_TASK).order_by("-last_run_at")
                        .values_list("last_run_at", flat=True).first())
        except DatabaseError:
            # Information only: a database without the schedule's table yet (migrations pending) says so above.
            return None
    if finished is None:
        return None
    return max(0, int((timezone.now() - finished).total_seconds()))
