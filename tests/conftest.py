"""The fixtures every test shares: the small city (tests/support/world.py), clients signed in as its people,
cases brought to each stage through the services, a settable clock, and the oversight records.

Helpers that are not fixtures live in tests/support/, so that no test imports another test module.
"""

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from rest_framework.test import APIClient

from departments.models import AuthorityRule, CaseType, DecisionLevel
from oversight.models import ActionKind, CommendationLevel, InspectionKind, Severity, ViolationKind, ViolationSource
from oversight.services import commendation_record, inspection_record, violation_record
from tests.support.api import Consults
from tests.support.cases import Clock, Consulting, Stages, type_requiring_an_opinion
from tests.support.oversight import staff_november, units_november
from tests.support.world import City, build_city


@pytest.fixture
def city(db) -> City:
    return build_city()


# --- audit trails: the test database is emptied past their append-only triggers -------------------------------
# A transactional test (browser, race, live server) ends with Django's `flush`: TRUNCATE on PostgreSQL, DELETE on
# SQLite, which the audit tables' triggers refuse (core.audit). The test database's owner does what any table
# owner may: the flush runs with the triggers stopped and starts them again, in its one transaction.


@pytest.fixture(scope="session", autouse=True)
def flush_past_audit_triggers():
    from django.db import connection

    from core.audit import protected_tables, resume_statements, suspend_statements

    operations = type(connection.ops)
    sql_flush = operations.sql_flush

    def flush_with_triggers_stopped(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = sql_flush(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        protected = [table for table in protected_tables(self.connection) if table in tables] if statements else []
        vendor = self.connection.vendor
        return [*(sql for table in protected for sql in suspend_statements(table, vendor)), *statements,
                *(sql for table in protected for sql in resume_statements(table, vendor))]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", flush_with_triggers_stopped)
        yield


# --- end of the audit trails' block ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The real hasher costs a quarter second per user; tests prove behaviour, not key stretching.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the site's language: a request in English earlier in the same process would
    otherwise leave English active for the next test's messages."""
    with translation.override(django_settings.LANGUAGE_CODE):
        yield


@pytest.fixture(autouse=True)
def celery_inline():
    """Tasks queued by the code under test run at once, in this process, against the test database.

    The end-to-end test of a real worker on Redis (tests/cases/test_celery_worker.py) starts its own worker
    process, which does not see this setting.
    """
    from cityops.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def signed_in(client, city):
    """The test client as one of the city's users (by fixture name), or signed out for "anonymous"."""

    def sign_in(role):
        if role == "anonymous":
            client.logout()
        else:
            client.force_login(city.user(role))
        return client

    return sign_in


@pytest.fixture
def log_case(city):
    """Log a case through the intake service, as the clerk, with sensible defaults."""
    from cases.services import case_create

    def log(**overrides):
        fields = {"actor": city.user("clerk"), "title": "Xin cấp phép xây dựng nhà ở riêng lẻ",
                  "case_type": city.permit, "applicant_name": "Nguyễn Văn An"}
        fields.update(overrides)
        return case_create(**fields)

    return log


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def city_level_type(city):
    """A matter the owner department prepares but the City Committee decides."""
    kind = CaseType.objects.create(code="urban-plan", name="Điều chỉnh quy hoạch chi tiết 1/500", processing_days=10)
    AuthorityRule.objects.create(case_type=kind, owner=city.owner, decision_level=DecisionLevel.CITY_COMMITTEE,
                                 legal_basis="Luật Quy hoạch đô thị 2009, Điều 44")
    return kind


@pytest.fixture
def unruled_type(db):
    return CaseType.objects.create(code="petition", name="Đơn kiến nghị", processing_days=10)


@pytest.fixture
def stages(city, log_case, city_level_type, unruled_type):
    return Stages(city, log_case, city_level_type, unruled_type)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def appraisal_type(city):
    """A city-level matter of the owner whose rule requires the consulted department's opinion in 3 working
    days (the type's own 4 days are the fallback); the outsider department is not a required consultee."""
    return type_requiring_an_opinion(city, code="project-appraisal", name="Thẩm định báo cáo nghiên cứu khả thi dự án",
                                     decision_level=DecisionLevel.CITY_COMMITTEE,
                                     legal_basis="Luật Xây dựng 2014, Điều 57")


# The handler who answers for each unit in the shared city.


@pytest.fixture
def consulting(city, stages, appraisal_type):
    return Consulting(city, stages, appraisal_type)


@pytest.fixture
def api(city):
    """`api("clerk")` is a client signed in as that user; `api()` is anonymous."""

    def client_for(username=None):
        client = APIClient()
        if username:
            client.force_login(city.user(username))
        return client

    return client_for


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


@pytest.fixture
def consults(city, log_case):
    return Consults(city, log_case)
