"""Crash harness: CityOps under load while its processes are killed, then `check_invariants` on what is left.

    .venv/bin/python -m bench.crash_harness --kills 10 --seconds 120        # a short run
    .venv/bin/python -m bench.crash_harness --kills 50 --seconds 600        # the full one

Run by hand, never in CI. Everything stays on this machine (127.0.0.1): a fresh PostgreSQL database
(`cityops_crash`, dropped first), a Redis database of its own (`/5`, flushed first), two gunicorn processes on
two ports, two Celery workers (queues celery, sweep and mail, one process each) and one beat, all started with
the production settings (DEBUG off, plain HTTP, mail written to files by Django's file-based backend).

While client threads drive cases through the REST API as the demo city's people (intake by the clerks; accept,
assign, supplement, propose, resolve; consult, answer, submit, decide; routing out of triage; overdue cases
for the sweep), a killer thread sends SIGKILL to the process group of a random web server, worker or beat at
`--kills` random moments and starts it again. The overdue sweep runs from beat every few seconds and is also
sent by the harness, so deadline marks, notices and their mail are written while processes die.

Every case reference the API answered 201 for is appended to a file at once. A failed request is retried the
way a careful client would: a read again; an action after reading the case again (the service refuses a move
already made); an intake only after searching for its unique token in the case titles, so a case created
before its answer was lost is found rather than logged twice.

At the end the load stops, everything killed is started again, sweeps run until no mail is pending and the
queues are empty, the processes are stopped, and `manage.py check_invariants --acknowledged FILE --mail-dir
DIR --json` checks the database (an acknowledged case lost, an event or notice written twice, a notice mailed
twice, a trail that does not lead to its case's status, ...). The harness then prints the kills by kind, the
requests by kind and outcome, and the results, and exits 1 if an invariant is broken. Every process it started
is stopped on the way out (its process group), whatever happens; `--keep` keeps the database and the folder of
logs, mail and the acknowledged file (kept anyway when a check fails).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg2
import redis
import requests
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
LOOPBACK = "127.0.0.1"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
DEMO_PASSWORD = "cityops-demo-2026"  # noqa: S105 - the demo city's, printed in the README
QUEUES = ("celery", "sweep", "mail")
KINDS = ("web", "worker", "beat")
# Bounds, so that a typo cannot start an endless run.
MAX_KILLS, MAX_SECONDS, MAX_CLIENTS = 500, 3600, 32

# The demo city's people, as the harness uses them (departments/demo.py).
CLERK, WARD_CLERK = "vp.tiepnhan", "lechan.tiepnhan"
HEADS = {"sxd": "sxd.giamdoc", "snnmt": "snnmt.giamdoc", "stc": "stc.giamdoc", "p-le-chan": "lechan.chutich"}
PEOPLE = (CLERK, WARD_CLERK, "vp.chuyenvien", "sxd.giamdoc", "sxd.phogiamdoc", "sxd.chuyenvien", "stc.giamdoc",
          "snnmt.giamdoc", "lechan.chutich")
TOKEN_IN_TITLE = re.compile(r"\[([0-9a-f]{16})\]$")


# --- processes --------------------------------------------------------------------------------------------------


@dataclass
class Service:
    """One process of the installation, started in a process group of its own, so that a kill takes its
    children (gunicorn's and Celery's workers) with it."""

    name: str
    kind: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1} at {dt.datetime.now():%H:%M:%S} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, grace: float = 20) -> None:
        """SIGTERM (gunicorn and Celery finish what they are doing), then SIGKILL what is left of the group."""
        if self.process is None:
            return
        if self.alive():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        self.signal_group(signal.SIGKILL)  # the group's stragglers too, even when the leader has gone
        self.process.wait(timeout=30)


class Fleet:
    def __init__(self, services: list[Service]):
        self.services = services
        self.lock = threading.Lock()
        self.kills: Counter[str] = Counter()

    def of_kind(self, kind: str) -> list[Service]:
        return [service for service in self.services if service.kind == kind]

    def start_all(self) -> None:
        for service in self.services:
            service.start()

    def kill_one(self, rng: random.Random, restart_after: float) -> str:
        """SIGKILL a random web server, worker or beat (a kind first, then one of that kind), start it again."""
        kind = rng.choice(KINDS)
        victim = rng.choice(self.of_kind(kind))
        with self.lock:
            victim.kill()
            self.kills[kind] += 1
        time.sleep(restart_after)
        with self.lock:
            victim.start()
        return victim.name

    def ensure_all_up(self) -> None:
        with self.lock:
            for service in self.services:
                if not service.alive():
                    service.start()

    def stop_all(self) -> None:
        with self.lock:
            for service in self.services:
                try:
                    service.stop()
                except Exception as error:  # noqa: BLE001 - stop the others whatever one does
                    print(f"  could not stop {service.name}: {error}", file=sys.stderr)


# --- the API clients --------------------------------------------------------------------------------------------


class Tally:
    """Requests by kind and outcome, and other counts, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.counts: Counter[str] = Counter()
        self.notes: list[str] = []

    def request(self, kind: str, outcome: str) -> None:
        with self.lock:
            self.requests[kind, outcome] += 1

    def count(self, name: str, by: int = 1) -> None:
        with self.lock:
            self.counts[name] += by

    def note(self, text: str) -> None:
        with self.lock:
            if len(self.notes) < 30:
                self.notes.append(text)


