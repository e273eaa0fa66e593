"""Oversight records made through the services, for the tests of pages and reports."""

import datetime as dt

import pytest

from oversight.models import ActionKind, CommendationLevel, InspectionKind, Severity, ViolationKind, ViolationSource
from oversight.services import commendation_record, inspection_record, violation_record

# The case fixtures (a settable clock, cases at each stage, uploads in a temporary folder) serve here too.
from tests.cases.conftest import (  # noqa: F401
    appraisal_type,
    city_level_type,
    clock,
    consulting,
    media_root,
    stages,
    unruled_type,
)
from tests.oversight.worlds import staff_november, units_november


@pytest.fixture
def staff_city(city, request):
    """The staff report's hand-counted November (tests/oversight/worlds.py)."""
    fixture = request.getfixturevalue
    return staff_november(city, fixture("stages"), fixture("consulting"), fixture("clock"))


@pytest.fixture
def november(city, log_case, request):
    """The department report's hand-counted November (tests/oversight/worlds.py)."""
    return units_november(city, log_case, request.getfixturevalue("clock"))


@pytest.fixture
def choices(db):
    """The seeded lists, by code (migration 0002_choices)."""

    class Choices:
        kind = ViolationKind.objects.get(code="harassment")
        delay = ViolationKind.objects.get(code="unjustified-delay")
        less_serious = Severity.objects.get(code="less-serious")
        serious = Severity.objects.get(code="serious")
        review_meeting = ActionKind.objects.get(code="review-meeting")
        reprimand = ActionKind.objects.get(code="reprimand")
        unit_certificate = CommendationLevel.objects.get(code="unit-certificate")

    return Choices


@pytest.fixture
def inspection(city):
    return inspection_record(actor=city.user("inspector"), department=city.owner, kind=InspectionKind.SURPRISE,
                             inspected_on=dt.date(2026, 11, 2), team=[city.user("inspector")],
                             findings="Bộ phận một cửa yêu cầu thêm giấy tờ không có trong danh mục.")


@pytest.fixture
def violation(city, choices, inspection):
    return violation_record(actor=city.user("inspector"), person=city.user("specialist"),
                            discovered_on=dt.date(2026, 11, 2), source=ViolationSource.SURPRISE_INSPECTION,
                            inspection=inspection, kind=choices.kind, severity=choices.less_serious,
                            description="Yêu cầu bản sao công chứng sổ hộ khẩu.")


@pytest.fixture
def commendation(city, choices):
    return commendation_record(actor=city.user("home_affairs"), person=city.user("deputy"),
                               level=choices.unit_certificate, reason="Giải quyết dứt điểm hồ sơ tồn đọng.",
                               awarded_on=dt.date(2026, 11, 20))
