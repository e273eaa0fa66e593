"""Load test by hand (not CI): the production start on the million-case city, and a hundred officials on it.

    .venv/bin/python -m bench.loadtest --minutes 1            # a smoke run
    .venv/bin/python -m bench.loadtest                        # 100 users, 5 minutes, then the throughput phases
    .venv/bin/python -m bench.loadtest --help

See bench/README.md, "Load test". Everything it talks to is on 127.0.0.1; every process it starts is a process
group of its own and is stopped on the way out, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SOURCE_DB = "cityops_bench_deadlines"
LOCAL = "127.0.0.1"
RATIO_TARGET = 5.0
THROUGHPUT_TARGET = 0.5
# The pages whose p95 is held against the bare view's.
COMPARED = ("queue: case list", "case page", "overdue desk", "intake (API)")
SIGN_IN = "sign-in: "
ACCOUNTS = {"clerk": 30, "specialist": 30, "head": 25, "city_office": 5}
PREFIX = "bench-"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100, help="simulated officials (default 100)")
    parser.add_argument("--minutes", type=float, default=5, help="the mixed run's length (default 5)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second (default 10)")
    parser.add_argument("--wait", default="5,15",
                        help="think time between requests, seconds: 'low,high' (default 5,15)")
    parser.add_argument("--phase-seconds", type=int, default=90,
                        help="length of each full-speed phase, bare view only then intake only (default 90; 0: skip)")
    parser.add_argument("--skip-build", action="store_true",
                        help=f"use {SOURCE_DB} as it is; do not build it, even when it is missing or of another day")
    parser.add_argument("--source-db", default=SOURCE_DB, help=f"the data set's database (default {SOURCE_DB})")
    parser.add_argument("--db-name", default="cityops_bench_load",
                        help="the throwaway copy the servers run on (default cityops_bench_load)")
    parser.add_argument("--keep-db", action="store_true", help="leave the copy for inspection")
    parser.add_argument("--pg", default=f"postgres://postgres@{LOCAL}:5432/postgres",
                        help="the PostgreSQL server (a database on it to connect to first)")
    parser.add_argument("--redis", default=f"redis://{LOCAL}:6379/7", help="a spare Redis database, flushed first")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--web-workers", type=int, help="gunicorn processes (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--seed", type=int, default=966)
    parser.add_argument("--out", type=Path, help="the report (default bench/results/loadtest-<time>.md)")
    args = parser.parse_args(argv)
    for url in (args.pg, args.redis):
        if f"@{LOCAL}:" not in url and f"//{LOCAL}:" not in url:
            parser.error(f"{url}: the load test talks to {LOCAL} only")
    if args.db_name == args.source_db:
        parser.error("--db-name must differ from --source-db: the copy is dropped at the end")
    if args.users < 5 or args.minutes <= 0:
        parser.error("at least 5 users and a positive --minutes")
    low, _, high = args.wait.partition(",")
    try:
        float(low), float(high or low)
    except ValueError:
        parser.error("--wait is 'low,high' in seconds")
    return args


# The database ---------------------------------------------------------------------------------------------

def setup_django(pg_url: str) -> None:
    os.environ["DATABASE_URL"] = pg_url
    from bench.run import setup_django as bench_setup

    bench_setup()


def use_database(name: str) -> None:
    from django.conf import settings
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name
    settings.DATABASES[connection.alias]["NAME"] = name


def open_source(args, out) -> str:
    """Make sure the million-case city is there; returns what was done, for the report."""
    from django.db import connection

    from bench.deadlines_bench import open_data_set
    from bench.deadlines_data import MARKER, DeadlineSpec

    configured = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.source_db])
        exists = cursor.fetchone() is not None
    if args.skip_build:
        if not exists:
            sys.exit(f"{args.source_db} does not exist; run without --skip-build to build it")
        use_database(args.source_db)
        rows = MARKER._rows("built_on, build_seconds, counts")
        use_database(configured)
        if not rows:
            return f"{args.source_db} as it is (no marker: not a complete build?)"
        return f"{args.source_db} reused as it is (built for {rows[0][0]}, in {rows[0][1]:.0f} s)"
    spec = DeadlineSpec(seed=args.seed)
    started = time.perf_counter()
    try:
        city = open_data_set(args.source_db, spec, rebuild=False, out=out)
    finally:
        use_database(configured)
    if city.reused:
        return f"{args.source_db} reused (built today in {city.build_seconds:.0f} s)"
    return f"{args.source_db} built now in {time.perf_counter() - started:.0f} s (data set {city.build_seconds:.0f} s)"


def clone(source: str, target: str) -> float:
    """A copy of the data set for the servers to write into: the deadline benchmark's counts stay as built."""
    from django.db import connection

    started = time.perf_counter()
    quote = connection.ops.quote_name
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
        cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(source)}")
    return time.perf_counter() - started


