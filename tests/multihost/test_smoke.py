"""Several hosts on one PostgreSQL and one Redis, as a city runs CityOps (DESIGN.md §7): two gunicorn servers on
two ports, two Celery workers and one beat, started as the Procfile starts them, with the production settings.

A land allocation is logged through web A, accepted and consulted through web B, answered through both,
submitted and decided; a sweep sent to the queue is taken by whichever worker is free and flags an overdue case
once, and its mail leaves once. Then one web server and one worker are killed with `kill -9` in the middle of a
second case, which the survivors finish. The database holds every invariant afterwards (`check_invariants`).

Slow (a minute or two) and needs PostgreSQL and Redis: deselected by default (`-m multihost` runs it; .ci/run
does).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import redis
import requests
from celery import Celery
from django.db import connection

from bench.crash_harness import Service
from cityops import invariants
from tests.support.databases import database_url

pytestmark = pytest.mark.multihost

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PORTS = (8781, 8782)
PASSWORD = "cityops-demo-2026"  # noqa: S105 - the demo city's, printed in the README
CLERK, WARD_CLERK, CITY_OFFICE = "vp.tiepnhan", "lechan.tiepnhan", "vp.chuyenvien"
HEADS = {"sxd": "sxd.giamdoc", "snnmt": "snnmt.giamdoc", "stc": "stc.giamdoc", "p-le-chan": "lechan.chutich"}
REDIS_DB = 11
TIMEOUT = 90


def run(env: dict, *args: str) -> None:
    done = subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    if connection.vendor != "postgresql":
        pytest.skip("the hosts share a PostgreSQL server: set DATABASE_URL (CI does)")
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the hosts share a Redis server: set REDIS_URL (CI does)")
    work = tmp_path_factory.mktemp("multihost")
    name = f"cityops_multihost_{uuid.uuid4().hex[:8]}"
    database = database_url(name)
    broker = os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(broker).flushdb()
    _admin(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cityops.settings", "DATABASE_URL": database,
           "REDIS_URL": broker, "SECRET_KEY": uuid.uuid4().hex * 2, "DEBUG": "0", "HTTPS": "false",
           "STATIC_ROOT": str(work / "static"), "MEDIA_ROOT": str(work / "media"),
           "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
           "EMAIL_FILE_PATH": str(work / "mail"), "WEB_WORKERS": "2", "PYTHONUNBUFFERED": "1"}
    services = []
    try:
        run(env, "migrate", "--noinput")
        run(env, "load_demo")
        run(env, "collectstatic", "--noinput", "--verbosity", "0")
        logs = work / "logs"
        logs.mkdir()
        services = [
            *(Service(f"web-{label}", "web",
                      [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "cityops.wsgi"],
                      {**env, "HOST": "127.0.0.1", "PORT": str(port)}, logs / f"web-{label}.log")
              for label, port in zip("AB", PORTS, strict=True)),
            *(Service(f"worker-{number}", "worker",
                      [str(BIN / "celery"), "--app", "cityops", "worker", "--queues", "sweep,mail", "-c", "1",
                       "--hostname", f"multihost{number}@%h", "--loglevel", "INFO"], env, logs / f"worker-{number}.log")
              for number in (1, 2)),
            Service("beat", "beat", [str(BIN / "celery"), "--app", "cityops", "beat", "--loglevel", "INFO"], env,
                    logs / "beat.log"),
        ]
        for service in services:
            service.start()
        for port in PORTS:
            _wait(lambda port=port: _ready(port), f"web on {port} to be ready", services)
        _wait(lambda: all("ready." in service.log.read_text() for service in services if service.kind == "worker"),
              "both workers to be ready", services)
        yield Installation(env, database, broker, work / "mail", {s.name: s for s in services})
    finally:
        for service in services:
            service.stop(grace=10)
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Installation:
    def __init__(self, env, database, broker, mail_dir, services):
        self.env, self.database, self.mail_dir, self.services = env, database, mail_dir, services
        self.celery = Celery(broker=broker)
        self.tokens: dict[str, str] = {}
        self.alive_ports = list(PORTS)

    def token(self, username: str) -> str:
        if username not in self.tokens:
            # From B, which no test kills.
            answer = requests.post(f"http://127.0.0.1:{PORTS[1]}/api/v1/auth/token/", timeout=30,
                                   json={"username": username, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            self.tokens[username] = answer.json()["token"]
        return self.tokens[username]

    def call(self, port: int, method: str, path: str, user: str, body: dict | None = None) -> dict:
        answer = requests.request(method, f"http://127.0.0.1:{port}{path}", json=body, timeout=30,
                                  headers={"Authorization": f"Token {self.token(user)}"})
        assert answer.status_code in (200, 201), (f"{method} {path} as {user} on {port}: {answer.status_code} "
                                                  f"{answer.text}")
        return answer.json()

    def query(self, sql: str, params=()) -> list[tuple]:
        with psycopg2.connect(self.database) as connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        connection.close()
        return rows

    def sweep(self) -> None:
        """As beat sends it: to the sweep queue, for whichever worker takes it first."""
        self.celery.send_task("cases.tasks.flag_overdue", queue="sweep")

    def mails_about(self, reference: str) -> list[tuple[str, str]]:
        """(recipient, subject) of the mails whose subject names the case (an overdue notice's does)."""
        return [mail for mail in invariants.mails_in(self.mail_dir) if reference in mail[1]]


def _admin(sql: str) -> None:
    admin = psycopg2.connect(database_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql)
    admin.close()


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _wait(condition, what: str, services) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    logs = "\n".join(f"--- {s.name}\n{s.log.read_text()[-3000:]}" for s in services)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def land_allocation(hosts: Installation, a: int, b: int) -> str:
    """Logged on `a`, accepted and consulted on `b`, answered on each, submitted on `b`, decided on `a`."""
    case = hosts.call(a, "POST", "/api/v1/cases/", CLERK, {
        "title": "Giao đất mở rộng trường tiểu học", "case_type": "land-allocation", "source": "agency",
        "applicant_name": "Ban quản lý dự án quận"})
    url = f"/api/v1/cases/{case['reference']}"
    assert hosts.call(b, "POST", f"{url}/accept/", HEADS["snnmt"])["status"] == "in_progress"
    hosts.call(b, "POST", f"{url}/consult/", HEADS["snnmt"],
               {"departments": ["sxd", "stc"], "question": "Đề nghị cho ý kiến về nhu cầu sử dụng đất"})
    consultations = hosts.call(b, "GET", f"{url}/", HEADS["snnmt"])["consultations"]
    assert {c["department"] for c in consultations} == {"sxd", "stc"}
    for consultation, port in zip(consultations, (a, b), strict=True):
        hosts.call(port, "POST", f"/api/v1/consultations/{consultation['id']}/respond/",
                   HEADS[consultation["department"]], {"position": "agree"})
    assert hosts.call(b, "POST", f"{url}/submit/", HEADS["snnmt"],
                      {"summary": "Tờ trình giao đất"})["status"] == "submitted"
    decided = hosts.call(a, "POST", f"{url}/decide/", CITY_OFFICE,
                         {"outcome": "approved", "note": "UBND thành phố đồng ý giao đất"})
    assert decided["status"] == "resolved"
    return case["reference"]


def overdue_case(hosts: Installation, port: int) -> str:
    """A household business in Lê Chân ward, received three weeks ago and accepted: long overdue."""
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(days=21)).isoformat()
    case = hosts.call(port, "POST", "/api/v1/cases/", WARD_CLERK, {
        "title": "Đăng ký hộ kinh doanh tạp hoá", "case_type": "household-business", "locality": "p-le-chan",
        "applicant_name": "Trần Thị Bình", "source": "citizen", "received_at": received})
    hosts.call(port, "POST", f"/api/v1/cases/{case['reference']}/accept/", HEADS["p-le-chan"])
    return case["reference"]


