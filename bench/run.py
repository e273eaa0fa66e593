"""Run the CityOps benchmarks and print a plain table: `make bench` or `.venv/bin/python bench/run.py --help`.

Routing and intake build their own data set in a dedicated database (default `cityops_bench` on the server
named by DATABASE_URL; a temporary file on SQLite), which is dropped and created anew each run and dropped at
the end. The deadline benchmark keeps its million cases in `cityops_bench_deadlines` (and a smaller set in
`cityops_bench_deadlines_small`) and reuses them the same day, as the staff report benchmark does in
`cityops_bench_staff` (and `cityops_bench_staff_small`); `--rebuild` builds them again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TARGET_MEDIAN_US = 200
TARGET_PUBSUB_MEDIAN_US = 50


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["routing", "intake", "deadlines", "staff"],
                        help="run one benchmark (default: all four)")
    parser.add_argument("--rules", type=int, default=5000, help="active authority rules (default 5000)")
    parser.add_argument("--case-types", type=int, default=50)
    parser.add_argument("--localities", type=int, default=100)
    parser.add_argument("--samples", type=int, default=20000, help="routed cases timed (default 20000)")
    parser.add_argument("--warmup", type=int, default=2000, help="routed cases before timing (default 2000)")
    parser.add_argument("--intake", type=int, default=10000, help="cases logged through case_create (default 10000)")
    parser.add_argument("--seed", type=int, default=966)
    parser.add_argument("--db-name", default="cityops_bench",
                        help="dedicated PostgreSQL database, dropped and recreated (default cityops_bench)")
    parser.add_argument("--keep-db", action="store_true", help="leave the dedicated database for inspection")
    parser.add_argument("--allow-sqlite", action="store_true",
                        help="run the intake benchmark on SQLite too (its figures say little about production)")
    deadlines = parser.add_argument_group("deadlines (PostgreSQL only; see bench/README.md)")
    deadlines.add_argument("--cases", type=int, default=1_000_000, help="cases in the data set (default 1000000)")
    deadlines.add_argument("--consultations", type=int, default=200_000, help="consultations (default 200000)")
    deadlines.add_argument("--newly-overdue", type=int, default=10_000,
                           help="cases past due, clock running, that no sweep has flagged yet (default 10000)")
    deadlines.add_argument("--rebuild", action="store_true", help="build the data sets again even if they exist")
    deadlines.add_argument("--compare-cases", type=int, default=100_000,
                           help="cases in the naive-job comparison (default 100000; 0 skips it)")
    deadlines.add_argument("--compare-due", type=int, default=10_000, help="of those, newly overdue (default 10000)")
    deadlines.add_argument("--sweep-runs", type=int, default=3, help="timed sweeps per figure (default 3)")
    deadlines.add_argument("--desk-runs", type=int, default=20, help="timed desk requests per page size (default 20)")
    deadlines.add_argument("--deadlines-db-name", default="cityops_bench_deadlines",
                           help="database kept for the data set (default cityops_bench_deadlines; the comparison "
                                "uses <name>_small)")
    deadlines.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
                           help="broker for the worker (default REDIS_URL, else redis://127.0.0.1:6379/0)")
    deadlines.add_argument("--no-worker", action="store_true", help="skip the sweep in a Celery worker")
    staff = parser.add_argument_group("staff report (PostgreSQL only; see bench/README.md; --rebuild and --seed apply)")
    staff.add_argument("--staff-cases", type=int, default=1_000_000, help="cases in the data set (default 1000000)")
    staff.add_argument("--staff-small-cases", type=int, default=10_000,
                       help="cases in the comparison set, whose query counts must be the same (default 10000)")
    staff.add_argument("--staff-runs", type=int, default=5, help="timed staff_figures() runs per period (default 5)")
    staff.add_argument("--page-runs", type=int, default=5, help="timed page requests per period (default 5)")
    staff.add_argument("--staff-db-name", default="cityops_bench_staff",
                       help="database kept for the data set (default cityops_bench_staff; the comparison set uses "
                            "<name>_small)")
    default_json = RESULTS / f"bench-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.json"
    parser.add_argument("--json", type=Path, nargs="?", const=default_json,
                        help="also write the figures as JSON (default file: bench/results/bench-<time>.json)")
    args = parser.parse_args(argv)
    if min(args.rules, args.case_types, args.localities, args.samples) < 1 or args.warmup < 0 or args.intake < 1:
        parser.error("sizes must be positive")
    if min(args.cases, args.consultations, args.newly_overdue, args.sweep_runs, args.desk_runs) < 1 \
            or args.compare_cases < 0 or args.compare_due < 1:
        parser.error("sizes must be positive")
    if args.deadlines_db_name == args.db_name:
        parser.error("--deadlines-db-name must differ from --db-name, which is dropped at the end of each run")
    if min(args.staff_cases, args.staff_small_cases) < 100 or min(args.staff_runs, args.page_runs) < 1:
        parser.error("the staff report's data sets need at least 100 cases, and at least one run each")
    kept = {args.db_name, args.deadlines_db_name, f"{args.deadlines_db_name}_small"}
    if {args.staff_db_name, f"{args.staff_db_name}_small"} & kept:
        parser.error("--staff-db-name must differ from --db-name and from the deadline benchmark's databases")
    return args


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")
    # With DEBUG on, Django keeps every query in memory: that would be measured too.
    os.environ["DEBUG"] = "0"
    # Off, DEBUG asks for a real key; a benchmark signs nothing anyone keeps. Plain HTTP on the loopback.
    os.environ.setdefault("SECRET_KEY", "cityops-bench-only-key")
    os.environ.setdefault("HTTPS", "false")
    # The data sets receive cases on fixed past days, as an admin's catch-up intake would.
    os.environ.setdefault("MAX_BACKDATE_DAYS", "36500")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def open_dedicated_database(args) -> tuple[str, str | None]:
    """Point the default connection at a fresh, migrated database; returns what `close` needs."""
    from django.db import connection

    settings_dict = connection.settings_dict
    scratch = None
    if connection.vendor == "sqlite":
        scratch = tempfile.mkdtemp(prefix="cityops-bench-")
        name = str(Path(scratch) / "bench.sqlite3")
    else:
        name = args.db_name
        if name == settings_dict["NAME"] and "bench" not in name:
            sys.exit(f"--db-name {name} is the database DATABASE_URL names; the bench drops it, so choose another.")
    settings_dict.setdefault("TEST", {})["NAME"] = name
    configured = settings_dict["NAME"]
    # The test runner's own machinery: drop-if-exists, create, migrate, and switch the connection.
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return configured, scratch


def close_dedicated_database(configured: str, scratch: str | None, *, keep: bool) -> None:
    import shutil

    from django.db import connection

    if keep:
        print(f"Kept the benchmark database {connection.settings_dict['NAME']}")
        return
    connection.creation.destroy_test_db(configured, verbosity=0)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)


def database_label() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def print_routing(result) -> None:
    rows = [
        ("RoutingIndex.decide (in memory)", result.index),
        ("get_index() + decide (generation check)", result.get_index),
        *([("get_index() + decide (pub/sub, no query)", result.get_index_pubsub)] if result.get_index_pubsub else []),
        ("naive: one ORM query per case", result.naive),
    ]
    title = f"Routing, {result.compared} cases after warm-up"
    print(f"\n{title:<46}{'median µs':>10} {'p95 µs':>10} {'mean µs':>10}")
    for label, summary in rows:
        print(f"  {label:<44}{summary.median_us:>10.1f} {summary.p95_us:>10.1f} {summary.mean_us:>10.1f}")
    mix = ", ".join(f"{name} {count}" for name, count in result.outcomes.items())
    print(f"  agreement naive = index: {result.agreed} of {result.compared} ({mix})")
    verdict = "met" if result.index.median_us <= TARGET_MEDIAN_US else "MISSED"
    print(f"  target: index median <= {TARGET_MEDIAN_US} µs: {verdict}; "
          f"naive / index median = {result.naive.median_us / result.index.median_us:.0f}x")
    if result.get_index_pubsub is None:
        print("  get_index() with pub/sub: not measured (no REDIS_URL, or no subscription within 5 s)")
    else:
        verdict = "met" if result.get_index_pubsub.median_us <= TARGET_PUBSUB_MEDIAN_US else "MISSED"
        print(f"  target: get_index() + decide with pub/sub median <= {TARGET_PUBSUB_MEDIAN_US} µs: {verdict}; "
              f"generation check / pub/sub median = "
              f"{result.get_index.median_us / result.get_index_pubsub.median_us:.0f}x")
    for case, ours, naive in result.disagreements[:5]:
        print(f"  DISAGREE {case}: index {ours} naive {naive}")


def print_intake(result) -> None:
    print(f"\n{'Intake through case_create':<46}{'cases':>8} {'total s':>9} {'cases/s':>9} {'median ms':>10} "
          f"{'p95 ms':>8}")
    print(f"  {'':<44}{result.cases:>8} {result.total_s:>9.2f} {result.cases_per_s:>9.1f} "
          f"{result.per_case.median_us / 1000:>10.2f} {result.per_case.p95_us / 1000:>8.2f}")
    statuses = ", ".join(f"{status} {count}" for status, count in result.by_status.items())
    print(f"  {statuses}; {result.events} events written")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from bench.dataset import CitySpec, build_city, case_inputs
    from departments.workdays import local_date

    if connection.vendor == "sqlite" and args.only in ("deadlines", "staff"):
        print(f"The {'deadline' if args.only == 'deadlines' else 'staff report'} benchmark loads a million cases "
              "with PostgreSQL's COPY and needs PostgreSQL.\n"
              "Set DATABASE_URL=postgres://USER@HOST:PORT/DB (it uses its own databases on that server).",
              file=sys.stderr)
        return 2
    if connection.vendor == "sqlite" and args.only != "routing" and not args.allow_sqlite:
        print("The intake benchmark measures PostgreSQL, production's database, and DATABASE_URL names SQLite.\n"
              "Set DATABASE_URL=postgres://USER@HOST:PORT/DB (the bench uses its own database on that server),\n"
              "or pass --only routing, or --allow-sqlite to measure SQLite anyway.", file=sys.stderr)
        return 2

    def print_header() -> None:
        print(f"CityOps benchmarks: {database_label()}, Python {platform.python_version()}, "
              f"{os.cpu_count()} CPUs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")

    figures: dict = {}
    disagreements = 0
    if args.only in (None, "routing", "intake"):
        configured, scratch = open_dedicated_database(args)
        try:
            spec = CitySpec(rules=args.rules, case_types=args.case_types, localities=args.localities, seed=args.seed)
            city = build_city(spec, today=local_date(timezone.now()))
            print_header()
            print(f"Data set: {city.active_rules} active rules (+{spec.rules // 50} inactive), {spec.case_types} "
                  f"case types, {spec.localities} localities")
            figures["data_set"] = asdict(spec) | {"active_rules": city.active_rules, "database": database_label()}
            if args.only in (None, "routing"):
                from bench.routing_bench import run_routing

                samples = case_inputs(city, args.warmup + args.samples, seed=args.seed + 1)
                routing = run_routing(samples[args.warmup:], warm_inputs=samples[:args.warmup])
                print(f"Index of {routing.rules_in_index} rules built in {routing.build_ms:.1f} ms")
                print_routing(routing)
                disagreements = len(routing.disagreements)
                figures["routing"] = {
                    "index": routing.index.as_dict(), "get_index": routing.get_index.as_dict(),
                    "get_index_pubsub": routing.get_index_pubsub.as_dict() if routing.get_index_pubsub else None,
                    "naive": routing.naive.as_dict(), "agreed": routing.agreed, "compared": routing.compared,
                    "outcomes": routing.outcomes, "build_ms": routing.build_ms,
                }
            if args.only in (None, "intake"):
                from bench.intake_bench import run_intake

                intake = run_intake(city, case_inputs(city, args.intake, seed=args.seed + 2))
                print_intake(intake)
                figures["intake"] = {"cases": intake.cases, "total_s": intake.total_s,
                                     "cases_per_s": intake.cases_per_s, "per_case": intake.per_case.as_dict(),
                                     "by_status": intake.by_status}
        finally:
            close_dedicated_database(configured, scratch, keep=args.keep_db)

    if args.only in (None, "deadlines"):
        if connection.vendor == "postgresql":
            from bench.deadlines_bench import print_plans, run_deadlines, write_json

            report = run_deadlines(args, on_open=print_header if args.only == "deadlines" else None)
            report.print()
            print_plans(report)
            print(f"\nDeadline figures written to {write_json(report)}")
            figures["deadlines"] = report.as_dict()
            disagreements += len(report.problems)
        else:
            print("\nThe deadline benchmark needs PostgreSQL: skipped.")

    if args.only in (None, "staff"):
        if connection.vendor == "postgresql":
            from bench.staff_report_bench import print_load, run_staff_report, write_results
            from bench.staff_report_bench import print_plans as print_staff_plans

            report = run_staff_report(args, on_open=print_header if args.only == "staff" else None)
            report.print()
            print_load(report)
            print_staff_plans(report)
            print(f"\nStaff report figures written to {write_results(report)}")
            figures["staff"] = report.as_dict()
            disagreements += len(report.problems)
        else:
            print("\nThe staff report benchmark needs PostgreSQL: skipped.")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str))
        print(f"\nFigures written to {args.json}")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