def drop(target: str, configured: str) -> None:
    from django.db import connection

    use_database(configured)
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(target)} WITH (FORCE)")


def prepare(rng: random.Random) -> dict:
    """In the copy: the bare view's table, the people who sign in and their work. Returns the locust plan.

    The data set has heads and specialists; the intake desk and the city office are added here, with a
    citywide rule per case type so that intake routes as it does in production. Submitted cases get the
    pending submission the city office decides on. Passwords are set with the site's own hasher (Argon2).
    """
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from cases.models import Case, Consultation, ConsultationStatus, ReferenceCounter, Status, Submission
    from departments.models import AuthorityRule, CaseType, Department, DepartmentKind, Role, Staff

    user_model = get_user_model()
    # One password for the run's accounts, set in the throwaway copy only and written to the plan locust reads.
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_bare (id bigserial PRIMARY KEY, "
                           "at timestamptz NOT NULL DEFAULT now())")
        units = list(Department.objects.filter(code__startswith=f"{PREFIX}dl-", kind__in=[
            DepartmentKind.DEPARTMENT, DepartmentKind.COMMUNE]).order_by("id"))
        committee = Department.objects.get(code=f"{PREFIX}dl-ubnd")
        largest = units[0]
        office = Department.objects.create(code=f"{PREFIX}dl-vp", name="Văn phòng UBND thành phố (bench)",
                                           kind=DepartmentKind.CITY_OFFICE, parent=committee, national_id="BVP")
        case_types = list(CaseType.objects.filter(code__startswith=f"{PREFIX}dl-").order_by("id"))
        departments = [u for u in units if u.kind == DepartmentKind.DEPARTMENT]
        AuthorityRule.objects.bulk_create(
            AuthorityRule(case_type=ct, owner=largest if i % 7 == 0 else rng.choice(departments),
                          legal_basis=f"Quyết định {100 + i}/QĐ-UBND (tải thử)") for i, ct in enumerate(case_types))

        # The people: the largest department's head and specialists (its queue is the heaviest), then others.
        def staff_of(role: str, count: int) -> list:
            first = list(Staff.objects.filter(department=largest, role=role).select_related("user", "department"))
            rest = list(Staff.objects.filter(role=role, department__in=units).exclude(department=largest)
                        .select_related("user", "department").order_by("id"))
            return first + rng.sample(rest, count - len(first))

        heads = staff_of(Role.HEAD, ACCOUNTS["head"])
        specialists = staff_of(Role.SPECIALIST, ACCOUNTS["specialist"])
        new_people = []
        clerk_units = [largest, *rng.sample(units[1:], ACCOUNTS["clerk"] - 2), office]
        for n, unit in enumerate(clerk_units):
            new_people.append((f"{unit.code}-clerk-{n}", unit, Role.CLERK))
        for n in range(ACCOUNTS["city_office"]):
            new_people.append((f"{office.code}-city_office-{n}", office, Role.CITY_OFFICE))
        created = user_model.objects.bulk_create([
            user_model(username=username, email=f"{username}@bench.cityops.invalid", first_name=str(n),
                       last_name=unit.name[:30]) for n, (username, unit, _) in enumerate(new_people)])
        new_staff = Staff.objects.bulk_create([Staff(user=user, department=unit, role=role)
                                               for user, (_, unit, role) in zip(created, new_people, strict=True)])
        clerks = [s for s in new_staff if s.role == Role.CLERK]
        office_staff = [s for s in new_staff if s.role == Role.CITY_OFFICE]
        for staff in [*heads, *specialists, *clerks, *office_staff]:
            staff.user.set_password(password)
            staff.user.save(update_fields=["password"])

        def case_sample(unit_ids: list[int] | None, count: int) -> list[str]:
            cases = Case.unscoped.all() if unit_ids is None else Case.unscoped.filter(owner_id__in=unit_ids)
            return list(cases.order_by("?").values_list("reference", flat=True)[:count])

        # Work handed out so that no two users race for the same item.
        accounts: dict[str, list[dict]] = {role: [] for role in ACCOUNTS}
        by_unit: dict[int, list[Staff]] = {}
        for staff in specialists:
            by_unit.setdefault(staff.department_id, []).append(staff)
        for unit_id, people in by_unit.items():
            open_ids = list(Consultation.unscoped.filter(department_id=unit_id, status=ConsultationStatus.OPEN)
                            .order_by("id").values_list("id", flat=True)[:150 * len(people)])
            cases = case_sample([unit_id], 300)
            for n, staff in enumerate(people):
                accounts["specialist"].append({"username": staff.user.username, "password": password,
                                               "unit": staff.department.code, "cases": cases,
                                               "work": {"answer": open_ids[n::len(people)]}})
        codes = [u.code for u in departments]
        for staff in heads:
            consulted = Consultation.unscoped.filter(case_id__in=Case.unscoped.filter(
                owner_id=staff.department_id, status=Status.IN_PROGRESS).values("id")).values("case_id")
            free = (Case.unscoped.filter(owner_id=staff.department_id, status=Status.IN_PROGRESS)
                    .exclude(id__in=consulted).order_by("-id").values_list("reference", flat=True)[:100])
            others = [code for code in codes if code != staff.department.code]
            accounts["head"].append({"username": staff.user.username, "password": password,
                                     "unit": staff.department.code, "cases": case_sample([staff.department_id], 300),
                                     "work": {"consult": [(ref, rng.choice(others)) for ref in free]}})
        submitted = list(Case.unscoped.filter(status=Status.SUBMITTED).exclude(submissions__outcome="")
                         .order_by("id").values_list("id", "reference", "owner_id")[:400 * len(office_staff)])
        heads_by_unit = dict(Staff.objects.filter(role=Role.HEAD).values_list("department_id", "user_id"))
        now = dt.datetime.now(dt.UTC)
        Submission.objects.bulk_create(
            Submission(case_id=case_id, department_id=owner, submitted_by_id=heads_by_unit[owner],
                       submitted_at=now - dt.timedelta(hours=rng.randint(1, 400)), summary="Tờ trình (tải thử)")
            for case_id, _, owner in submitted)
        everywhere = case_sample(None, 300)
        for n, staff in enumerate(office_staff):
            accounts["city_office"].append({"username": staff.user.username, "password": password, "unit": office.code,
                                            "cases": everywhere,
                                            "work": {"decide": [ref for _, ref, _ in submitted[n::len(office_staff)]]}})
        for staff in clerks:
            accounts["clerk"].append({"username": staff.user.username, "password": password,
                                      "unit": staff.department.code, "cases": []})
    with connection.cursor() as cursor:
        # The data set writes its dossier codes without their counter rows; without them today's first intake
        # of a unit would be given a code the data set already holds.
        table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
        cursor.execute(f"INSERT INTO {table} (prefix, day, last) SELECT split_part(reference, '-', 1), "
                       "to_date(split_part(reference, '-', 2), 'YYMMDD'), max(split_part(reference, '-', 3)::int) "
                       f"FROM {connection.ops.quote_name(Case._meta.db_table)} "
                       "WHERE reference ~ '^[^-]+-[0-9]{6}-[0-9]+$' GROUP BY 1, 2 "
                       "ON CONFLICT (prefix, day) DO UPDATE SET last = GREATEST("
                       f"{table}.last, EXCLUDED.last)")
        cursor.execute("ANALYZE")
    return {"accounts": accounts, "case_types": [ct.code for ct in case_types],
            "largest": {"code": largest.code, "cases": Case.unscoped.filter(owner=largest).count()},
            "cases": Case.unscoped.count()}