# How an overdue notice's mail is titled (templates/notifications/headline.txt, in Vietnamese).
OVERDUE_SUBJECT = "[CityOps] Hồ sơ quá hạn: "


def flagged_and_mailed_once(hosts: Installation, reference: str, services) -> None:
    marks = ("SELECT count(*) FROM cases_deadlinemark m JOIN cases_case c ON c.id = m.case_id "
             "WHERE c.reference = %s AND m.flag = 'overdue'")
    notices = ("SELECT count(*), count(*) FILTER (WHERE n.mail_state = 'sent') FROM cases_notification n "
               "JOIN cases_case c ON c.id = n.case_id WHERE c.reference = %s AND n.kind = 'overdue'")
    hosts.sweep()
    _wait(lambda: hosts.query(marks, [reference])[0][0] == 1, f"the sweep to flag {reference}", services)
    _wait(lambda: (lambda total, sent: total > 0 and total == sent)(*hosts.query(notices, [reference])[0]),
          f"the overdue notices of {reference} to be mailed", services)
    # Sweeps again, on whichever worker: nothing new.
    hosts.sweep()
    hosts.sweep()
    time.sleep(3)
    assert hosts.query(marks, [reference])[0][0] == 1
    total, sent = hosts.query(notices, [reference])[0]
    # Only the overdue notices' mail: the case's routing told its unit's leads too, by a mail of its own.
    mails = [mail for mail in hosts.mails_about(reference) if mail[1].startswith(OVERDUE_SUBJECT)]
    assert len(mails) == total == sent
    assert len(set(mails)) == len(mails)


