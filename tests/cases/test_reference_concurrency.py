"""Dossier codes stay unique and gapless when many clerks log cases at the same moment (PostgreSQL)."""

import threading

import pytest
from django.db import connections

from cases.models import Case
from cases.services import case_create
from tests.support.concurrency import skip_unless_postgres
from tests.support.world import local_datetime

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8
PER_WORKER = 5


@pytest.fixture(autouse=True)
def needs_postgres():
    skip_unless_postgres()


def test_concurrent_intake_gives_gapless_unique_references(city):
    clerk = city.user("clerk")
    received_at = local_datetime(2026, 11, 25, 9)
    start = threading.Barrier(WORKERS)
    errors = []

    def intake():
        try:
            start.wait()
            for _ in range(PER_WORKER):
                case_create(actor=clerk, title="Đồng thời", case_type=city.permit, received_at=received_at)
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=intake) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    references = sorted(Case.unscoped.values_list("reference", flat=True))
    expected = [f"SXD-261125-{n:04d}" for n in range(1, WORKERS * PER_WORKER + 1)]
    assert references == expected
