"""What the production start adds to the site: static files by WhiteNoise under hashed, compressed names, the
health answers for load balancers, one JSON log line per request and per task run with the request's id on
the error pages, and the workers' queues and limits."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from cases import tasks
from cityops import celery as celery_module
from cityops import health
from cityops.logcontext import RequestIdFilter
from cityops.requestlog import HEADER

ROOT = Path(__file__).resolve().parent.parent


# --- make run ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [(None, "http://127.0.0.1:8765"),
                                                 ("https://cityops.example.vn", "https://cityops.example.vn")])
def test_make_run_points_the_links_in_mail_at_its_own_port_unless_told_otherwise(given, expected):
    # make's own account of the rules (-p), running nothing (-n): what `make run` exports to the server and to the
    # worker that renders the mail.
    environment = {key: value for key, value in os.environ.items() if key != "SITE_URL"}
    if given:
        environment["SITE_URL"] = given
    make = shutil.which("make")
    assert make, "make is what the README's quick start runs"
    rules = subprocess.run([make, "-p", "-n", "run", "HOST=127.0.0.1", "PORT=8765"], cwd=ROOT, env=environment,
                           capture_output=True, text=True, check=True).stdout

    assert f"run: SITE_URL := {expected}" in rules.splitlines()


# --- Static files ----------------------------------------------------------------------------------------------


def test_collected_static_files_are_served_hashed_compressed_and_cached_for_a_year(settings, tmp_path, db):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", verbosity=0)

    client = Client()  # a new handler: WhiteNoise reads STATIC_ROOT when the middleware is made
    login = client.get("/accounts/login/").content.decode()
    stylesheet = re.search(r'href="(/static/css/cityops\.[0-9a-f]{12}\.css)"', login)
    assert stylesheet, "the page links the stylesheet by its hashed name"

    answer = client.get(stylesheet.group(1), HTTP_ACCEPT_ENCODING="gzip")
    assert answer.status_code == 200
    assert answer["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in answer["Cache-Control"] and "immutable" in answer["Cache-Control"]
    # The security headers of a page, on a file too (WhiteNoise sits below them).
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert client.get("/static/css/does-not-exist.css").status_code == 404


# --- Health ----------------------------------------------------------------------------------------------------


@pytest.fixture
def fresh_readiness():
    """Each test asks the migrations again, as a process that has just started would."""
    health._migrations_done.clear()
    yield
    health._migrations_done.clear()


def test_healthz_answers_without_a_login_or_the_database(client, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", _unreachable)
        answer = client.get("/healthz/")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert "no-cache" in answer["Cache-Control"]


def test_readyz_is_ok_with_the_database_and_the_broker(client, db, settings, fresh_readiness):
    answer = client.get("/readyz/")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "ok" and body["failing"] == []
    assert body["checks"] == {"database": "ok", "migrations": "ok", "broker": "ok"}
    # Nothing about people or cases: only the checks and the age of the last sweep.
    assert set(body) == {"status", "failing", "checks", "last_sweep_seconds_ago"}


def test_readyz_names_an_unreachable_broker(client, db, settings, fresh_readiness):
    # A port nothing listens on: a real connection refused, within the check's timeout.
    settings.REDIS_URL = settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    answer = client.get("/readyz/")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"].startswith("unreachable")


def _unreachable(*args, **kwargs):
    raise OperationalError("could not connect to server: Connection refused")


def test_readyz_names_an_unreachable_database(client, db, monkeypatch, fresh_readiness):
    health._migrations_done.set()  # a process that found none pending before the database went away
    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", _unreachable)
        answer = client.get("/readyz/")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] == "unreachable: OperationalError"
    assert body["last_sweep_seconds_ago"] is None


def test_readyz_names_pending_migrations_until_they_are_applied(client, db, fresh_readiness):
    [(app, name)] = MigrationLoader(connection).graph.leaf_nodes("cases")
    # As if the code of the next release were running on the database of this one.
    MigrationRecorder.Migration.objects.filter(app=app, name=name).delete()
    answer = client.get("/readyz/")
    assert answer.status_code == 503
    assert answer.json()["checks"]["migrations"] == "1 pending"
    assert answer.json()["failing"] == ["migrations"]

    MigrationRecorder.Migration.objects.create(app=app, name=name)
    assert client.get("/readyz/").status_code == 200


def test_readyz_tells_the_age_of_the_last_sweep(client, db, settings, fresh_readiness):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"readyz-{uuid.uuid4()}"}}
    tasks.flag_overdue.delay()  # eager here: the worker's success signal notes the time
    age = client.get("/readyz/").json()["last_sweep_seconds_ago"]
    assert age is not None and 0 <= age < 60


def test_readyz_refuses_writes(client, db):
    assert client.post("/readyz/").status_code == 405


# --- Request and task log lines ----------------------------------------------------------------------------------


@pytest.fixture
def log_lines(caplog):
    """The JSON lines the request and task loggers write, formatted by the site's own formatter."""
    loggers = [logging.getLogger("cityops.requests"), logging.getLogger("cityops.tasks")]
    formatter = loggers[0].handlers[0].formatter
    for logger in loggers:
        logger.addHandler(caplog.handler)
    yield lambda: [json.loads(formatter.format(record)) for record in caplog.records
                   if record.name in ("cityops.requests", "cityops.tasks")]
    for logger in loggers:
        logger.removeHandler(caplog.handler)