def test_two_webs_two_workers_and_a_beat_share_the_work(installation):
    hosts = installation
    services = list(hosts.services.values())
    reference = land_allocation(hosts, *PORTS)
    assert hosts.call(PORTS[1], "GET", f"/api/v1/cases/{reference}/", CITY_OFFICE)["status"] == "resolved"
    flagged_and_mailed_once(hosts, overdue_case(hosts, PORTS[0]), services)


def test_the_survivors_finish_when_a_web_and_a_worker_are_killed(installation):
    hosts = installation
    services = list(hosts.services.values())
    web_a, worker_1 = hosts.services["web-A"], hosts.services["worker-1"]

    def kill_mid_case():
        web_a.kill()
        worker_1.kill()
        assert not web_a.alive() and not worker_1.alive()

    # Logged and accepted on A; A and worker 1 die then; B (and worker 2) do the rest.
    case = hosts.call(PORTS[0], "POST", "/api/v1/cases/", CLERK, {
        "title": "Giao đất xây dựng nhà văn hoá khu dân cư", "case_type": "land-allocation", "source": "agency",
        "applicant_name": "UBND phường Lê Chân"})
    url = f"/api/v1/cases/{case['reference']}"
    hosts.call(PORTS[0], "POST", f"{url}/accept/", HEADS["snnmt"])
    kill_mid_case()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{PORTS[0]}/healthz/", timeout=5)

    survivor = PORTS[1]
    hosts.call(survivor, "POST", f"{url}/consult/", HEADS["snnmt"],
               {"departments": ["sxd", "stc"], "question": "Đề nghị cho ý kiến về quy hoạch"})
    for consultation in hosts.call(survivor, "GET", f"{url}/", HEADS["snnmt"])["consultations"]:
        hosts.call(survivor, "POST", f"/api/v1/consultations/{consultation['id']}/respond/",
                   HEADS[consultation["department"]], {"position": "agree"})
    hosts.call(survivor, "POST", f"{url}/submit/", HEADS["snnmt"], {"summary": "Tờ trình giao đất"})
    assert hosts.call(survivor, "POST", f"{url}/decide/", CITY_OFFICE,
                      {"outcome": "approved", "note": "Đồng ý"})["status"] == "resolved"
    # The sweep and its mail on the one worker left.
    flagged_and_mailed_once(hosts, overdue_case(hosts, survivor), services)

    done = subprocess.run([str(BIN / "python"), "manage.py", "check_invariants"], cwd=ROOT, env=hosts.env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
