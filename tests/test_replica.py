"""Reports off the primary (core/replicas.py): with a replica configured, the reports, the exports and the staff
report read it, and only it; the record of an export, and every other page, use the primary. Without one,
everything reads the primary.

The replica here is the test database itself under a second connection (tests/settings.py), so the data must
be committed for it to see: these tests run in transactions of their own.
"""

from __future__ import annotations

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import PersonalDataRead

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
REPORTS = [
    ("report-departments", [], PERIOD),
    ("report-departments-export", ["csv"], PERIOD),
    ("report-consultations", [], {}),
    ("report-deadlines", [], {}),
    ("staff-report", [], PERIOD),
]


@pytest.fixture
def with_replica(settings):
    settings.DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]


def content_of(response) -> bytes:
    """The body, streamed files included: their rows are read while they stream."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def queries_of(client, url, params):
    with CaptureQueriesContext(connections["default"]) as primary, \
            CaptureQueriesContext(connections["replica"]) as replica:
        response = client.get(url, params)
        body = content_of(response)
    return response, body, [q["sql"] for q in primary.captured_queries], [q["sql"] for q in replica.captured_queries]


def case_data(queries: list[str]) -> list[str]:
    """The statements that read or write the cases' tables (cases, events, consultations, marks, …)."""
    return [sql for sql in queries if '"cases_' in sql]


@pytest.mark.parametrize(("name", "args", "params"), REPORTS)
def test_reports_and_exports_read_the_case_data_from_the_replica(with_replica, signed_in, stages, name, args,
                                                                 params):
    stages.in_progress()
    stages.resolved()
    client = signed_in("inspector")
    response, body, primary, replica = queries_of(client, reverse(name, args=args), params)

    assert response.status_code == 200, body[:500]
    assert case_data(replica), "the report's figures come from the replica"
    # The primary answers the session, the user and the settings rows a report reads for update (the review
    # thresholds), never the cases.
    assert case_data(primary) == []
    if response.has_header("Content-Disposition"):
        # The export is recorded, on the primary.
        assert [sql.split()[0] for sql in primary if '"core_personaldataread"' in sql] == ["INSERT"]
        assert PersonalDataRead.objects.filter(subject=reverse(name, args=args)).count() == 1


def test_the_overdue_desk_export_streams_from_the_replica(with_replica, signed_in, stages):
    stages.in_progress()
    client = signed_in("head")
    response, body, primary, replica = queries_of(client, reverse("overdue-desk-export", args=["csv"]), {})
    assert response.status_code == 200 and response.streaming
    assert case_data(replica) and case_data(primary) == []
    assert [sql.split()[0] for sql in primary if '"core_personaldataread"' in sql] == ["INSERT"]


def test_a_case_page_and_an_action_stay_on_the_primary(with_replica, signed_in, stages):
    case = stages.in_progress()
    client = signed_in("specialist")
    response, _body, primary, replica = queries_of(client, reverse("case-detail", args=[case.reference]), {})
    assert response.status_code == 200
    assert replica == []
    assert case_data(primary)


def test_without_a_replica_reports_read_the_primary(signed_in, stages):
    stages.in_progress()
    client = signed_in("inspector")
    response, _body, primary, replica = queries_of(client, reverse("staff-report"), PERIOD)
    assert response.status_code == 200
    assert replica == []
    assert case_data(primary)
