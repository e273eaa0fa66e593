"""One JSON line per request and per task run, with a request id an official can quote.

The id comes from the proxy in front (nginx sets X-Request-ID, deploy/nginx-cityops.conf) when it is a plain
token, else it is made here; it goes back in the response's X-Request-ID header and on the error pages, so
that “mã yêu cầu 3f2c…” on a screenshot finds the line. Lives in the project (not core) because the line
names the person's unit, which only the access policy knows.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid

from celery import signals
from django.db import connections

from cases import policy
from cityops.logcontext import current_request_id

request_log = logging.getLogger("cityops.requests")
task_log = logging.getLogger("cityops.tasks")

# What a proxy's id may look like: letters, digits and a few separators, of a sane length. Anything else (a
# header made up to break the log or the page) is replaced by our own.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
HEADER = "X-Request-ID"

class _QueryCounter:
    """A database execute wrapper that counts the statements a request sends, on every connection."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _who(request) -> tuple[str, str]:
    """The username and the unit's code. Pages and the API have read the membership for the policy already;
    only a request that never asked (a static file, a redirect) costs one query here."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return "", ""
    staff = policy.membership(user)
    return user.get_username(), (staff.department.code if staff is not None else "")


class RequestLog:
    """The outermost middleware: sets the id, counts queries, times the answer and writes the line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get(HEADER, "")
        request_id = offered if _ACCEPTED_ID.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id
        token = current_request_id.set(request_id)
        counter = _QueryCounter()
        started = time.perf_counter()
        try:
            with contextlib.ExitStack() as wrappers:
                for connection in connections.all():
                    wrappers.enter_context(connection.execute_wrapper(counter))
                response = self.get_response(request)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            response[HEADER] = request_id
            self._write(request, response, duration_ms, counter.count)
            return response
        finally:
            current_request_id.reset(token)

    @staticmethod
    def _write(request, response, duration_ms: float, queries: int) -> None:
        try:
            user, unit = _who(request)
        except Exception:  # noqa: BLE001 - the line is written even when the database has gone away
            user, unit = getattr(getattr(request, "user", None), "username", ""), ""
        match = request.resolver_match
        request_log.info("request", extra={
            "request_id": request.request_id,
            "method": request.method,
            # The route's pattern, not the path: the path holds case numbers and search words, and one route
            # is what a person filters on.
            "route": match.route if match is not None else "",
            "view": match.view_name if match is not None else "",
            "status": response.status_code,
            "duration_ms": duration_ms,
            "queries": queries,
            "user": user,
            "unit": unit,
        })


# --- Task runs -------------------------------------------------------------------------------------------------
# Connected when the module is imported (cityops.apps.CityOpsConfig.ready): each run's start time, by task id.
_task_started: dict[str, tuple[float, _QueryCounter, contextlib.ExitStack]] = {}


@signals.task_prerun.connect
def _task_starts(task_id=None, task=None, **kwargs) -> None:
    counter = _QueryCounter()
    wrappers = contextlib.ExitStack()
    for connection in connections.all():
        wrappers.enter_context(connection.execute_wrapper(counter))
    _task_started[task_id] = (time.perf_counter(), counter, wrappers)


@signals.task_postrun.connect
def _task_ends(task_id=None, task=None, state=None, retval=None, **kwargs) -> None:
    started = _task_started.pop(task_id, None)
    if started is None:
        return
    began, counter, wrappers = started
    wrappers.close()
    request = getattr(task, "request", None)
    task_log.info("task", extra={
        "task_id": task_id,
        "task": getattr(task, "name", ""),
        "state": state or "",
        "retries": getattr(request, "retries", 0) or 0,
        "queue": (getattr(request, "delivery_info", None) or {}).get("routing_key", ""),
        "duration_ms": round((time.perf_counter() - began) * 1000, 1),
        "queries": counter.count,
        # What the task says it did, short: "sent 12", "3 digests", the sweep's counts.
        "result": str(retval)[:200] if retval is not None else "",
    })