def outcome_of(status: int) -> str:
    if status < 300:
        return "ok"
    if status == 409:
        return "refused (409)"
    if status < 500:
        return f"client error ({status})"
    return f"server error ({status})"


class Ledger:
    """The file of acknowledged references: a reference is written, flushed and synced as its 201 arrives."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.tokens: dict[str, str] = {}  # reference -> the token in its title
        self.file = path.open("a", encoding="utf-8")

    def acknowledge(self, reference: str, token: str) -> None:
        with self.lock:
            self.file.write(reference + "\n")
            self.file.flush()
            os.fsync(self.file.fileno())
            self.tokens[reference] = token

    def close(self) -> None:
        self.file.close()


class Api:
    """One client thread's HTTP session, spread over the web servers like a load balancer, with the people's
    tokens. Reads are retried until they get an answer; a POST is sent once and its caller decides."""

    def __init__(self, ports: list[int], tokens: dict[str, str], tally: Tally, rng: random.Random,
                 give_up_after: float):
        self.ports, self.tokens, self.tally, self.rng = ports, tokens, tally, rng
        self.session = requests.Session()
        self.give_up_after = give_up_after

    def send(self, method: str, path: str, *, user: str | None, kind: str, body: Any = None,
             retry: bool = False) -> requests.Response | None:
        """The answer, or None when no server answered (or, retried, answered 5xx) within `give_up_after`."""
        started, pause = time.monotonic(), 0.2
        ports = list(self.ports)
        self.rng.shuffle(ports)
        attempt = 0
        while True:
            port = ports[attempt % len(ports)]
            attempt += 1
            headers = {"Authorization": f"Token {self.tokens[user]}"} if user else {}
            try:
                response = self.session.request(method, f"http://{LOOPBACK}:{port}{path}", json=body, headers=headers,
                                                timeout=(2, 30))
            except requests.RequestException as error:
                self.tally.request(kind, "connection failed")
                self.tally.note(f"{kind} {method} {path}: {type(error).__name__}")
                response = None
            else:
                self.tally.request(kind, outcome_of(response.status_code))
                if response.status_code < 500:
                    return response
                self.tally.note(f"{kind} {method} {path}: {response.status_code} {response.text[:200]}")
            if not retry or time.monotonic() - started > self.give_up_after:
                return response
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def case(self, reference: str, user: str) -> dict | None:
        response = self.send("GET", f"/api/v1/cases/{reference}/", user=user, kind="read", retry=True)
        return response.json() if response is not None and response.status_code == 200 else None


# --- what the clients do ------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """A case's story, drawn when it is logged."""

    scenario: str
    clerk: str
    assign: bool = False
    supplement: bool = False
    propose: bool = False
    rework: bool = False
    resolve: bool = True
    tries: Counter[str] = field(default_factory=Counter)


