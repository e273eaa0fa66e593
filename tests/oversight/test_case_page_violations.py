"""The case page lists the violations recorded on the case, for those who keep oversight records only."""

import pytest
from django.urls import reverse

from oversight.models import ViolationSource
from oversight.services import violation_record


@pytest.fixture
def linked(city, choices, log_case):
    case = log_case()
    violation = violation_record(actor=city.user("inspector"), person=city.user("clerk"),
                                 discovered_on=case.received_at.date(), source=ViolationSource.COMPLAINT,
                                 kind=choices.kind, severity=choices.serious, cases=[case],
                                 description="Hẹn người dân quay lại nhiều lần không có lý do.")
    return case, violation


@pytest.mark.parametrize("role", ["inspector", "home_affairs", "admin"])
def test_overseers_see_the_violation_and_its_link(signed_in, linked, role):
    case, violation = linked
    page = signed_in(role).get(reverse("case-detail", args=[case.reference])).content.decode()
    assert 'data-test="case-violations"' in page
    assert reverse("violation-detail", args=[violation.pk]) in page


@pytest.mark.parametrize("role", ["head", "specialist", "clerk", "city_office"])
def test_the_case_s_own_staff_do_not(signed_in, linked, role):
    case, _violation = linked
    response = signed_in(role).get(reverse("case-detail", args=[case.reference]))
    assert response.status_code == 200
    assert 'data-test="case-violations"' not in response.content.decode()


def test_no_card_without_a_violation(signed_in, log_case):
    page = signed_in("inspector").get(reverse("case-detail", args=[log_case().reference])).content.decode()
    assert 'data-test="case-violations"' not in page
