"""A key task comes first in every list that shows it (directive: nhiệm vụ trọng tâm; DESIGN.md §1)."""

import pytest
from django.urls import reverse

from cases.services import case_set_key_task


@pytest.fixture
def two_cases(city, log_case):
    """An ordinary case logged first, and a later one that the city office then marks as a key task."""
    ordinary = log_case(title="Hồ sơ thường")
    key = log_case(title="Hồ sơ trọng tâm")
    case_set_key_task(case=key, actor=city.user("city_office"), key_task=True)
    return ordinary, key


def references(rows) -> list[str]:
    return [row["reference"] if isinstance(row, dict) else row.reference for row in rows]


def test_department_queue(signed_in, two_cases):
    ordinary, key = two_cases
    page = signed_in("head").get(reverse("case-list"))
    assert references(page.context["page"])[:2] == [key.reference, ordinary.reference]


def test_triage_queue(signed_in, city, unruled_type, log_case):
    ordinary = log_case(case_type=unruled_type, title="Đơn thường")
    key = log_case(case_type=unruled_type, title="Đơn trọng tâm", key_task=True)
    page = signed_in("clerk").get(reverse("triage"))
    listed = [case.reference for case in page.context["page"]]
    assert listed.index(key.reference) < listed.index(ordinary.reference)


def test_case_list_api(signed_in, two_cases):
    ordinary, key = two_cases
    results = signed_in("head").get("/api/v1/cases/").json()["results"]
    assert references(results)[:2] == [key.reference, ordinary.reference]


def test_consultations_api(signed_in, city, stages, consulting):
    ordinary, key = consulting.case(title="Hồ sơ thường"), consulting.case(title="Hồ sơ trọng tâm")
    for case in (ordinary, key):
        consulting.ask(case, city.consulted)
    key.refresh_from_db()
    case_set_key_task(case=key, actor=city.user("head"), key_task=True)
    results = signed_in("head").get("/api/v1/consultations/").json()["results"]
    assert [row["case"] for row in results][:2] == [key.reference, ordinary.reference]
