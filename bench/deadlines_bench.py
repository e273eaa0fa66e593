"""Benchmark (c): the overdue sweep and the heads' overdue desk on a million cases.

On the data set of `deadlines_data` (kept in its own database and reused while its size and day match):

- the sweep `cases.tasks.flag_overdue` run by a real Celery worker on Redis, with the worker's peak memory,
  then `cases.deadlines.flag_overdue()` in this process, timed and with its SQL statements counted, for the
  full backlog, for a tenth of it (the count must not change) and once more with nothing new;
- the overdue desk of the largest department, as its head opens it, at 25 and 100 rows a page;
- on a smaller data set (100,000 cases, 10,000 due), the same work done three ways: a naive per-row job as
  ticket trackers write it, our sweep, and two hand-written statements that are the practical floor. All
  three must leave the same marks and notices.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.deadlines_data import DeadlineCity, DeadlineSpec, build, describe, existing, late_counts, reset, settle
from cases.deadlines import flag_overdue
from cases.desk import desk_cases, desk_consultations
from cases.measures import Window
from cases.models import (
    RUNNING_STATUSES,
    Case,
    Consultation,
    ConsultationStatus,
    DeadlineFlag,
    DeadlineMark,
    MailState,
    Notification,
)
from departments.models import Role, Staff

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

TARGET_GENERATION_S = 300
TARGET_SWEEP_S = 1.5
TARGET_QUIET_S = 0.3
TARGET_WORKER_MB = 200
TARGET_DESK_MS = 100
TARGET_NAIVE_RATIO = 50
TARGET_FLOOR_RATIO = 2

# The worker as `celery -A cityops worker` starts it, with one change: the mail task the sweep queues goes to
# a queue of this run's own, which nobody consumes and which is deleted afterwards, so no other worker on
# the same Redis ever sends this data set's mail (or reads it from the wrong database).
WORKER = """
import sys
from cityops.celery import app
mail_queue, queue, name = sys.argv[1:4]
app.conf.task_routes = {"cases.tasks.send_notification_mail": {"queue": mail_queue}}
app.conf.worker_enable_remote_control = False
app.worker_main(["worker", "--pool=solo", "--loglevel=INFO", "-Q", queue, "-n", name,
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


@dataclass
class Figure:
    """One measured figure, its target and whether it met it (None: for information)."""

    label: str
    value: float | int | str | None
    unit: str = ""
    target: str = ""
    passed: bool | None = None

    def shown(self) -> str:
        if self.value is None:
            return "skipped"
        if isinstance(self.value, float):
            digits = 0 if abs(self.value) >= 100 else 1 if abs(self.value) >= 10 else 2 if abs(self.value) >= 1 else 3
            return f"{self.value:,.{digits}f}{' ' + self.unit if self.unit else ''}"
        if isinstance(self.value, int):
            return f"{self.value:,}{' ' + self.unit if self.unit else ''}"
        return f"{self.value}{' ' + self.unit if self.unit else ''}"

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else "met" if self.passed else "MISSED"


@dataclass
class Report:
    title: str = ""
    sections: list[tuple[str, list[Figure]]] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, section: str, figures: list[Figure]) -> None:
        self.sections.append((section, figures))

    def print(self, out=sys.stdout) -> None:
        print(f"\n{self.title}", file=out)
        for section, figures in self.sections:
            print(f"  {section:<70}{'value':>16}  {'target':<12}{'result'}", file=out)
            for figure in figures:
                print(f"    {figure.label:<68}{figure.shown():>16}  {figure.target:<12}{figure.verdict}", file=out)
        for problem in self.problems:
            print(f"  PROBLEM: {problem}", file=out)

    def as_dict(self) -> dict:
        return {
            "title": self.title,
            "figures": {section: [asdict(f) | {"shown": f.shown()} for f in figures]
                        for section, figures in self.sections},
            "problems": self.problems,
            **self.details,
        }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# The sweep in this process --------------------------------------------------------------------------------

@dataclass
class SweepRun:
    seconds: float
    statements: int
    result: object
    queries: list[dict]


def run_sweep() -> SweepRun:
    """One `flag_overdue()`, timed, with the statements it sent (Django's capture, as the tests count them)."""
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = flag_overdue()
        seconds = time.perf_counter() - started
    return SweepRun(seconds, len(captured), result, list(captured.captured_queries))


def expected_result_problems(city: DeadlineCity, result, *, every: int = 1) -> list[str]:
    """What the first sweep over the data set must report; empty when it did exactly the promised work."""
    spec = city.spec
    if every > 1:
        return [] if 0 < result.cases_overdue < spec.newly_overdue else [
            f"a tenth of the backlog flagged {result.cases_overdue} cases"]
    wanted = {"cases_overdue": spec.newly_overdue, "cases_due_soon": spec.newly_due_soon,
              "consultations_overdue": spec.consultations_newly_overdue,
              "consultations_due_soon": spec.consultations_newly_due_soon,
              "deemed_agreed": spec.consultations_newly_deemed, "cleared": 0}
    return [f"sweep {name} = {getattr(result, name)}, the data set has {value}"
            for name, value in wanted.items() if getattr(result, name) != value]


@dataclass
class SweepFigures:
    runs: list[SweepRun]
    tenth: SweepRun
    quiet: list[SweepRun]
    problems: list[str]

    @property
    def median_s(self) -> float:
        return _median([r.seconds for r in self.runs])

    @property
    def quiet_median_s(self) -> float:
        return _median([r.seconds for r in self.quiet])


def measure_sweep(city: DeadlineCity, *, runs: int = 3) -> SweepFigures:
    """The full backlog `runs` times (reset in between), a tenth of it once, then `runs` sweeps with nothing new."""
    full, problems = [], []
    for _ in range(runs):
        reset(city)
        settle()
        run = run_sweep()
        problems += expected_result_problems(city, run.result)
        full.append(run)
    reset(city, every=10)
    settle()
    tenth = run_sweep()
    problems += expected_result_problems(city, tenth.result, every=10)
    quiet = []
    for _ in range(runs):
        run = run_sweep()
        if run.result.notices or run.result.cases_overdue or run.result.consultations_overdue:
            problems.append(f"a sweep with nothing new still did something: {run.result}")
        quiet.append(run)
    return SweepFigures(full, tenth, quiet, sorted(set(problems)))


def explain_sweep(city: DeadlineCity, queries: list[dict]) -> list[dict]:
    """EXPLAIN ANALYZE each statement of a sweep, replayed in order from the reset state, then rolled back."""
    if connection.vendor != "postgresql":
        return []
    reset(city)
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if ";" in sql.strip().rstrip(";"):
                # Several statements in one (the sweep's lock and settings): EXPLAIN takes one, so these run
                # as they are, leaving the transaction as the sweep had it for the statements after.
                cursor.execute(sql)
                continue
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE", "WITH")):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append({"sql": sql, "seconds": float(query["time"]), "plan": plan})
        transaction.set_rollback(True)
    return plans


# The sweep in a Celery worker -----------------------------------------------------------------------------

@dataclass
class WorkerFigures:
    cold_s: float
    first_s: float
    first_wall_s: float
    quiet_s: float
    peak_mb: float
    idle_mb: float
    log_line: str
    problems: list[str]


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _wait_for(log: Path, pattern: str, *, timeout: float, process: subprocess.Popen) -> re.Match:
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = regex.search(text)
        if found:
            return found
        if process.poll() is not None:
            break
        time.sleep(0.01)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise RuntimeError(f"the worker did not log /{pattern}/ within {timeout:.0f} s:\n{tail}")


def database_url(name: str) -> str:
    """DATABASE_URL pointing at another database on the same server."""
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    return urlunsplit(parts._replace(path=f"/{name}"))


def redis_reachable(url: str) -> str:
    """'' when Redis answers, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001 - any reason Redis is unusable skips the worker part
        return f"{type(error).__name__}: {error}"
    return ""


def _forget_queues(redis_url: str, queues: list[str]) -> None:
    """Delete this run's own queues and kombu's routing entries for them (the mail left there is for nobody).

    Only keys named after these queues are touched: kombu keeps, per exchange (named like its queue here), a
    binding table, a set of its permanent bindings and a member of one shared sorted set of deadlines.
    """
    import redis

    broker = redis.Redis.from_url(redis_url)
    try:
        for name in queues:
            broker.delete(name, f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")
            broker.zrem("_kombu.binding_deadlines", name)
    finally:
        broker.close()


def measure_worker(city: DeadlineCity, *, db_name: str, redis_url: str) -> WorkerFigures:
    """Start a worker on a queue of its own and send it the sweep: once cold (just started), once warm on the
    same backlog, once with nothing new; read its peak memory, stop it."""
    from celery import Celery

    queue = f"bench-deadlines-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    mail_queue = f"{queue}-mail"
    env = os.environ | {"DATABASE_URL": database_url(db_name), "REDIS_URL": redis_url, "DEBUG": "0",
                        "DJANGO_SETTINGS_MODULE": "cityops.settings", "CELERY_TASK_ALWAYS_EAGER": "0"}
    problems = []
    with tempfile.TemporaryDirectory(prefix="cityops-bench-worker-") as scratch:
        log = Path(scratch) / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen([sys.executable, "-c", WORKER, mail_queue, queue, f"{queue}@%h"], cwd=ROOT,
                                      env=env, stdout=out, stderr=subprocess.STDOUT)
        client = Celery("cityops-bench", broker=redis_url)

        def sweep(what: str) -> tuple[float, float, str]:
            """Send the task, wait for the worker to log its end; (task runtime, wall time, its summary)."""
            task_id = str(uuid.uuid4())
            started = time.perf_counter()
            client.send_task("cases.tasks.flag_overdue", queue=queue, task_id=task_id)
            done = _wait_for(log, rf"flag_overdue\[{task_id}\] (succeeded in ([\d.]+)s: (.*)|raised.*)",
                             timeout=600, process=worker)
            wall = time.perf_counter() - started
            if done.group(2) is None:
                raise RuntimeError(f"the {what} sweep failed in the worker: {done.group(0)}")
            return float(done.group(2)), wall, done.group(3).strip("'\"")

        def check(what: str) -> None:
            left = {name: count for name, count in late_counts(city).items() if count}
            if left:
                problems.append(f"after the worker's {what} sweep, still unflagged: {left}")

        try:
            reset(city)
            settle()
            _wait_for(log, r"ready\.", timeout=120, process=worker)
            idle_kb = _status_kb(worker.pid, "VmHWM")
            cold, _wall, _summary = sweep("cold")
            check("cold")
            # A worker in service has swept before: imports done, the calendar built. Same backlog again.
            reset(city)
            settle()
            first, wall, summary = sweep("measured")
            check("measured")
            quiet, _wall, _summary = sweep("second")
            peak_kb = _status_kb(worker.pid, "VmHWM")
        finally:
            client.close()
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            _forget_queues(redis_url, [queue, mail_queue])
    return WorkerFigures(cold_s=cold, first_s=first, first_wall_s=wall, quiet_s=quiet, peak_mb=peak_kb / 1024,
                         idle_mb=idle_kb / 1024, log_line=summary, problems=problems)


# The overdue desk -----------------------------------------------------------------------------------------

@dataclass
class DeskFigures:
    via_view: bool
    medians_ms: dict[int, float]
    queries: dict[int, int]
    rows: dict[str, int]
    slowest: list[dict]


def _desk_selectors(city: DeadlineCity, size: int) -> None:
    """What the desk needs from the database until its view exists: a page of each list and their counts."""
    window = Window.at(timezone.now())
    cases = desk_cases(city.largest_id, window)
    consultations = desk_consultations(city.largest_id, window)
    list(cases.select_related("assignee", "case_type")[:size])
    cases.count()
    list(consultations.select_related("case", "assignee", "requesting_department")[:size])
    consultations.count()


def measure_desk(city: DeadlineCity, *, runs: int = 20) -> DeskFigures:
    """The largest department's desk as its head opens it: the view when it exists, else its selectors."""
    head = get_user_model().objects.get(pk=city.largest_head_id)
    client = Client()
    client.force_login(head)
    url = reverse("overdue-desk")
    via_view = client.get(url, {"page_size": 25}).status_code == 200

    def open_page(size: int) -> Callable[[], None]:
        if not via_view:
            return lambda: _desk_selectors(city, size)

        def call() -> None:
            response = client.get(url, {"page_size": size})
            if response.status_code != 200:
                raise RuntimeError(f"{url}?page_size={size} answered {response.status_code}")
        return call

    medians, queries, slowest = {}, {}, []
    for size in (25, 100):
        call = open_page(size)
        call()  # warm: templates compiled, plans cached, pages in memory
        with CaptureQueriesContext(connection) as captured:
            call()
        queries[size] = len(captured)
        slowest += sorted(({"page_size": size, "sql": q["sql"], "seconds": float(q["time"])}
                           for q in captured.captured_queries), key=lambda q: -q["seconds"])[:2]
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        medians[size] = _median(samples)
    window = Window.at(timezone.now())
    rows = {"cases": desk_cases(city.largest_id, window).count(),
            "consultations": desk_consultations(city.largest_id, window).count()}
    return DeskFigures(via_view, medians, queries, rows, slowest)


def explain_desk(city: DeadlineCity) -> list[dict]:
    if connection.vendor != "postgresql":
        return []
    window = Window.at(timezone.now())
    plans = []
    with connection.cursor() as cursor:
        for label, queryset in (("cases", desk_cases(city.largest_id, window)[:25]),
                                ("consultations", desk_consultations(city.largest_id, window)[:25])):
            sql, params = queryset.query.sql_with_params()
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plans.append({"list": label, "plan": "\n".join(row[0] for row in cursor.fetchall())})
    return plans


# Naive job and floor --------------------------------------------------------------------------------------

def naive_sweep(*, now: dt.datetime | None = None) -> int:
    """The overdue job as common ticket trackers write it: one ORM round trip after another.

    One query lists the due rows (cases whose clock runs, open consultations); then for each row: get its
    mark, check in Python whether it is marked so for its due date, update the mark or create it with its
    own statement, load the assignee, look up the unit's head, and create each notice with its own INSERT.
    Run outside a transaction, as a cron job does, every write commits on its own. It does what our sweep
    does on this data set (marks and notices), nothing more: no events, since our sweep writes none for flags.
    """
    now = now or timezone.now()
    window = Window.at(now)
    flagged = 0
    for case in Case.unscoped.filter(status__in=RUNNING_STATUSES, due_date__lte=window.soon):
        flag = DeadlineFlag.OVERDUE if case.due_date < window.today else DeadlineFlag.DUE_SOON
        if not _naive_mark(flag, case.due_date, now, case=case):
            continue
        _naive_notify(flag, case.assignee, case.owner_id, case_id=case.pk, consultation=None, due=case.due_date,
                      now=now)
        flagged += 1
    for consultation in Consultation.unscoped.filter(status=ConsultationStatus.OPEN, due_date__lte=window.soon):
        flag = DeadlineFlag.OVERDUE if consultation.due_date < window.today else DeadlineFlag.DUE_SOON
        if not _naive_mark(flag, consultation.due_date, now, consultation=consultation):
            continue
        _naive_notify(flag, consultation.assignee, consultation.department_id, case_id=consultation.case_id,
                      consultation=consultation, due=consultation.due_date, now=now)
        flagged += 1
    return flagged


def _naive_mark(flag: str, due: dt.date, now: dt.datetime, **item) -> bool:
    """Mark one item (`case=` or `consultation=`): get its mark, then update it or create it. False when it
    was marked so for this due date already."""
    try:
        mark = DeadlineMark.objects.get(**item)
    except DeadlineMark.DoesNotExist:
        DeadlineMark.objects.create(**item, flag=flag, due_date=due, flagged_at=now)
        return True
    if mark.flag == flag and mark.due_date == due:
        return False
    mark.flag, mark.due_date, mark.flagged_at = flag, due, now
    mark.save()
    return True


def _naive_notify(flag: str, assignee, department_id: int, *, case_id: int, consultation, due: dt.date,
                  now: dt.datetime) -> None:
    recipients = [assignee] if assignee is not None and assignee.is_active else []
    head = (Staff.objects.filter(department_id=department_id, role=Role.HEAD, user__is_active=True)
            .select_related("user").first())
    if head is not None:
        recipients.append(head.user)
    for user in recipients:
        Notification.objects.create(recipient=user, kind=flag, case_id=case_id, consultation=consultation,
                                    on_date=due, created_at=now,
                                    mail_state=MailState.PENDING if user.email else MailState.NONE)


def floor_sweep(*, now: dt.datetime | None = None) -> int:
    """The practical floor for cases: one INSERT … SELECT marks them, one INSERT … SELECT writes their notices.

    Hand-written for exactly this job (cases whose clock runs, due by the end of the due-soon window, with
    no mark yet; a notice to the active assignee and to the owner's active head, mailed when they have an
    address), with none of the sweep's generality: no consultations, no silence rule, no re-marking of a
    mark of the other kind or for another due date, no clearing, no SKIP LOCKED, no advisory lock. The
    comparison data set has nothing of those to do, so both do the same work.
    """
    now = now or timezone.now()
    window = Window.at(now)
    ops = connection.ops
    q = ops.quote_name
    user_model = get_user_model()

    def col(model, name: str) -> str:
        return q(model._meta.get_field(name).column)

    case_t, mark_t, notice_t = q(Case._meta.db_table), q(DeadlineMark._meta.db_table), q(Notification._meta.db_table)
    user_t, staff_t = q(user_model._meta.db_table), q(Staff._meta.db_table)
    case_id, due, status = col(Case, "id"), col(Case, "due_date"), col(Case, "status")
    mark_case, flag, flag_due, flagged_at = (col(DeadlineMark, name) for name in ("case", "flag", "due_date",
                                                                                   "flagged_at"))
    today, soon, moment = ops.adapt_datefield_value(window.today), ops.adapt_datefield_value(window.soon), \
        ops.adapt_datetimefield_value(now)
    mark = (f"INSERT INTO {mark_t} ({mark_case}, {flag}, {flag_due}, {flagged_at}) "
            f"SELECT c.{case_id}, CASE WHEN c.{due} < %s THEN %s ELSE %s END, c.{due}, %s FROM {case_t} c "
            f"WHERE c.{status} IN ({', '.join(['%s'] * len(RUNNING_STATUSES))}) AND c.{due} <= %s "
            f"AND NOT EXISTS (SELECT 1 FROM {mark_t} m WHERE m.{mark_case} = c.{case_id}) "
            f"ON CONFLICT DO NOTHING")
    mark_params = [today, DeadlineFlag.OVERDUE, DeadlineFlag.DUE_SOON, moment, *RUNNING_STATUSES, soon]
    columns = ", ".join(col(Notification, name) for name in ("recipient", "kind", "case", "on_date", "created_at",
                                                            "mail_state"))
    email, active, user_id = col(user_model, "email"), col(user_model, "is_active"), col(user_model, "id")
    mail = f"CASE WHEN u.{email} = '' THEN %s ELSE %s END"
    mail_params = [MailState.NONE, MailState.PENDING]
    marked = f"FROM {mark_t} m JOIN {case_t} c ON c.{case_id} = m.{mark_case}"
    notify = (f"INSERT INTO {notice_t} ({columns}) "
              f"SELECT c.{col(Case, 'assignee')}, m.{flag}, c.{case_id}, m.{flag_due}, %s, {mail} "
              f"{marked} JOIN {user_t} u ON u.{user_id} = c.{col(Case, 'assignee')} "
              f"WHERE m.{flagged_at} = %s AND u.{active} "
              f"UNION ALL "
              f"SELECT s.{col(Staff, 'user')}, m.{flag}, c.{case_id}, m.{flag_due}, %s, {mail} "
              f"{marked} JOIN {staff_t} s ON s.{col(Staff, 'department')} = c.{col(Case, 'owner')} "
              f"AND s.{col(Staff, 'role')} = %s JOIN {user_t} u ON u.{user_id} = s.{col(Staff, 'user')} "
              f"WHERE m.{flagged_at} = %s AND u.{active} "
              f"ON CONFLICT DO NOTHING")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(mark, mark_params)
        flagged = cursor.rowcount
        cursor.execute(notify, [moment, *mail_params, moment, moment, *mail_params, Role.HEAD, moment])
    return flagged


def outcome(city: DeadlineCity) -> tuple[frozenset, frozenset]:
    """What a sweep left: the marks written since the build and the notices, as comparable sets."""
    marks = DeadlineMark.objects.filter(flagged_at__gte=city.generated_at)
    flagged = frozenset(("case", case, flag, due) if case else ("consultation", consultation, flag, due)
                        for case, consultation, flag, due in marks.values_list("case_id", "consultation_id", "flag",
                                                                              "due_date"))
    notices = frozenset(Notification.objects.filter(created_at__gte=city.generated_at).values_list(
        "recipient_id", "kind", "case_id", "consultation_id", "on_date", "mail_state"))
    return flagged, notices


@dataclass
class Comparison:
    naive_s: float
    naive_in_transaction_s: float
    ours_s: float
    floor_s: float
    ours_statements: int
    flagged: int
    notices: int
    agreed: bool

    @property
    def naive_ratio(self) -> float:
        return self.naive_s / self.ours_s

    @property
    def floor_ratio(self) -> float:
        return self.ours_s / self.floor_s


def compare(city: DeadlineCity, *, runs: int = 3) -> Comparison:
    """The same backlog cleared by the naive job, by our sweep and by the floor, from the same state each time."""
    outcomes = {}

    def timed(label: str, job: Callable[[], object]) -> float:
        reset(city)
        settle()
        started = time.perf_counter()
        job()
        seconds = time.perf_counter() - started
        outcomes.setdefault(label, outcome(city))
        return seconds

    naive = timed("naive", naive_sweep)

    def naive_in_transaction() -> None:
        with transaction.atomic():
            naive_sweep()

    naive_tx = timed("naive_tx", naive_in_transaction)
    ours, statements = [], 0
    for _ in range(runs):
        reset(city)
        settle()
        run = run_sweep()
        ours.append(run.seconds)
        statements = run.statements
        outcomes.setdefault("ours", outcome(city))
    floor = [timed("floor", floor_sweep) for _ in range(runs)]
    reset(city)
    reference = outcomes["ours"]
    agreed = all(found == reference for found in outcomes.values()) and bool(reference[0])
    return Comparison(naive_s=naive, naive_in_transaction_s=naive_tx, ours_s=_median(ours), floor_s=_median(floor),
                      ours_statements=statements, flagged=len(reference[0]), notices=len(reference[1]), agreed=agreed)


# The run --------------------------------------------------------------------------------------------------

def open_kept_data_set(name: str, spec, *, rebuild: bool, existing, describe, build, out=sys.stdout):
    """Point the connection at database `name` and return the data set kept there for `spec`, building it when
    needed; `existing`, `describe` and `build` are the data module's (see bench/marker.py)."""
    settings_dict = connection.settings_dict
    settings_dict.setdefault("TEST", {})["NAME"] = name
    if not rebuild:
        # Created if missing, migrated if behind; the rows in it are kept.
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=True)
        city = existing(spec)
        if city is not None:
            return city
        reason = describe(spec)
        print(f"Building the data set in {name}{': ' + reason if reason else ''} ...", file=out, flush=True)
    else:
        print(f"Rebuilding the data set in {name} ...", file=out, flush=True)
    connection.close()  # a session of ours on the database would stop the drop
    with connection._nodb_cursor() as cursor:
        # Dropped here rather than by create_test_db, which reports an existing database as an error first.
        cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return build(spec)


