"""The benchmarks run on a tiny city, and their naive router agrees with the routing index.

The naive router is an independent reading of DESIGN.md §3, so agreement on a few hundred random cases
with bands, validity dates, gaps and ties also cross-checks the index itself. Likewise the deadline
benchmark's naive per-row job and hand-written floor must leave exactly the flags and notices of the sweep.
"""

import pytest
from django.db import connection
from django.utils import timezone

from bench.dataset import CitySpec, build_city, case_inputs
from bench.deadlines_bench import compare, measure_desk, measure_sweep
from bench.deadlines_data import DeadlineSpec, build, expected_counts, late_counts, reset
from bench.intake_bench import run_intake
from bench.routing_bench import run_routing
from bench.run import main
from cases.deadlines import flag_overdue
from cases.models import Case, Consultation, Notification, NotificationKind, Status
from departments.routing import AMBIGUOUS_RULE
from departments.workdays import local_date


@pytest.fixture
def bench_city(db):
    spec = CitySpec(rules=240, case_types=6, localities=12, departments=5, seed=3)
    return build_city(spec, today=local_date(timezone.now()))


def test_data_set_has_the_asked_number_of_active_rules(bench_city):
    assert bench_city.active_rules == 240


def test_naive_router_and_index_agree_on_every_case(bench_city):
    cases = case_inputs(bench_city, 600, seed=5)
    result = run_routing(cases[100:], warm_inputs=cases[:100])

    assert result.disagreements == []
    assert result.agreed == result.compared == 500
    assert result.rules_in_index == 240
    # The mix exercises more than the easy path: routed cases and ties both occur.
    assert result.outcomes["routed"] > 0 and result.outcomes[AMBIGUOUS_RULE] > 0


def test_intake_logs_one_case_per_input_through_the_service(bench_city):
    result = run_intake(bench_city, case_inputs(bench_city, 25, seed=7))

    assert result.cases == 25
    assert sum(result.by_status.values()) == Case.objects.filter(created_by=bench_city.clerk).count() == 25
    assert result.by_status[Status.ROUTED] > 0
    # case_create writes the creation event and the routing (or triage) event.
    assert result.events == 50


def test_intake_benchmark_refuses_sqlite_without_the_flag(monkeypatch, capsys):
    monkeypatch.setenv("DEBUG", "0")
    monkeypatch.setattr(connection, "vendor", "sqlite")

    assert main(["--only", "intake", "--intake", "5"]) == 2
    assert "--allow-sqlite" in capsys.readouterr().err


# The deadline benchmark (issue 5) on a city of a few thousand cases: the same code as the million-case run.

@pytest.fixture
def deadline_city(db):
    return build(DeadlineSpec.sized(3000, 600, newly_overdue=60))


def test_deadline_data_set_holds_exactly_the_backlog_it_promises(deadline_city):
    assert late_counts(deadline_city) == expected_counts(deadline_city.spec) == {
        "cases_newly_overdue": 60, "cases_newly_due_soon": 6, "consultations_newly_deemed": 1,
        "consultations_newly_overdue": 6, "consultations_newly_due_soon": 1,
    }
    assert Case.objects.count() == 3000 and Consultation.objects.count() == 600
    # Work an earlier sweep flagged has its notices already: the sweep must not send them again.
    assert Notification.objects.filter(kind=NotificationKind.OVERDUE).exists()


def test_deadline_reset_returns_the_data_set_to_its_backlog(deadline_city):
    flag_overdue()
    assert all(count == 0 for count in late_counts(deadline_city).values())

    reset(deadline_city)

    assert late_counts(deadline_city) == expected_counts(deadline_city.spec)
    assert not Notification.objects.filter(created_at__gte=deadline_city.generated_at).exists()


def test_sweep_bench_flags_the_backlog_with_as_many_statements_for_a_tenth_of_it(deadline_city):
    sweep = measure_sweep(deadline_city, runs=2)

    assert sweep.problems == []
    assert [run.result.cases_overdue for run in sweep.runs] == [60, 60]
    assert 0 < sweep.tenth.result.cases_overdue < 60
    assert sweep.tenth.statements == sweep.runs[0].statements == sweep.runs[1].statements
    assert sweep.quiet[0].result.notices == 0 and sweep.quiet[0].statements < sweep.runs[0].statements


def test_desk_bench_opens_the_largest_units_desk_with_the_same_queries_for_both_page_sizes(deadline_city):
    desk = measure_desk(deadline_city, runs=1)

    # The desk's own view is measured (not the selectors it falls back on), as the head opens it.
    assert desk.via_view
    assert desk.rows["cases"] > 0
    assert desk.queries[25] == desk.queries[100] > 0
    assert set(desk.medians_ms) == {25, 100}


def test_naive_job_sweep_and_floor_leave_the_same_flags_and_notices(db):
    city = build(DeadlineSpec.sized(2000, 200, newly_overdue=80, only_cases_overdue=True))

    result = compare(city, runs=1)

    assert result.agreed
    assert result.flagged == 80
    # The owner's head hears of every flagged case, the assignee of those that have one.
    assert 80 < result.notices <= 160
    assert late_counts(city)["cases_newly_overdue"] == 80  # left as found


def test_deadline_benchmark_refuses_sqlite(monkeypatch, capsys):
    monkeypatch.setenv("DEBUG", "0")
    monkeypatch.setattr(connection, "vendor", "sqlite")

    assert main(["--only", "deadlines"]) == 2
    assert "needs PostgreSQL" in capsys.readouterr().err