def test_one_json_line_per_request_names_who_what_and_how_long(signed_in, stages, log_lines):
    case = stages.in_progress()
    client = signed_in("specialist")
    answer = client.get(f"/cases/{case.reference}/", HTTP_X_REQUEST_ID="lb-7f3a9c21e0")

    assert answer.status_code == 200
    assert answer[HEADER] == "lb-7f3a9c21e0"
    [line] = [line for line in log_lines() if line["message"] == "request"]
    assert line["request_id"] == "lb-7f3a9c21e0"
    assert (line["method"], line["status"], line["user"]) == ("GET", 200, "specialist")
    assert line["unit"] == case.owner.code
    # The route's pattern, never the path with the case's number in it.
    assert line["route"] == "cases/<str:reference>/" and line["view"] == "case-detail"
    assert line["queries"] > 0 and line["duration_ms"] > 0
    assert {"time", "levelname", "name"} <= set(line)


@pytest.mark.parametrize("offered", ["", "short", "x" * 65, "bad id with spaces", "<script>alert(1)</script>"])
def test_a_request_id_that_is_not_a_plain_token_is_replaced(client, db, offered):
    answer = client.get("/healthz/", HTTP_X_REQUEST_ID=offered)
    assert re.fullmatch(r"[0-9a-f]{32}", answer[HEADER])


def test_an_anonymous_request_is_logged_without_a_user(client, db, log_lines):
    client.get("/accounts/login/")
    [line] = log_lines()
    assert (line["user"], line["unit"], line["status"]) == ("", "", 200)


def test_the_not_found_and_forbidden_pages_show_the_request_id(signed_in, city):
    client = signed_in("specialist")
    missing = client.get("/cases/HP-NOT-A-CASE/", HTTP_X_REQUEST_ID="lb-0000000404")
    assert missing.status_code == 404
    assert "lb-0000000404" in missing.content.decode()
    forbidden = client.get("/oversight/inspections/", HTTP_X_REQUEST_ID="lb-0000000403")
    assert forbidden.status_code == 403
    assert "lb-0000000403" in forbidden.content.decode()


@pytest.mark.urls("tests.support.failing_urls")
def test_a_server_error_page_shows_the_request_id_and_its_line_says_500(client, db, log_lines):
    client.raise_request_exception = False
    page = client.get("/fails/", HTTP_X_REQUEST_ID="lb-00000000500")
    assert page.status_code == 500
    assert page[HEADER] == "lb-00000000500"
    assert "lb-00000000500" in page.content.decode()
    assert "CityOps" in page.content.decode()

    api = client.get("/api/v1/fails/", HTTP_X_REQUEST_ID="lb-00000000501")
    assert (api.status_code, api.json()["code"], api.json()["request_id"]) == (500, "server_error", "lb-00000000501")
    statuses = [line["status"] for line in log_lines() if line["message"] == "request"]
    assert statuses == [500, 500]


def test_one_json_line_per_task_run(db, log_lines):
    tasks.send_notification_mail.delay()
    [line] = [line for line in log_lines() if line["message"] == "task"]
    assert line["task"] == "cases.tasks.send_notification_mail"
    assert line["state"] == "SUCCESS" and line["result"] == "sent 0"
    assert line["queries"] >= 1 and line["duration_ms"] >= 0


# --- Workers -----------------------------------------------------------------------------------------------------


def test_the_sweep_and_the_mail_have_queues_of_their_own():
    app = celery_module.app
    route = app.amqp.router.route
    assert route({}, "cases.tasks.flag_overdue")["queue"].name == "sweep"
    assert route({}, "cases.tasks.send_daily_digest")["queue"].name == "sweep"
    assert route({}, "cases.tasks.verify_audit_nightly")["queue"].name == "sweep"
    assert route({}, "cases.tasks.send_notification_mail")["queue"].name == "mail"


def test_an_unacknowledged_task_waits_longer_than_any_task_may_run(settings):
    """acks_late: Redis hands a task to another worker only after the visibility timeout; that must be longer
    than the hard time limit, or a long sweep would be started again while it still runs."""
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    from cityops.settings import CELERY_TASK_TIME_LIMIT  # noqa: PLC0415 - the site's own, as Redis gets it

    broker_options = _broker_options_with_redis()
    assert broker_options["visibility_timeout"] > CELERY_TASK_TIME_LIMIT
    mail = tasks.send_notification_mail
    assert mail.autoretry_for == (tasks.MailNotSent,) and mail.retry_backoff and mail.max_retries >= 3


def _broker_options_with_redis() -> dict:
    """The broker options the settings give when REDIS_URL is set, read in a fresh process."""
    import os  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0", "DEBUG": "1"}
    out = subprocess.run([sys.executable, "-c", "import json, cityops.settings as s; "
                          "print(json.dumps(s.CELERY_BROKER_TRANSPORT_OPTIONS))"],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.urls("tests.support.failing_urls")
def test_the_traceback_of_a_failure_names_the_request_it_happened_in(client, db, caplog):
    client.raise_request_exception = False
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.ERROR, logger="django.request"):
        client.get("/fails/", HTTP_X_REQUEST_ID="lb-00000000502")
    [failure] = [record for record in caplog.records if record.name == "django.request"]
    assert failure.request_id == "lb-00000000502" and failure.exc_info is not None