# The servers ----------------------------------------------------------------------------------------------

@dataclass
class Service:
    name: str
    command: list[str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self, env: dict) -> None:
        handle = self.log.open("ab")
        # A process group of its own, so that stopping it stops every process it forked.
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        handle.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 15) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def server_env(args, work: Path, db_name: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("MAX_BACKDATE_DAYS", "DEBUG")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "bench.load_settings", "DEBUG": "0", "HTTPS": "false",
        "SECRET_KEY": os.urandom(32).hex(), "DATABASE_URL": f"{args.pg.rsplit('/', 1)[0]}/{db_name}",
        "REDIS_URL": args.redis, "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "STATIC_ROOT": str(work / "static"), "MEDIA_ROOT": str(work / "media"), "HOST": LOCAL,
        "PORT": str(args.port), "SITE_URL": f"http://{LOCAL}:{args.port}", "PYTHONUNBUFFERED": "1",
    })
    if args.web_workers:
        env["WEB_WORKERS"] = str(args.web_workers)
    return env


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def wait_ready(port: int, web: Service, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not web.alive():
            sys.exit(f"gunicorn stopped at start; see {web.log}")
        with contextlib.suppress(OSError), urllib.request.urlopen(  # noqa: S310 - loopback only
                f"http://{LOCAL}:{port}/healthz/", timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.5)
    sys.exit(f"gunicorn did not answer /healthz/ within {timeout:.0f} s; see {web.log}")


# CPU ------------------------------------------------------------------------------------------------------

def _tree_seconds(root) -> float:
    """CPU seconds of a process, the children it reaped, and its live descendants: a cumulative figure that two
    readings subtract, whatever workers (gunicorn's max_requests) or backends (one per request) came and went."""
    import psutil

    total = 0.0
    with contextlib.suppress(psutil.Error):
        times = root.cpu_times()
        total += times.user + times.system + times.children_user + times.children_system
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                own = child.cpu_times()
                # A child's reaped children are in the child's figures; its live ones are listed on their own.
                total += own.user + own.system + own.children_user + own.children_system
    return total


def _reaped_seconds() -> float:
    """CPU seconds of this process's children that have exited and been waited for (during a phase: locust)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postmaster():
    import psutil

    for process in psutil.process_iter(["name", "ppid"]):
        with contextlib.suppress(psutil.Error):
            if process.info["name"] == "postgres" and psutil.Process(process.info["ppid"]).name() != "postgres":
                return process
    return None


@dataclass
class CpuReading:
    at: float
    trees: dict[str, float]
    machine: float


def read_cpu(roots: dict) -> CpuReading:
    import psutil

    machine = psutil.cpu_times()
    busy = machine.user + machine.system + machine.nice + getattr(machine, "irq", 0) + getattr(machine, "softirq", 0)
    return CpuReading(time.monotonic(), {name: _tree_seconds(root) for name, root in roots.items() if root}, busy)


# Locust ---------------------------------------------------------------------------------------------------

@dataclass
class Row:
    name: str
    method: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass
class Phase:
    title: str
    classes: list[str]
    seconds: float
    wait: str
    rows: list[Row] = field(default_factory=list)
    failures: list[tuple[str, str, int]] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    machine_cpu: float = 0.0
    wall: float = 0.0
    started_utc: dt.datetime | None = None
    ended_utc: dt.datetime | None = None
    server: list[dict] = field(default_factory=list)
    steady: tuple[float, float] = (0.0, 0.0)

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)


def run_locust(phase: Phase, args, *, work: Path, plan_path: Path, roots: dict, out) -> None:
    prefix = work / f"locust-{phase.classes and '-'.join(phase.classes) or 'mixed'}"
    env = {**os.environ, "LOADTEST_PLAN": str(plan_path), "LOADTEST_WAIT": phase.wait}
    command = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
               "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{int(phase.seconds)}s",
               "--host", f"http://{LOCAL}:{args.port}", "--csv", str(prefix), "--only-summary",
               "--stop-timeout", "10", "--loglevel", "WARNING", "--exit-code-on-error", "0", *phase.classes]
    print(f"{phase.title}: {args.users} users, {phase.seconds:.0f} s ...", file=out, flush=True)
    log = work / f"{prefix.name}.log"
    locust = Service("locust", command, log)
    before = read_cpu(roots)
    reaped_before = _reaped_seconds()
    phase.started_utc = dt.datetime.now(dt.UTC)
    locust.start(env)
    roots = {**roots, "locust": _process(locust.process.pid)}
    before.trees["locust"] = 0.0
    try:
        locust.process.wait(timeout=phase.seconds + 120)
    finally:
        after = read_cpu(roots)
        locust.stop()
    phase.ended_utc = dt.datetime.now(dt.UTC)
    phase.wall = after.at - before.at
    phase.cpu = {name: after.trees.get(name, 0.0) - before.trees.get(name, 0.0) for name in after.trees}
    # Locust has exited by now and its figures went with it; once reaped they are counted in this process's.
    phase.cpu["locust"] = max(phase.cpu.get("locust", 0.0), _reaped_seconds() - reaped_before)
    phase.machine_cpu = after.machine - before.machine
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        sys.exit(f"locust wrote no statistics; see {log}:\n{log.read_text()[-3000:]}")
    with stats.open(newline="") as handle:
        for line in csv.DictReader(handle):
            if line["Name"] == "Aggregated":
                continue
            phase.rows.append(Row(line["Name"], line["Type"], int(line["Request Count"]), int(line["Failure Count"]),
                                  float(line["Requests/s"]), _ms(line["50%"]), _ms(line["95%"]), _ms(line["99%"])))
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(newline="") as handle:
            phase.failures = [(line["Name"], line["Error"], int(line["Occurrences"]))
                              for line in csv.DictReader(handle)]


def _ms(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def _process(pid: int):
    import psutil

    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


# The request log ------------------------------------------------------------------------------------------

def request_lines(log: Path, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dict]]:
    """(time, line) of each JSON request line the site wrote between `start` and `end`; other lines skipped."""
    with log.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.startswith("{") or '"duration_ms"' not in line:
                continue
            try:
                entry = json.loads(line)
                at = dt.datetime.fromisoformat(entry["time"])
            except (ValueError, KeyError):
                continue
            if at.tzinfo is None:
                at = at.replace(tzinfo=dt.UTC)
            if start <= at <= end:
                yield at, entry


def server_figures(log: Path, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Per view, from the JSON lines the site writes for every request: server time and query count."""
    by_view: dict[str, list[tuple[float, int, int]]] = {}
    for _at, entry in request_lines(log, start, end):
        key = f"{entry.get('method', '')} {entry.get('view') or entry.get('route') or '?'}"
        by_view.setdefault(key, []).append((float(entry["duration_ms"]), int(entry.get("queries", 0)),
                                            int(entry.get("status", 0))))
    figures = []
    for key, rows in sorted(by_view.items(), key=lambda item: -len(item[1])):
        durations = sorted(r[0] for r in rows)
        queries = sorted(r[1] for r in rows)
        statuses: dict[int, int] = {}
        for r in rows:
            statuses[r[2]] = statuses.get(r[2], 0) + 1
        figures.append({"view": key, "requests": len(rows), "p50_ms": _pct(durations, 50),
                        "p95_ms": _pct(durations, 95), "queries_median": statistics.median(queries),
                        "queries_max": queries[-1], "statuses": statuses})
    return figures


def steady_rate(log: Path, start: dt.datetime, end: dt.datetime, view: str) -> tuple[float, float]:
    """Requests a second of `view` once every user has signed in (after the phase's last sign-in), and the
    seconds that measure spans: a full-speed phase's own figure, without its ramp of Argon2 sign-ins."""
    signed, hits = start, []
    for at, entry in request_lines(log, start, end):
        if entry.get("view") in ("api-token", "login") and entry.get("method") == "POST":
            signed = max(signed, at)
        elif entry.get("view") == view:
            hits.append(at)
    span = (end - signed).total_seconds()
    count = sum(1 for at in hits if at > signed)
    return (count / span if span > 0 else 0.0), span


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[index]


EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Violation|Timeout)\b: ")