def open_data_set(name: str, spec: DeadlineSpec, *, rebuild: bool, out=sys.stdout) -> DeadlineCity:
    return open_kept_data_set(name, spec, rebuild=rebuild, existing=existing, describe=describe, build=build, out=out)


def _point_back(configured: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = configured
    settings.DATABASES[connection.alias]["NAME"] = configured


def data_figure(city: DeadlineCity) -> Figure:
    how = "reused, built today in" if city.reused else "generated in"
    return Figure(f"data set {how} (COPY, ANALYZE included)", city.build_seconds, "s",
                  f"< {TARGET_GENERATION_S} s", city.build_seconds < TARGET_GENERATION_S)


def sweep_figures(city: DeadlineCity, sweep: SweepFigures, worker: WorkerFigures | None) -> list[Figure]:
    spec = city.spec
    backlog = (f"{spec.newly_overdue:,} cases + {spec.consultations_newly_overdue:,} consultations newly overdue, "
               f"{spec.newly_due_soon + spec.consultations_newly_due_soon:,} due soon, "
               f"{spec.consultations_newly_deemed:,} deemed agreed")
    figures = [Figure(f"backlog: {backlog}", "")]
    if worker is not None:
        figures += [
            Figure("sweep wall time in the Celery worker (task runtime)", worker.first_s, "s",
                   f"<= {TARGET_SWEEP_S} s", worker.first_s <= TARGET_SWEEP_S),
            Figure("  same, from sending the task to its end in the worker's log", worker.first_wall_s, "s"),
            Figure("  the worker's first sweep after it started (cold), same backlog", worker.cold_s, "s"),
            Figure("worker peak memory (VmHWM, whole process)", worker.peak_mb, "MB", f"<= {TARGET_WORKER_MB} MB",
                   worker.peak_mb <= TARGET_WORKER_MB),
            Figure("  worker memory when idle before the sweep (VmHWM)", worker.idle_mb, "MB"),
            Figure("second sweep with nothing new, in the worker", worker.quiet_s, "s", f"<= {TARGET_QUIET_S} s",
                   worker.quiet_s <= TARGET_QUIET_S),
        ]
    else:
        figures.append(Figure("sweep in a Celery worker", None))
    tenth = sweep.tenth
    equal = all(r.statements == sweep.runs[0].statements for r in sweep.runs) and \
        tenth.statements == sweep.runs[0].statements
    figures += [
        Figure(f"sweep wall time in this process, median of {len(sweep.runs)}", sweep.median_s, "s",
               f"<= {TARGET_SWEEP_S} s", sweep.median_s <= TARGET_SWEEP_S),
        Figure(f"statements per sweep: full backlog = a tenth ({tenth.result.cases_overdue:,} cases)",
               f"{sweep.runs[0].statements} = {tenth.statements}", "", "constant", equal),
        Figure(f"second sweep with nothing new, in this process, median of {len(sweep.quiet)}",
               sweep.quiet_median_s, "s", f"<= {TARGET_QUIET_S} s", sweep.quiet_median_s <= TARGET_QUIET_S),
        Figure("  its statements", sweep.quiet[0].statements),
    ]
    return figures


def desk_figures(desk: DeskFigures, runs: int) -> list[Figure]:
    how = "view GET /overdue/" if desk.via_view else "selectors (the view is not written yet)"
    figures = [Figure(f"{how}: {desk.rows['cases']:,} cases, {desk.rows['consultations']:,} consultations listed", "")]
    for size in (25, 100):
        figures.append(Figure(f"{size} rows a page: server time, median of {runs}", desk.medians_ms[size], "ms",
                              f"<= {TARGET_DESK_MS} ms", desk.medians_ms[size] <= TARGET_DESK_MS))
    figures.append(Figure("queries for 25 rows a page = for 100", f"{desk.queries[25]} = {desk.queries[100]}", "",
                          "equal", desk.queries[25] == desk.queries[100]))
    return figures


def comparison_figures(result: Comparison, runs: int) -> list[Figure]:
    return [
        Figure(f"wrote {result.flagged:,} marks and {result.notices:,} notices; all three agree",
               "yes" if result.agreed else "NO", "", "agree", result.agreed),
        Figure("naive per-row job, autocommit (as trackers run it)", result.naive_s, "s"),
        Figure("naive per-row job inside one transaction", result.naive_in_transaction_s, "s"),
        Figure(f"our sweep flag_overdue(), median of {runs} ({result.ours_statements} statements)", result.ours_s,
               "s"),
        Figure(f"floor: two INSERT … SELECT (marks, notices), median of {runs}", result.floor_s, "s"),
        Figure("naive (autocommit) / ours", result.naive_ratio, "×", f">= {TARGET_NAIVE_RATIO}×",
               result.naive_ratio >= TARGET_NAIVE_RATIO),
        Figure("  naive in one transaction / ours", result.naive_in_transaction_s / result.ours_s, "×"),
        Figure("ours / floor", result.floor_ratio, "×", f"<= {TARGET_FLOOR_RATIO}×",
               result.floor_ratio <= TARGET_FLOOR_RATIO),
    ]


def run_deadlines(args, *, on_open: Callable[[], None] | None = None, out=sys.stdout) -> Report:
    """The whole benchmark on PostgreSQL, as `bench/run.py --only deadlines` runs it.

    `on_open` is called once the data set's database is open (run.py prints its header line there).
    """
    configured = connection.settings_dict["NAME"]
    report = Report()
    try:
        spec = DeadlineSpec.sized(args.cases, args.consultations, newly_overdue=args.newly_overdue, seed=args.seed)
        city = open_data_set(args.deadlines_db_name, spec, rebuild=args.rebuild, out=out)
        if on_open is not None:
            on_open()
        report.title = (f"Deadlines: {spec.cases:,} cases, {spec.consultations:,} consultations "
                        f"in {args.deadlines_db_name}")
        report.details["data_set"] = asdict(spec) | {"database": args.deadlines_db_name, "built_on": str(city.today),
                                                     "reused": city.reused, "counts": city.counts}
        report.add("Data", [data_figure(city)])
        reset(city)
        settle()
        before = late_counts(city)
        wanted = {"cases_newly_overdue": spec.newly_overdue, "cases_newly_due_soon": spec.newly_due_soon,
                  "consultations_newly_deemed": spec.consultations_newly_deemed,
                  "consultations_newly_overdue": spec.consultations_newly_overdue,
                  "consultations_newly_due_soon": spec.consultations_newly_due_soon}
        if before != wanted:
            report.problems.append(f"the data set holds {before}, not {wanted}")

        worker = None
        if args.no_worker:
            print("Skipping the Celery worker (--no-worker).", file=out)
        elif why := redis_reachable(args.redis_url):
            print(f"Skipping the Celery worker: Redis at {args.redis_url} does not answer ({why}).", file=out)
        else:
            print("Sweep in a Celery worker ...", file=out, flush=True)
            worker = measure_worker(city, db_name=args.deadlines_db_name, redis_url=args.redis_url)
            report.problems += worker.problems
            report.details["worker"] = asdict(worker)
        print("Sweep in this process ...", file=out, flush=True)
        sweep = measure_sweep(city, runs=args.sweep_runs)
        report.problems += sweep.problems
        report.add("Overdue sweep", sweep_figures(city, sweep, worker))
        slowest = sorted(sweep.runs[-1].queries, key=lambda q: -float(q["time"]))
        report.details["sweep"] = {
            "seconds": [r.seconds for r in sweep.runs], "statements": sweep.runs[0].statements,
            "tenth_statements": sweep.tenth.statements, "quiet_seconds": [r.seconds for r in sweep.quiet],
            "quiet_statements": sweep.quiet[0].statements, "result": str(sweep.runs[0].result),
            "statements_by_time": [{"seconds": float(q["time"]), "sql": q["sql"]} for q in slowest],
        }
        report.details["sweep"]["plans"] = explain_sweep(city, sweep.runs[-1].queries)
        reset(city)
        settle()

        print("Overdue desk ...", file=out, flush=True)
        desk = measure_desk(city, runs=args.desk_runs)
        report.add(f"Overdue desk of the largest department ({city.counts.get('largest_cases', 0):,} cases owned)",
                   desk_figures(desk, args.desk_runs))
        report.details["desk"] = asdict(desk) | {"plans": explain_desk(city)}

        if args.compare_cases:
            print(f"Comparison on {args.compare_cases:,} cases ...", file=out, flush=True)
            small_spec = DeadlineSpec.sized(args.compare_cases, args.compare_cases // 5,
                                            newly_overdue=args.compare_due, only_cases_overdue=True, seed=args.seed)
            small = open_data_set(f"{args.deadlines_db_name}_small", small_spec, rebuild=args.rebuild, out=out)
            result = compare(small, runs=args.sweep_runs)
            report.add(f"Naive job vs our sweep vs floor: {small_spec.cases:,} cases, {small_spec.newly_overdue:,} due",
                       comparison_figures(result, args.sweep_runs))
            report.details["comparison"] = asdict(result) | {"data_set": asdict(small_spec),
                                                             "built_seconds": small.build_seconds}
            if not result.agreed:
                report.problems.append("the naive job, our sweep and the floor did not leave the same marks and "
                                       "notices")
    finally:
        _point_back(configured)
    return report


def print_plans(report: Report, out=sys.stdout) -> None:
    """The plans behind a missed target: the sweep's two slowest statements, or the desk's lists."""
    missed = {figure.label for _, figures in report.sections for figure in figures if figure.passed is False}
    if any("sweep" in label for label in missed):
        plans = sorted(report.details.get("sweep", {}).get("plans", []), key=lambda p: -p["seconds"])[:2]
        for plan in plans:
            print(f"\nEXPLAIN ANALYZE ({plan['seconds'] * 1000:.0f} ms in the sweep):\n{plan['sql']}\n{plan['plan']}",
                  file=out)
    if any("rows a page" in label for label in missed):
        for plan in report.details.get("desk", {}).get("plans", []):
            print(f"\nEXPLAIN ANALYZE desk {plan['list']}:\n{plan['plan']}", file=out)


def write_json(report: Report, path: Path | None = None) -> Path:
    path = path or RESULTS / f"deadlines-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.as_dict(), indent=2, default=str, ensure_ascii=False))
    return path