def new_case(rng: random.Random, token: str) -> tuple[dict, Plan]:
    """The intake body and the plan of one case: a building permit (Sở Xây dựng decides), a land allocation
    (consulted, then decided by the City Committee), an overdue household business in Lê Chân ward (for the
    sweep), or a house permit in Bạch Long Vĩ, which no rule covers (triage, then routed by the clerk)."""
    scenario = rng.choices(["permit", "land", "late", "triage"], weights=[4, 2, 2, 1])[0]
    plan = Plan(scenario, WARD_CLERK if scenario == "late" else CLERK, assign=rng.random() < 0.5,
                supplement=rng.random() < 0.25, propose=rng.random() < 0.3, rework=rng.random() < 0.3,
                resolve=rng.random() < 0.5)
    body: dict[str, Any] = {"source": "citizen", "applicant_name": "Khách hàng thử tải"}
    if scenario == "permit":
        body |= {"title": "Cấp phép xây dựng nhà xưởng", "case_type": "building-permit", "locality": "p-ngo-quyen"}
    elif scenario == "land":
        body |= {"title": "Giao đất mở rộng trường học", "case_type": "land-allocation", "source": "agency"}
    elif scenario == "late":
        received = dt.datetime.now(dt.UTC) - dt.timedelta(days=rng.randint(8, 20))
        body |= {"title": "Đăng ký hộ kinh doanh", "case_type": "household-business", "locality": "p-le-chan",
                 "received_at": received.isoformat()}
    else:
        body |= {"title": "Xin phép xây nhà ở", "case_type": "house-permit", "locality": "dk-bach-long-vi"}
    body["title"] += f" [{token}]"
    return body, plan


Step = tuple[str, str, dict, str]  # (who, path, body, kind)


def next_step(case: dict, plan: Plan) -> Step | None:
    """What the case's plan does next from where the case is; None when its story is over."""
    reference, status = case["reference"], case["status"]
    url = f"/api/v1/cases/{reference}"
    actions = [event["action"] for event in case.get("events", [])]
    if status == "triage":
        return CLERK, f"{url}/route/", {"to": "sxd"}, "action"
    if status == "resolved":
        return None
    if plan.scenario == "land":
        return _land_step(case, plan, url, actions)
    if plan.scenario == "late":
        if status == "routed":
            return HEADS["p-le-chan"], f"{url}/accept/", {}, "action"
        if status == "in_progress" and plan.resolve:
            return HEADS["p-le-chan"], f"{url}/resolve/", {"note": "Đã cấp giấy chứng nhận"}, "action"
        return None  # left open and overdue, for the sweep
    # A building permit, or a house permit routed to Sở Xây dựng out of triage.
    if status == "routed":
        if plan.assign:
            return "sxd.giamdoc", f"{url}/assign/", {"assignee": "sxd.phogiamdoc"}, "action"
        return "sxd.chuyenvien", f"{url}/accept/", {}, "action"
    if status == "awaiting_supplement":
        return "sxd.chuyenvien", f"{url}/complete-supplement/", {"note": "Đã nhận đủ hồ sơ"}, "action"
    if status == "in_progress":
        if plan.supplement and "supplement_requested" not in actions:
            return "sxd.chuyenvien", f"{url}/request-supplement/", {"items": "Bản vẽ thiết kế"}, "action"
        if plan.propose and "proposed" not in actions:
            return "sxd.chuyenvien", f"{url}/propose/", {"note": "Đủ điều kiện cấp phép"}, "action"
        return "sxd.phogiamdoc", f"{url}/resolve/", {"note": "Đã cấp giấy phép"}, "action"
    return None


def _land_step(case: dict, plan: Plan, url: str, actions: list[str]) -> Step | None:
    status = case["status"]
    if status == "routed":
        return HEADS["snnmt"], f"{url}/accept/", {}, "action"
    if status == "submitted":
        rework = plan.rework and "decided" not in actions
        return "vp.chuyenvien", f"{url}/decide/", {"outcome": "rework" if rework else "approved",
                                                   "note": "Ý kiến của UBND thành phố"}, "action"
    if status != "in_progress":
        return None
    consultations = case.get("consultations", [])
    if not consultations:
        return (HEADS["snnmt"], f"{url}/consult/",
                {"departments": ["sxd", "stc"], "question": "Đề nghị cho ý kiến về nhu cầu sử dụng đất"}, "action")
    for consultation in consultations:
        if consultation["status"] == "open":
            return (HEADS[consultation["department"]], f"/api/v1/consultations/{consultation['id']}/respond/",
                    {"position": "agree"}, "action")
    return HEADS["snnmt"], f"{url}/submit/", {"summary": "Tờ trình giao đất"}, "action"