def first_errors(log: Path, limit: int = 5) -> list[str]:
    found = []
    with log.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if EXCEPTION.match(line) or '"levelname": "ERROR"' in line or "[ERROR]" in line or "[CRITICAL]" in line:
                found.append(line.strip()[:400])
                if len(found) >= limit:
                    break
    return found


# The report -----------------------------------------------------------------------------------------------

def _ratio(value: float, base: float) -> float | None:
    return value / base if base else None


def report(args, *, source: str, clone_s: float, plan: dict, mixed: Phase, bare: Phase | None,
           intake: Phase | None, errors: dict[str, list[str]], cores: int) -> str:
    lines = [f"# Load test {dt.datetime.now():%Y-%m-%d %H:%M}", ""]
    lines += [f"- Data: {source}; served from the copy `{args.db_name}` (made in {clone_s:.0f} s) with "
              f"{plan['cases']:,} cases; the largest department `{plan['largest']['code']}` owns "
              f"{plan['largest']['cases']:,}.",
              f"- Servers: gunicorn `deploy/gunicorn.conf.py` ({args.web_workers or 'default'} workers) with "
              f"`bench.load_settings`, a Celery worker (`--queues sweep,mail`) and beat; DEBUG off, HTTPS=false, "
              f"Redis `{args.redis}`; {cores} CPU cores on this machine, shared with locust.",
              f"- Users: {args.users}, spawned at {args.spawn_rate}/s, think time {args.wait} s; sign-in once per user "
              "(reported apart).", ""]
    for phase in [p for p in (mixed, bare, intake) if p is not None]:
        lines += [f"## {phase.title} ({phase.wall:.0f} s)", "",
                  "| page / action | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        signed = [r for r in phase.rows if r.name.startswith(SIGN_IN)]
        for row in [r for r in phase.rows if not r.name.startswith(SIGN_IN)] + signed:
            lines.append(f"| {row.name} | {row.requests:,} | {row.rps:.1f} | {row.p50:.0f} | {row.p95:.0f} | "
                         f"{row.p99:.0f} | {row.failures:,} |")
        total = sum(r.requests for r in phase.rows if not r.name.startswith(SIGN_IN))
        failed = sum(r.failures for r in phase.rows)
        lines += ["", f"{total:,} requests besides sign-in, {failed:,} errors (target 0)."]
        lines += ["", "CPU over the phase (seconds of CPU; average cores busy):", ""]
        for name, seconds in phase.cpu.items():
            lines.append(f"- {name}: {seconds:.0f} s ({seconds / phase.wall:.2f} cores)")
        lines.append(f"- whole machine: {phase.machine_cpu:.0f} s ({phase.machine_cpu / phase.wall:.2f} of {cores} "
                     "cores)")
        if phase.failures:
            lines += ["", "First errors (locust):", ""]
            lines += [f"- {name}: {count} × `{error[:300]}`" for name, error, count in phase.failures[:8]]
        if phase.server:
            lines += ["", "Server side, from the request log (duration_ms and queries of each request):", "",
                      "| method view | requests | p50 ms | p95 ms | queries (median / max) | statuses |",
                      "|---|---:|---:|---:|---:|---|"]
            for fig in phase.server[:16]:
                statuses = ", ".join(f"{code}: {n}" for code, n in sorted(fig["statuses"].items()))
                lines.append(f"| {fig['view']} | {fig['requests']:,} | {fig['p50_ms']:.0f} | {fig['p95_ms']:.0f} | "
                             f"{fig['queries_median']:.0f} / {fig['queries_max']} | {statuses} |")
        lines.append("")
    base = mixed.row("bare view")
    lines += ["## Against the bare view", ""]
    if base:
        lines.append(f"Bare view in the mixed run: p95 {base.p95:.0f} ms, {base.rps:.1f} req/s.")
        lines += ["", "| page | p95 ms | × bare p95 | target |", "|---|---:|---:|---|"]
        for name in COMPARED:
            row = mixed.row(name)
            if row is None:
                continue
            ratio = _ratio(row.p95, base.p95)
            verdict = "" if ratio is None else ("ok" if ratio <= RATIO_TARGET else "MISSED")
            shown = "–" if ratio is None else f"{ratio:.1f}×"
            lines.append(f"| {name} | {row.p95:.0f} | {shown} | ≤ {RATIO_TARGET:.0f}× {verdict} |")
    if bare and intake:
        floor, logged = bare.row("bare view"), intake.row("intake (API)")
        if floor and logged:
            ratio = _ratio(intake.steady[0], bare.steady[0]) or 0.0
            verdict = "ok" if ratio >= THROUGHPUT_TARGET else "MISSED"
            lines += ["", f"Full speed, {args.users} users each, no think time, counted in the request log once "
                          "every user has signed in:", "",
                          "| phase | req/s (steady) | over | locust req/s (whole phase) | p95 ms | errors |",
                          "|---|---:|---:|---:|---:|---:|",
                          f"| bare view only | {bare.steady[0]:.1f} | {bare.steady[1]:.0f} s | {floor.rps:.1f} | "
                          f"{floor.p95:.0f} | {floor.failures} |",
                          f"| intake (API) only | {intake.steady[0]:.1f} | {intake.steady[1]:.0f} s | "
                          f"{logged.rps:.1f} | {logged.p95:.0f} | {logged.failures} |", "",
                          f"Intake / bare = {ratio:.0%} (target ≥ {THROUGHPUT_TARGET:.0%}) {verdict}."]
    for name, found in errors.items():
        if found:
            lines += ["", f"First error lines in the {name} log:", "", *[f"    {line}" for line in found]]
    return "\n".join(lines) + "\n"


# The run --------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = sys.stdout
    sys.path.insert(0, str(ROOT))
    setup_django(args.pg)
    import psutil
    from django.db import connection

    configured = connection.settings_dict["NAME"]
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="cityops-load-"))
    services: list[Service] = []
    cloned = False

    def stop_on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        source = open_source(args, out)
        print(f"Data: {source}", file=out, flush=True)
        connection.close()
        clone_s = clone(args.source_db, args.db_name)
        cloned = True
        print(f"Copied {args.source_db} to {args.db_name} in {clone_s:.0f} s; preparing accounts ...", file=out,
              flush=True)
        use_database(args.db_name)
        plan = prepare(rng)
        connection.close()
        plan_path = work / "plan.json"
        plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")

        env = server_env(args, work, args.db_name)
        flush_redis(args.redis)
        subprocess.run([str(BIN / "python"), "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                       env=env, check=True)
        services = [
            Service("web", [str(BIN / "gunicorn"), "--config", "deploy/gunicorn.conf.py", "cityops.wsgi"],
                    work / "web.log"),
            Service("worker", [str(BIN / "celery"), "--app", "cityops", "worker", "--queues", "sweep,mail",
                               "--loglevel", "INFO"], work / "worker.log"),
            Service("beat", [str(BIN / "celery"), "--app", "cityops", "beat", "--loglevel", "INFO"],
                    work / "beat.log"),
        ]
        for service in services:
            service.start(env)
        wait_ready(args.port, services[0])
        print(f"Serving on http://{LOCAL}:{args.port} (logs in {work})", file=out, flush=True)
        roots = {"web (gunicorn)": _process(services[0].process.pid),
                 "database (postgres, whole server)": postmaster(),
                 "celery worker": _process(services[1].process.pid), "celery beat": _process(services[2].process.pid)}

        mixed = Phase("Mixed run: every role, with the bare view beside them", [], args.minutes * 60, args.wait)
        phases = [mixed]
        bare = intake = None
        if args.phase_seconds:
            bare = Phase("Full speed: bare view only", ["Bare"], args.phase_seconds, "0")
            intake = Phase("Full speed: intake through the API only", ["Clerk"], args.phase_seconds, "0")
            phases += [bare, intake]
        for phase in phases:
            roots_now = {name: root for name, root in roots.items() if root is not None}
            run_locust(phase, args, work=work, plan_path=plan_path, roots=roots_now, out=out)
            phase.server = server_figures(services[0].log, phase.started_utc, phase.ended_utc)
            if phase.classes:
                view = "bench-bare" if phase.classes == ["Bare"] else "api-case-list"
                phase.steady = steady_rate(services[0].log, phase.started_utc, phase.ended_utc, view)
            for service in services:
                if not service.alive():
                    print(f"{service.name} stopped during the run; see {service.log}", file=out)
        errors = {service.name: first_errors(service.log) for service in services}
        text = report(args, source=source, clone_s=clone_s, plan=plan, mixed=mixed, bare=bare, intake=intake,
                      errors=errors, cores=psutil.cpu_count())
        target = args.out or ROOT / "bench" / "results" / f"loadtest-{dt.datetime.now():%Y%m%d-%H%M%S}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(text, file=out)
        print(f"Written to {target}; process logs in {work}", file=out)
        return 0
    finally:
        for service in reversed(services):
            service.stop()
        connection.close()
        if cloned and not args.keep_db:
            drop(args.db_name, configured)
        elif cloned:
            print(f"Kept the copy {args.db_name}", file=out)
        with contextlib.suppress(Exception):
            flush_redis(args.redis)
        if not args.keep_db and os.environ.get("LOADTEST_KEEP_LOGS") != "1":
            # The logs are kept for reading: only the static files and uploads are removed.
            shutil.rmtree(work / "static", ignore_errors=True)
            shutil.rmtree(work / "media", ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
