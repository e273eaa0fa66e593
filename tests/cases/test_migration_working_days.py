"""Migration cases 0004 gives the cases resolved before it the working days they took, from the calendar as
the admins left it (read through the historical models)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.support.world import local_datetime

BEFORE = [("cases", "0003_periodic_jobs")]


@pytest.mark.django_db(transaction=True)
def test_resolved_cases_get_their_working_days_and_open_ones_none():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    unit = old.get_model("departments", "Department").objects.create(code="sxd", name="Sở Xây dựng",
                                                                    kind="department")
    kind = old.get_model("departments", "CaseType").objects.create(code="permit", name="Cấp phép",
                                                                  processing_days=15)
    # An admin's extra day off on Wednesday 11 November 2026: Monday 9 to Friday 13 counts 3, not 4.
    old.get_model("departments", "CalendarDay").objects.create(date=dt.date(2026, 11, 11), kind="day_off")
    Case = old.get_model("cases", "Case")
    common = {"case_type": kind, "owner": unit, "received_at": local_datetime(2026, 11, 9, 9), "title": "Hồ sơ",
              "pin": "1234"}
    Case.objects.create(reference="SXD-261109-0001", status="resolved", resolved_at=local_datetime(2026, 11, 13, 16),
                        **common)
    Case.objects.create(reference="SXD-261109-0002", status="routed", **common)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from cases.models import Case as CurrentCase

    assert dict(CurrentCase.unscoped.values_list("reference", "working_days_taken")) == {
        "SXD-261109-0001": 3, "SXD-261109-0002": None}