def reader_of(case: dict, plan: Plan) -> str:
    """Someone of the unit that works on the case (a read by an overseer would be logged as one from outside)."""
    return HEADS.get(case.get("owner") or "", plan.clerk)


class Client(threading.Thread):
    """Logs a case, drives it through its plan, and starts the next, until told to stop."""

    def __init__(self, number: int, api: Api, ledger: Ledger, tally: Tally, stop: threading.Event,
                 rng: random.Random):
        super().__init__(name=f"client-{number}", daemon=True)
        self.api, self.ledger, self.tally, self.stop, self.rng = api, ledger, tally, stop, rng

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.one_case()
            except Exception as error:  # noqa: BLE001 - a harness bug must not end the run silently
                self.tally.count("client exceptions")
                self.tally.note(f"{self.name}: {type(error).__name__}: {error}")
                time.sleep(1)

    def one_case(self) -> None:
        token = secrets.token_hex(8)
        body, plan = new_case(self.rng, token)
        case = self.intake(body, plan, token)
        steps = 0
        while case is not None and not self.stop.is_set() and steps < 30:
            step = next_step(case, plan)
            if step is None:
                self.tally.count(f"stories finished ({plan.scenario})")
                return
            who, path, payload, kind = step
            steps += 1
            response = self.api.send("POST", path, user=who, kind=kind, body=payload)
            time.sleep(self.rng.uniform(0, 0.05))
            if response is not None and response.status_code == 200 and "/consultations/" not in path:
                case = response.json()
                continue
            if response is not None and response.status_code not in (200, 201, 409):
                plan.tries[path] += 1
                self.tally.note(f"{path}: {response.status_code} {response.text[:200]}")
                if plan.tries[path] >= 3:
                    self.tally.count("stories abandoned")
                    return
            # Lost, refused or answered with another record: read where the case is now, and go on from there.
            case = self.api.case(case["reference"], reader_of(case, plan))

    def intake(self, body: dict, plan: Plan, token: str) -> dict | None:
        for _attempt in range(10):
            if self.stop.is_set():
                return None
            response = self.api.send("POST", "/api/v1/cases/", user=plan.clerk, kind="intake", body=body)
            if response is not None and response.status_code == 201:
                case = response.json()
                self.ledger.acknowledge(case["reference"], token)
                return case
            if response is not None and response.status_code < 500:
                self.tally.note(f"intake: {response.status_code} {response.text[:200]}")
                return None
            # No answer: the case may have been created before the answer was lost. Look for its token first.
            found = self.api.send("GET", f"/api/v1/cases/?q={token}", user=plan.clerk, kind="lookup", retry=True)
            if found is not None and found.status_code == 200 and found.json()["count"]:
                self.tally.count("intakes created but never acknowledged")
                return self.api.case(found.json()["results"][0]["reference"], plan.clerk)
            self.tally.count("intakes retried")
        return None


# --- setup, the run, the checks -------------------------------------------------------------------------------------


def local_only(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"{what} must be on this machine (127.0.0.1), not {host!r}")


def database_url(server: str, name: str) -> str:
    return server.rstrip("/") + "/" + name


