"""Benchmark (d): the staff performance report over a million cases (target ≤ 2 s).

On the data set of `staff_report_data` (kept in its own database and reused while its spec, the migrations
and the day match):

- `oversight.staff_figures.staff_figures()` for the whole city (every unit, no department filter), for the
  last 90 days and the last year: the median of several runs, its SQL statements counted the way the tests
  count them (Django's CaptureQueriesContext), the Python memory it allocates at its peak, and each
  statement replayed under EXPLAIN (ANALYZE, BUFFERS);
- the page itself, GET /oversight/staff-report/ for the same periods, as a Home Affairs user through
  Django's test client: server time and query count. If the view answers anything but 200, the output says
  so and only the function is timed;
- the same function and page on a small data set (`--staff-small-cases`), where the statement counts must
  be the same: the report's cost in queries does not grow with the cases.

The report's totals over all people are also checked against the generator's own account of the rows it
wrote, so a fast report that counts the wrong rows does not pass.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.deadlines_bench import (
    RESULTS,
    TARGET_GENERATION_S,
    Figure,
    Report,
    _median,
    _point_back,
    _status_kb,
    open_kept_data_set,
    write_json,
)
from bench.staff_report_data import StaffCity, StaffSpec, build, describe, existing
from departments.workdays import local_date
from oversight.staff_figures import Period, staff_figures

TARGET_REPORT_S = 2.0
# The periods measured: the report's default (the last 90 days) and the longest a reader would usually ask for.
PERIOD_DAYS = {"90 days": 90, "one year": 365}


def periods(today: dt.date) -> dict[str, Period]:
    return {label: Period(today - dt.timedelta(days=days - 1), today) for label, days in PERIOD_DAYS.items()}


def _statement(sql: str) -> bool:
    """A data statement EXPLAIN can replay (not a savepoint or a transaction's edge)."""
    return sql.lstrip().upper().startswith(("SELECT", "WITH"))


# The function ---------------------------------------------------------------------------------------------

def report_totals(people) -> dict[str, int]:
    """What the report says over all people, in the terms of StaffCity.expected."""
    return {
        "handled": sum(p.handled for p in people), "rated": sum(p.rated for p in people),
        "handled_late": sum(p.handled_late for p in people), "late_returns": sum(p.late_returns for p in people),
        "refusals": sum(p.refusals for p in people), "late_consultations": sum(p.late_consultations for p in people),
        "overdue": sum(p.overdue for p in people),
    }


@dataclass
class FunctionFigures:
    seconds: list[float]
    statements: int
    queries: list[dict]
    people: int
    needs_review: int
    commendable: int
    totals: dict[str, int]
    peak_mb: float

    @property
    def median_s(self) -> float:
        return _median(self.seconds)


def measure_function(period: Period, *, today: dt.date, runs: int = 5) -> FunctionFigures:
    """One counted run (which also warms the caches), `runs` timed ones, and one under tracemalloc."""
    with CaptureQueriesContext(connection) as captured:
        people = staff_figures(period=period, today=today)
    queries = list(captured.captured_queries)  # read now: the capture is a view of the connection's log
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        staff_figures(period=period, today=today)
        seconds.append(time.perf_counter() - started)
    # Apart from the timed runs: tracing every allocation slows Python down several times.
    tracemalloc.start()
    try:
        staff_figures(period=period, today=today)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return FunctionFigures(
        seconds=seconds, statements=len(queries), queries=queries, people=len(people),
        needs_review=sum(1 for p in people if p.review_reasons), commendable=sum(1 for p in people if p.commendable),
        totals=report_totals(people), peak_mb=peak / 2**20)


def explain(queries: list[dict]) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of each data statement, in a transaction rolled back (PostgreSQL only).

    `queries` as Django captures them (`sql`, `time`) or as the page's figures keep them (`sql`, `seconds`).
    """
    if connection.vendor != "postgresql":
        return []
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not _statement(sql):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            seconds = float(query["time"] if "time" in query else query["seconds"])
            plans.append({"sql": sql, "seconds": seconds, "plan": plan})
        transaction.set_rollback(True)
    return plans


# The page -------------------------------------------------------------------------------------------------

@dataclass
class PageFigures:
    status: int
    via_view: bool
    milliseconds: list[float] = field(default_factory=list)
    queries: int = 0
    statements: list[dict] = field(default_factory=list)
    peak_mb: float = 0.0
    size_kb: float = 0.0

    @property
    def median_ms(self) -> float:
        return _median(self.milliseconds)


def measure_page(city: StaffCity, period: Period, *, runs: int = 5, url: str | None = None) -> PageFigures:
    """GET the staff report for `period` as the Home Affairs reader; only when it answers 200 is it timed."""
    reader = get_user_model().objects.get(pk=city.reader_id)
    client = Client()
    client.force_login(reader)
    url = url or reverse("staff-report")
    params = {"from": period.since.isoformat(), "to": period.until.isoformat()}
    first = client.get(url, params)  # also the warm-up: templates compiled, the session row read once
    if first.status_code != 200:
        return PageFigures(status=first.status_code, via_view=False)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    # Read now: the capture is a view of the connection's log, which the next request clears.
    statements = sorted(({"sql": q["sql"], "seconds": float(q["time"])} for q in captured.captured_queries),
                        key=lambda q: -q["seconds"])
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, params)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code} after answering 200")
    tracemalloc.start()
    try:
        client.get(url, params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return PageFigures(status=200, via_view=True, milliseconds=samples, queries=len(statements),
                       statements=statements, peak_mb=peak / 2**20, size_kb=len(response.content) / 1024)


# The run --------------------------------------------------------------------------------------------------

def open_data_set(name: str, spec: StaffSpec, *, rebuild: bool, out=sys.stdout) -> StaffCity:
    """This data set's database, reused or built the deadline benchmark's way."""
    return open_kept_data_set(name, spec, rebuild=rebuild, existing=existing, describe=describe, build=build, out=out)


def total_problems(city: StaffCity, period: Period, totals: dict[str, int]) -> list[str]:
    """Where the report's totals differ from what the generator wrote, or where a figure has nothing to count."""
    expected = city.expected(period.since, period.until)
    problems = [f"{period.since}..{period.until}: the report counts {name} = {totals[name]:,}, the data set has "
                f"{expected[name]:,}" for name in expected if totals[name] != expected[name]]
    problems += [f"{period.since}..{period.until}: no {name} in the data set; that figure is not exercised"
                 for name in expected if not expected[name]]
    return problems


def data_figures(city: StaffCity) -> list[Figure]:
    how = "reused, built today in" if city.reused else "generated in"
    counts = city.counts
    return [
        Figure(f"data set {how} (COPY, indexes, VACUUM ANALYZE included)", city.build_seconds, "s",
               f"< {TARGET_GENERATION_S} s", city.build_seconds < TARGET_GENERATION_S),
        Figure(f"  {counts.get('people', 0):,} people; {counts.get('cases', 0):,} cases, "
               f"{counts.get('consultations', 0):,} consultations, {counts.get('returns', 0):,} returns, "
               f"{counts.get('events', 0):,} events", ""),
    ]


def function_figures(label: str, period: Period, big: FunctionFigures, small: FunctionFigures | None,
                     small_cases: int) -> list[Figure]:
    totals = big.totals
    figures = [
        Figure(f"{label} ({period.since} .. {period.until}): {totals['handled']:,} handled "
               f"({totals['handled_late']:,} late), {totals['overdue']:,} overdue now, {totals['late_returns']:,} "
               f"late returns, {totals['refusals']:,} refusals, {totals['late_consultations']:,} late answers", ""),
        Figure(f"  {label}: wall time, median of {len(big.seconds)}", big.median_s, "s", f"<= {TARGET_REPORT_S:g} s",
               big.median_s <= TARGET_REPORT_S),
    ]
    if small is not None:
        figures.append(Figure(f"  {label}: statements, this set = the {small_cases:,}-case set",
                              f"{big.statements} = {small.statements}", "", "constant",
                              big.statements == small.statements))
    else:
        figures.append(Figure(f"  {label}: statements", big.statements))
    figures += [
        Figure(f"  {big.people:,} people listed, {big.needs_review:,} need review, {big.commendable:,} to commend",
               ""),
        Figure("  Python memory at its peak (tracemalloc)", big.peak_mb, "MB"),
    ]
    return figures


def page_figures(label: str, big: PageFigures, small: PageFigures | None, small_cases: int) -> list[Figure]:
    if not big.via_view:
        return [Figure(f"{label}: the view answered {big.status}"
                       f"{' (not written yet)' if big.status == 404 else ''}; only the function is timed", None)]
    figures = [Figure(f"{label}: server time, median of {len(big.milliseconds)} ({big.size_kb:,.0f} kB of HTML)",
                      big.median_ms / 1000, "s", f"<= {TARGET_REPORT_S:g} s",
                      big.median_ms / 1000 <= TARGET_REPORT_S)]
    if small is not None and small.via_view:
        figures.append(Figure(f"  {label}: queries, this set = the {small_cases:,}-case set",
                              f"{big.queries} = {small.queries}", "", "constant", big.queries == small.queries))
    else:
        figures.append(Figure(f"  {label}: queries", big.queries))
    figures.append(Figure("  Python memory at its peak (tracemalloc)", big.peak_mb, "MB"))
    return figures


def run_staff_report(args, *, on_open=None, out=sys.stdout) -> Report:
    """The whole benchmark on PostgreSQL, as `bench/run.py --only staff` runs it."""
    configured = connection.settings_dict["NAME"]
    report = Report()
    report.details["load_average_at_start"] = os.getloadavg()
    try:
        small_spec = StaffSpec(cases=args.staff_small_cases, seed=args.seed)
        small_city = open_data_set(f"{args.staff_db_name}_small", small_spec, rebuild=args.rebuild, out=out)
        today = local_date(timezone.now())
        small_functions = {label: measure_function(period, today=today, runs=1)
                           for label, period in periods(today).items()}
        small_pages = {label: measure_page(small_city, period, runs=1) for label, period in periods(today).items()}
        for label, period in periods(today).items():
            report.problems += [f"small set: {problem}"
                                for problem in total_problems(small_city, period, small_functions[label].totals)]

        spec = StaffSpec(cases=args.staff_cases, seed=args.seed)
        city = open_data_set(args.staff_db_name, spec, rebuild=args.rebuild, out=out)
        if on_open is not None:
            on_open()
        report.title = f"Staff report: {spec.cases:,} cases in {args.staff_db_name}"
        report.details["data_set"] = asdict(spec) | {"database": args.staff_db_name, "built_on": str(city.today),
                                                     "reused": city.reused, "counts": city.counts,
                                                     "small_cases": small_spec.cases}
        report.add("Data", data_figures(city))
        for problem_city, label in ((small_city, "small"), (city, "1M")):
            if problem_city.today != today:
                report.problems.append(f"the {label} data set was built for {problem_city.today}, today is {today}")

        functions = {}
        print("staff_figures() ...", file=out, flush=True)
        figures = []
        for label, period in periods(today).items():
            measured = functions[label] = measure_function(period, today=today, runs=args.staff_runs)
            report.problems += total_problems(city, period, measured.totals)
            figures += function_figures(label, period, measured, small_functions[label], small_spec.cases)
        report.add("staff_figures() for the whole city (every unit)", figures)
        report.details["function"] = {
            label: {"period": [str(periods(today)[label].since), str(today)], "seconds": f.seconds,
                    "statements": f.statements, "small_statements": small_functions[label].statements,
                    "people": f.people, "needs_review": f.needs_review, "commendable": f.commendable,
                    "totals": f.totals, "peak_mb": f.peak_mb,
                    "statements_by_time": sorted(({"seconds": float(q["time"]), "sql": q["sql"]} for q in f.queries),
                                                 key=lambda q: -q["seconds"]),
                    "plans": explain(f.queries)}
            for label, f in functions.items()}

        print("GET /oversight/staff-report/ ...", file=out, flush=True)
        figures = []
        pages = {}
        for label, period in periods(today).items():
            pages[label] = measure_page(city, period, runs=args.page_runs)
            figures += page_figures(label, pages[label], small_pages[label], small_spec.cases)
        report.add("The page, GET /oversight/staff-report/ as Home Affairs (Django test client)", figures)
        report.details["page"] = {
            label: asdict(page) | {"small_queries": small_pages[label].queries,
                                   "plans": explain(page.statements) if page.via_view else []}
            for label, page in pages.items()}
    finally:
        _point_back(configured)
    report.details["load_average_at_end"] = os.getloadavg()
    peak_mb = _status_kb(os.getpid(), "VmHWM") / 1024
    report.details["process_peak_mb"] = peak_mb
    built = "" if city.reused and small_city.reused else ", data set builds included"
    report.add("This process", [Figure(f"peak memory (VmHWM){built}", peak_mb, "MB")])
    return report


def print_load(report: Report, out=sys.stdout) -> None:
    start, end = report.details.get("load_average_at_start"), report.details.get("load_average_at_end")
    if start and end:
        print(f"  load average (1, 5, 15 min) at start {' '.join(f'{x:.2f}' for x in start)}, "
              f"at end {' '.join(f'{x:.2f}' for x in end)}; {os.cpu_count()} CPUs", file=out)


def print_plans(report: Report, out=sys.stdout) -> None:
    """The plans behind a missed target: the two slowest statements of each period that missed it."""
    missed = [figure.label for _, figures in report.sections for figure in figures if figure.passed is False]
    for label, measured in report.details.get("function", {}).items():
        if not any(label in text for text in missed):
            continue
        for plan in sorted(measured["plans"], key=lambda p: -p["seconds"])[:2]:
            print(f"\nEXPLAIN ANALYZE, {label} ({plan['seconds'] * 1000:.0f} ms in the report):\n{plan['sql']}\n"
                  f"{plan['plan']}", file=out)


def write_results(report: Report) -> object:
    return write_json(report, RESULTS / f"staff-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.json")
