"""Each measure is defined once (cases/measures.py) and every reader counts by it: a measure's SQL and its
Python twin give the same answer, and the deadline view and the department report show the same on-time rate
for the same unit and period."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cases import measures, policy
from cases.deadline_figures import deadline_figures
from cases.measures import Window
from cases.models import Case, Consultation, Status
from core.periods import Period
from oversight.department_figures import department_figures
from tests.support.world import local_datetime

TODAY = dt.date(2026, 11, 18)


@pytest.fixture
def mixed(stages, consulting):
    """Cases and consultations in every state, due before, on and after today."""
    cases = [stages.routed(), stages.in_progress(), stages.awaiting_supplement(), stages.submitted(),
             stages.resolved(), stages.triage()]
    for number, case in enumerate(cases):
        Case.unscoped.filter(pk=case.pk).update(due_date=TODAY + dt.timedelta(days=number % 3 - 1))
    consultations = [asked for _ in range(3) for asked in consulting.ask(consulting.case())]
    consulting.answer(consultations[1])
    for number, consultation in enumerate(Consultation.unscoped.all()):
        Consultation.unscoped.filter(pk=consultation.pk).update(due_date=TODAY - dt.timedelta(days=number))
    return cases


def test_overdue_in_sql_and_in_python_agree(mixed):
    in_sql = set(Case.unscoped.filter(measures.cases_overdue(TODAY)).values_list("pk", flat=True))
    in_python = {case.pk for case in Case.unscoped.all() if measures.case_is_overdue(case, TODAY)}
    assert in_sql == in_python and in_sql  # some are overdue, and the waiting one is not (clock stopped)
    assert not Case.unscoped.filter(measures.cases_overdue(TODAY), status=Status.AWAITING_SUPPLEMENT).exists()
    in_sql = set(Consultation.unscoped.filter(measures.consultations_overdue(TODAY)).values_list("pk", flat=True))
    in_python = {c.pk for c in Consultation.unscoped.all() if measures.consultation_is_overdue(c, TODAY)}
    assert in_sql == in_python and in_sql


def test_due_soon_in_sql_and_in_python_agree(mixed):
    window = Window(today=TODAY, soon=TODAY + dt.timedelta(days=1))
    in_sql = set(Case.unscoped.filter(measures.CASE_RUNNING & window.due_soon()).values_list("pk", flat=True))
    in_python = {case.pk for case in Case.unscoped.all()
                 if measures.case_runs(case) and window.is_due_soon(case.due_date)}
    assert in_sql == in_python and in_sql


def resolve_at(case, *, due: dt.date, at: dt.datetime):
    Case.unscoped.filter(pk=case.pk).update(due_date=due, resolved_at=at)


def test_the_deadline_view_and_the_department_report_show_the_same_on_time_rate(city, stages):
    # Sở Xây dựng: on its due day at 23:30 local (on time), ten past midnight the day after (late, though
    # still its due day in UTC), early; one of Sở NN&MT's late. Outside the period: one of 31 October.
    for due, at in [(dt.date(2026, 11, 10), local_datetime(2026, 11, 10, 23, 30)),
                    (dt.date(2026, 11, 10), local_datetime(2026, 11, 11, 0, 10)),
                    (dt.date(2026, 11, 20), local_datetime(2026, 11, 12, 9)),
                    (dt.date(2026, 10, 30), local_datetime(2026, 10, 31, 9))]:
        resolve_at(stages.resolved(), due=due, at=at)
    theirs = stages.resolved()
    Case.unscoped.filter(pk=theirs.pk).update(owner=city.consulted)
    resolve_at(theirs, due=dt.date(2026, 11, 3), at=local_datetime(2026, 11, 5, 9))
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    window = Window(today=dt.date(2026, 12, 1), soon=dt.date(2026, 12, 2))

    view = {unit.code: (unit.rated, unit.on_time, unit.on_time_percent)
            for unit in deadline_figures(window=window, period=period)}
    report = {unit.department.code: (unit.rated, unit.on_time, unit.on_time_percent)
              for unit in department_figures(period=period, today=window.today)}

    assert view["sxd"] == report["sxd"] == (3, 2, 67)
    assert view["snnmt"] == report["snnmt"] == (1, 0, 0)


def test_the_latest_round_is_the_last_asked(consulting):
    case = consulting.case()
    [first] = consulting.ask(case)
    consulting.answer(first)
    [second] = consulting.ask(case)
    assert measures.latest_rounds(case.consultations.all()) == {first.department_id: second}


def test_the_page_and_the_api_read_a_case_with_the_same_relations(client, city, stages, monkeypatch):
    case = stages.in_progress()
    calls = []
    original = policy.detail_relations
    monkeypatch.setattr(policy, "detail_relations", lambda: calls.append(1) or original())
    client.force_login(city.user("head"))
    api = APIClient()
    api.force_authenticate(city.user("head"))

    assert client.get(reverse("case-detail", args=[case.reference])).status_code == 200
    assert len(calls) == 1
    assert api.get(f"/api/v1/cases/{case.reference}/").status_code == 200
    assert len(calls) == 2