def recreate_database(server: str, name: str) -> None:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"not a plain database name: {name!r}")
    connection = psycopg2.connect(database_url(server, "postgres"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def drop_database(server: str, name: str) -> None:
    connection = psycopg2.connect(database_url(server, "postgres"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def must(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise SystemExit(f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


BEAT_SCHEDULE = """
from django_celery_beat.models import IntervalSchedule, PeriodicTask
every, _ = IntervalSchedule.objects.get_or_create(every={seconds}, period="seconds")
print(PeriodicTask.objects.filter(task="cases.tasks.flag_overdue").update(interval=every, enabled=True))
"""


def environment(args: argparse.Namespace, work: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "cityops.settings",
        "DATABASE_URL": database_url(args.pg, args.db_name),
        "REDIS_URL": args.redis,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DEBUG": "0",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://{LOOPBACK}:{args.port}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(work / "mail"),
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(work / "static"),
        "WEB_WORKERS": str(args.web_workers),
        "WEB_THREADS": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def services(args: argparse.Namespace, env: dict[str, str], logs: Path) -> list[Service]:
    made = []
    for number in (1, 2):
        port = args.port + number - 1
        made.append(Service(f"web-{number}", "web",
                            [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "cityops.wsgi"],
                            {**env, "HOST": LOOPBACK, "PORT": str(port)}, logs / f"web-{number}.log"))
    for number in (1, 2):
        made.append(Service(f"worker-{number}", "worker",
                            [str(BIN / "celery"), "--app", "cityops", "worker", "--queues", ",".join(QUEUES), "-c", "1",
                             "--hostname", f"crash{number}@%h", "--without-mingle", "--without-gossip",
                             "--loglevel", "INFO"], env, logs / f"worker-{number}.log"))
    made.append(Service("beat", "beat", [str(BIN / "celery"), "--app", "cityops", "beat", "--loglevel", "INFO",
                                         "--max-interval", "2"], env, logs / "beat.log"))
    return made


def wait_for_web(ports: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                requests.get(f"http://{LOOPBACK}:{port}/api/v1/cases/", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the web server on port {port} did not start; see its log") from None
                time.sleep(0.5)


def sign_in(ports: list[int], tally: Tally) -> dict[str, str]:
    api = Api(ports, {}, tally, random.Random(0), give_up_after=60)
    tokens = {}
    for username in PEOPLE:
        response = api.send("POST", "/api/v1/auth/token/", user=None, kind="token", retry=True,
                            body={"username": username, "password": DEMO_PASSWORD})
        if response is None or response.status_code != 200:
            raise SystemExit(f"no token for {username}: {response.status_code if response else 'no answer'}")
        tokens[username] = response.json()["token"]
    return tokens


class Sweeper(threading.Thread):
    """Sends the overdue sweep every few seconds, beside beat's own schedule (the sweep queues the mail)."""

    def __init__(self, broker: Celery, every: float, stop: threading.Event, tally: Tally):
        super().__init__(name="sweeper", daemon=True)
        self.broker, self.every, self.stop, self.tally = broker, every, stop, tally

    def run(self) -> None:
        while not self.stop.wait(self.every):
            send_sweep(self.broker, self.tally)


def send_sweep(broker: Celery, tally: Tally) -> None:
    try:
        broker.send_task("cases.tasks.flag_overdue", queue="sweep")
        tally.count("sweeps sent by the harness")
    except Exception as error:  # noqa: BLE001 - Redis is not killed; a failure is reported, not fatal
        tally.note(f"sweep not sent: {error}")


class Killer(threading.Thread):
    """SIGKILLs a random process at each of `moments` (seconds after the load started) and restarts it."""

    def __init__(self, fleet: Fleet, moments: list[float], started: float, rng: random.Random,
                 stop: threading.Event, log: Callable[[str], None]):
        super().__init__(name="killer", daemon=True)
        self.fleet, self.moments, self.started, self.rng, self.stop, self.log = fleet, moments, started, rng, stop, log

    def run(self) -> None:
        for moment in self.moments:
            if self.stop.wait(max(0.0, self.started + moment - time.monotonic())):
                return
            name = self.fleet.kill_one(self.rng, restart_after=self.rng.uniform(0.2, 2.0))
            self.log(f"  {time.monotonic() - self.started:6.1f}s  killed {name} (SIGKILL), restarted")


def pending_work(db_url: str, queue: redis.Redis) -> tuple[int, int]:
    """(notices whose mail is still to be sent, messages waiting in the queues)."""
    with psycopg2.connect(db_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM cases_notification WHERE mail_state = 'pending') + "
                       "(SELECT count(*) FROM oversight_violationnotice WHERE mail_state = 'pending')")
        pending = cursor.fetchone()[0]
    connection.close()
    return pending, sum(queue.llen(name) for name in QUEUES)


def drain(db_url: str, queue: redis.Redis, broker: Celery, tally: Tally, timeout: float) -> bool:
    """Sweep until no mail is pending and the queues are empty (a mail task lost with a killed worker is queued
    again by the next sweep, which is the installation's own catch-up)."""
    deadline, calm = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        send_sweep(broker, tally)
        time.sleep(3)
        pending, queued = pending_work(db_url, queue)
        calm = calm + 1 if pending == 0 and queued == 0 else 0
        if calm >= 2:
            return True
    return False


def facts(db_url: str, ledger: Ledger) -> dict[str, Any]:
    """What the database says beside the invariants: the cases by status, and what became of the intakes."""
    with psycopg2.connect(db_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM cases_case GROUP BY status ORDER BY status")
        statuses = dict(cursor.fetchall())
        cursor.execute("SELECT reference, title FROM cases_case")
        by_token: Counter[str] = Counter()
        for _reference, title in cursor.fetchall():
            match = TOKEN_IN_TITLE.search(title)
            if match:
                by_token[match.group(1)] += 1
        cursor.execute("SELECT kind, mail_state, count(*) FROM cases_notification GROUP BY kind, mail_state "
                       "ORDER BY kind, mail_state")
        notices = {f"{kind}/{state}": count for kind, state, count in cursor.fetchall()}
        cursor.execute("SELECT (SELECT count(*) FROM cases_caseevent), (SELECT count(*) FROM cases_deadlinemark)")
        events, marks = cursor.fetchone()
    connection.close()
    acknowledged = set(ledger.tokens.values())
    return {
        "cases by status": statuses,
        "cases logged by the harness": sum(by_token.values()),
        "acknowledged (201)": len(ledger.tokens),
        "created, never acknowledged": sum(1 for token in by_token if token not in acknowledged),
        "logged twice by a retried intake": sum(count - 1 for count in by_token.values() if count > 1),
        "events": events,
        "deadline marks": marks,
        "notices (kind/mail)": notices,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=10, help=f"SIGKILLs during the load (at most {MAX_KILLS})")
    parser.add_argument("--seconds", type=int, default=120, help=f"length of the load (at most {MAX_SECONDS})")
    parser.add_argument("--clients", type=int, default=6, help="client threads")
    parser.add_argument("--seed", type=int, default=None, help="for the random draws (default: a new one)")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432",
                        help="the PostgreSQL server (127.0.0.1 only), without a database name")
    parser.add_argument("--db-name", default="cityops_crash", help="dropped and made anew (default cityops_crash)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5",
                        help="a Redis database of the harness's own, flushed first (default /5)")
    parser.add_argument("--port", type=int, default=8761, help="the first web server's port; the second is +1")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes per web server")
    parser.add_argument("--sweep-every", type=float, default=5, help="seconds between the harness's sweeps")
    parser.add_argument("--beat-every", type=int, default=10, help="beat's schedule for the sweep, in seconds")
    parser.add_argument("--drain-seconds", type=float, default=180, help="how long the end may wait for the mail")
    parser.add_argument("--keep", action="store_true", help="keep the database and the work folder")
    args = parser.parse_args(argv)
    if not (0 <= args.kills <= MAX_KILLS and 10 <= args.seconds <= MAX_SECONDS and 1 <= args.clients <= MAX_CLIENTS):
        parser.error(f"--kills 0..{MAX_KILLS}, --seconds 10..{MAX_SECONDS}, --clients 1..{MAX_CLIENTS}")
    local_only(args.pg, "--pg")
    local_only(args.redis, "--redis")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="cityops-crash-"))
    logs = work / "logs"
    logs.mkdir()
    (work / "mail").mkdir()
    acknowledged_file = work / "acknowledged.txt"
    env = environment(args, work)
    db_url = env["DATABASE_URL"]
    print(f"crash harness: {args.kills} kills in {args.seconds}s, {args.clients} clients, seed {seed}; work in {work}")

    fleet: Fleet | None = None
    stop = threading.Event()
    tally = Tally()
    ledger: Ledger | None = None
    keep = args.keep
    # SIGTERM to the harness ends it like Ctrl-C: through the `finally` that stops every process.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        queue = redis.Redis.from_url(args.redis)
        queue.flushdb()
        recreate_database(args.pg, args.db_name)
        must(manage(env, "migrate", "--noinput"), "migrate")
        must(manage(env, "load_demo", "--quiet"), "load_demo")
        must(manage(env, "shell", "-c", BEAT_SCHEDULE.format(seconds=args.beat_every)), "beat schedule")
        print("  database migrated, demo city loaded, sweep scheduled every "
              f"{args.beat_every}s by beat and every {args.sweep_every}s by the harness")

        fleet = Fleet(services(args, env, logs))
        fleet.start_all()
        ports = [args.port, args.port + 1]
        wait_for_web(ports, timeout=60)
        tokens = sign_in(ports, tally)
        broker = Celery("crash-harness", broker=args.redis)
        ledger = Ledger(acknowledged_file)

        clients = [Client(number, Api(ports, tokens, tally, random.Random(rng.random()), give_up_after=60), ledger,
                          tally, stop, random.Random(rng.random())) for number in range(args.clients)]
        started = time.monotonic()
        quiet = min(5.0, args.seconds / 10)
        moments = sorted(rng.uniform(quiet, args.seconds - quiet) for _ in range(args.kills))
        killer = Killer(fleet, moments, started, random.Random(rng.random()), stop, print)
        sweeper = Sweeper(broker, args.sweep_every, stop, tally)
        print(f"  load for {args.seconds}s")
        for thread in (*clients, killer, sweeper):
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        killer.join(timeout=60)
        for thread in (*clients, sweeper):
            thread.join(timeout=60)
        print(f"  load stopped after {time.monotonic() - started:.0f}s; draining")

        fleet.ensure_all_up()
        drained = drain(db_url, queue, broker, tally, timeout=args.drain_seconds)
        fleet.stop_all()
        ledger.close()

        checked = manage(env, "check_invariants", "--acknowledged", str(acknowledged_file),
                         "--mail-dir", str(work / "mail"), "--json", timeout=1800)
        try:
            report = json.loads(checked.stdout)
        except json.JSONDecodeError:
            raise SystemExit(f"check_invariants said:\n{checked.stdout}\n{checked.stderr}") from None
        summary = facts(db_url, ledger)
        print_summary(fleet, tally, summary, report, drained)
        ok = checked.returncode == 0 and drained
        keep = keep or not ok
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        keep = True
        return 130
    finally:
        stop.set()
        if fleet is not None:
            fleet.stop_all()
        if ledger is not None and not ledger.file.closed:
            ledger.close()
        if keep:
            print(f"kept: database {args.db_name}, folder {work} (logs, mail, acknowledged.txt)")
        else:
            try:
                drop_database(args.pg, args.db_name)
            except psycopg2.Error as error:
                print(f"could not drop {args.db_name}: {error}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def print_summary(fleet: Fleet, tally: Tally, summary: dict, report: dict, drained: bool) -> None:
    print("\nkills by kind: " + ", ".join(f"{kind} {fleet.kills[kind]}" for kind in KINDS)
          + f" (total {sum(fleet.kills.values())})")
    print("process starts: " + ", ".join(f"{service.name} {service.starts}" for service in fleet.services))
    print("\nrequests (kind: outcome count):")
    for kind in sorted({kind for kind, _outcome in tally.requests}):
        outcomes = {outcome: count for (of, outcome), count in tally.requests.items() if of == kind}
        print(f"  {kind:7} " + ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items())))
    ok = sum(count for (_kind, outcome), count in tally.requests.items() if outcome == "ok")
    print(f"  total   ok {ok}, not ok {sum(tally.requests.values()) - ok}")
    if tally.counts:
        print("\nclient counts: " + ", ".join(f"{name} {count}" for name, count in sorted(tally.counts.items())))
    print("\ndatabase:")
    for name, value in summary.items():
        print(f"  {name}: {value}")
    print(f"  mail drained before the check: {'yes' if drained else 'NO'}")
    print("\ninvariants:")
    for result in report["checks"]:
        state = "skip" if result["skipped"] else "ok" if result["ok"] else "FAIL"
        print(f"  {state:4}  {result['name']}: {result['count']} of {result['checked']} {result['unit']}")
        for example in result["examples"]:
            print(f"          - {example['detail']}")
    if tally.notes:
        print("\nfirst failures seen by the clients:")
        for note in tally.notes[:15]:
            print(f"  {note}")
    print("\nresult: " + ("every invariant holds" if report["ok"] else f"BROKEN: {', '.join(report['failed'])}"))


if __name__ == "__main__":
    sys.exit(main())
