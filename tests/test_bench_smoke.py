"""The benchmarks run on a tiny city, and their naive router agrees with the routing index.

The naive router is an independent reading of DESIGN.md §3, so agreement on a few hundred random cases
with bands, validity dates, gaps and ties also cross-checks the index itself.
"""

import pytest
from django.db import connection
from django.utils import timezone

from bench.dataset import CitySpec, build_city, case_inputs
from bench.intake_bench import run_intake
from bench.routing_bench import run_routing
from bench.run import main
from cases.models import Case, Status
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
