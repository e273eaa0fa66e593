"""The oversight overview: who may open it, its three counts of open violations against the handling
deadline, the latest records, and a query count that does not grow with them.

Today is Wednesday 25 November 2026: due soon means due today or on Thursday the 26th.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oversight.models import InspectionKind, Violation, ViolationSource
from oversight.services import commendation_record, inspection_record, violation_dismiss, violation_record
from tests.support.world import local_datetime

URL = reverse("oversight")
OVERSEERS = ["inspector", "home_affairs", "admin"]
OTHERS = ["head", "specialist", "city_office", "clerk"]


@pytest.fixture(autouse=True)
def today(clock):
    clock.set(local_datetime(2026, 11, 25, 10))


def complaint(city, choices, *, due: dt.date | None = None, person="clerk"):
    violation = violation_record(actor=city.user("inspector"), person=city.user(person),
                                 discovered_on=dt.date(2026, 11, 2), source=ViolationSource.COMPLAINT,
                                 kind=choices.delay, severity=choices.serious, description="Chậm trả kết quả.")
    if due is not None:
        Violation.objects.filter(pk=violation.pk).update(due_date=due)
    return violation


@pytest.mark.parametrize("role", OVERSEERS)
def test_overseers_open_the_overview(signed_in, role):
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    for button in ("record-inspection", "record-violation", "record-commendation"):
        assert f'data-test="{button}"'.encode() in response.content


@pytest.mark.parametrize("role", OTHERS)
def test_other_staff_are_refused(signed_in, role):
    assert signed_in(role).get(URL).status_code == 403


def test_visitors_are_sent_to_sign_in(signed_in):
    response = signed_in("anonymous").get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_reads_it(signed_in, method):
    assert getattr(signed_in("inspector"), method)(URL).status_code == 405


def test_counts_open_overdue_and_due_soon_handling(signed_in, city, choices):
    late = complaint(city, choices, due=dt.date(2026, 11, 24))
    complaint(city, choices, due=dt.date(2026, 11, 25))  # due today: due soon
    complaint(city, choices, due=dt.date(2026, 11, 26))  # the next working day: due soon
    complaint(city, choices, due=dt.date(2026, 11, 27))  # two working days ahead: open only
    ended = complaint(city, choices, due=dt.date(2026, 11, 20))
    violation_dismiss(violation=ended, actor=city.user("inspector"), reason="Không đủ căn cứ.")  # ended: no count

    response = signed_in("inspector").get(URL)
    assert response.context["counts"] == {"open": 4, "overdue": 1, "due_soon": 2}
    # The most pressing handling comes first.
    assert [violation.pk for violation in response.context["due_first"]][0] == late.pk


def test_due_soon_reaches_over_the_weekend(signed_in, city, choices, clock):
    clock.set(local_datetime(2026, 11, 27, 10))  # a Friday: the next working day is Monday the 30th
    complaint(city, choices, due=dt.date(2026, 11, 30))
    complaint(city, choices, due=dt.date(2026, 12, 1))
    assert signed_in("inspector").get(URL).context["counts"] == {"open": 2, "overdue": 0, "due_soon": 1}


def test_lists_the_latest_inspections_and_commendations(signed_in, city, choices):
    inspection = inspection_record(actor=city.user("inspector"), department=city.ward, kind=InspectionKind.SCHEDULED,
                                   inspected_on=dt.date(2026, 11, 10), team=[city.user("inspector")])
    commendation = commendation_record(actor=city.user("home_affairs"), department=city.commune,
                                       level=choices.unit_certificate, reason="Giải quyết đúng hạn 100%.",
                                       awarded_on=dt.date(2026, 11, 20))
    response = signed_in("home_affairs").get(URL)
    assert list(response.context["inspections"]) == [inspection]
    assert list(response.context["commendations"]) == [commendation]
    html = response.content.decode()
    assert reverse("inspection-detail", args=[inspection.pk]) in html
    assert "Xã An Dương" in html


def test_the_query_count_does_not_grow_with_the_records(signed_in, city, choices):
    client = signed_in("inspector")

    def add_records(count):
        for number in range(count):
            complaint(city, choices, person=["clerk", "specialist", "deputy"][number % 3])
            inspection_record(actor=city.user("inspector"), department=city.owner, kind=InspectionKind.SURPRISE,
                              inspected_on=dt.date(2026, 11, 2), team=[city.user("inspector")])
            commendation_record(actor=city.user("inspector"), person=city.user("head"),
                                level=choices.unit_certificate, reason="Khen.", awarded_on=dt.date(2026, 11, 20))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    add_records(1)
    few = queries()
    add_records(6)
    assert queries() == few
