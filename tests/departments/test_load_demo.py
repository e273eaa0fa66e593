"""`manage.py load_demo`: a usable demo city, and a second run that changes nothing."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cases.models import Case, CaseEvent, Status, TriageReason
from departments import demo
from departments.models import (
    AuthorityRule,
    CalendarDay,
    CaseType,
    DecisionLevel,
    Department,
    DepartmentKind,
    Generation,
    Role,
    Staff,
)
from departments.routing import NO_RULE, preview
from oversight import demo as oversight_demo

BILLION = Decimal(1_000_000_000)


def load(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    User = get_user_model()
    return {
        "departments": list(Department.objects.order_by("code").values()),
        "case_types": list(CaseType.objects.order_by("code").values()),
        "rules": list(AuthorityRule.objects.order_by("id").values()),
        "consultees": sorted(AuthorityRule.required_consultees.through.objects.values_list(
            "authorityrule_id", "department_id")),
        "rule_history": AuthorityRule.history.count(),
        "calendar": list(CalendarDay.objects.order_by("date").values()),
        "users": list(User.objects.order_by("username").values()),
        "staff": list(Staff.objects.order_by("user_id").values()),
        "cases": Case.unscoped.count(),
        "events": CaseEvent.objects.count(),
        "generations": dict(Generation.objects.values_list("key", "value")),
    }


def unit(code) -> Department:
    return Department.objects.get(code=code)


def route(case_type, *, locality=None, amount=None, on=dt.date(2026, 11, 2)):
    return preview(case_type_id=CaseType.objects.get(code=case_type).pk,
                   locality_id=unit(locality).pk if locality else None,
                   amount=amount, received_on=on)


@pytest.fixture
def loaded(db):
    load("--quiet")


def test_second_run_changes_nothing(loaded):
    before = snapshot()

    load("--quiet")

    # Not even a save: no rule history row and no cache generation moved.
    assert snapshot() == before


def test_meets_the_minimums(loaded):
    units = Department.objects.all()
    assert units.filter(kind=DepartmentKind.DEPARTMENT).count() >= 8
    assert units.filter(kind=DepartmentKind.CITY_COMMITTEE).count() == 1
    assert units.get(kind=DepartmentKind.CITY_OFFICE).national_id
    assert units.filter(kind=DepartmentKind.INSPECTORATE).exists()
    assert units.filter(kind=DepartmentKind.HOME_AFFAIRS).exists()
    communes = units.filter(kind=DepartmentKind.COMMUNE)
    assert communes.count() >= 5
    assert set(communes.values_list("valid_from", flat=True)) == {dt.date(2025, 7, 1)}
    districts = units.filter(kind=DepartmentKind.DISTRICT)
    assert districts.filter(valid_to=dt.date(2025, 6, 30), active=False).count() >= 2
    assert not units.filter(national_id="").exists()

    assert CaseType.objects.filter(consultation_days__isnull=False).count() >= 10
    rules = AuthorityRule.objects.all()
    assert rules.count() >= 20
    assert rules.filter(locality__isnull=False).count() >= 5
    assert rules.filter(max_amount__isnull=False).exists() and rules.filter(min_amount__isnull=False).exists()
    assert rules.filter(decision_level=DecisionLevel.CITY_COMMITTEE, required_consultees__isnull=False).exists()
    assert rules.filter(decision_level=DecisionLevel.CHAIRMAN).exists()
    assert rules.filter(valid_to__isnull=False, locality__kind=DepartmentKind.DISTRICT).exists()
    assert not rules.filter(legal_basis="").exists()
    assert CalendarDay.objects.exists()


def test_a_login_for_every_role_and_a_superuser(loaded):
    assert set(Staff.objects.values_list("role", flat=True)) == set(Role.values)
    clerk = Staff.objects.get(user__username=demo.INTAKE_CLERK)
    assert (clerk.role, clerk.department.kind) == (Role.CLERK, DepartmentKind.CITY_OFFICE)
    assert set(Staff.objects.filter(department__code="sxd").values_list("role", flat=True)) >= {
        Role.SPECIALIST, Role.DEPUTY, Role.HEAD}
    assert Staff.objects.filter(role=Role.HEAD).exclude(department__code="sxd").exists()
    admin = get_user_model().objects.get(username=demo.SUPERUSER[0])
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(demo.DEMO_PASSWORD)
    head = get_user_model().objects.get(username="sxd.giamdoc")
    assert head.get_full_name() == "Trần Văn Hùng"
    assert not head.is_staff


@pytest.mark.parametrize(("case_type", "locality", "amount", "on", "owner", "level", "consultees"), [
    ("building-permit", "p-ngo-quyen", None, dt.date(2026, 11, 2), "sxd", "department", []),
    # A commune owns small building permits in its own area, since the reorganization...
    ("house-permit", "p-le-chan", None, dt.date(2026, 11, 2), "p-le-chan", "department", []),
    # ...and the dissolved district did, until it was dissolved.
    ("house-permit", "q-le-chan", None, dt.date(2025, 6, 30), "q-le-chan", "department", []),
    ("investment-approval", "p-thuy-nguyen", 120 * BILLION, dt.date(2026, 11, 2), "stc", "department", []),
    ("investment-approval", "p-thuy-nguyen", 300 * BILLION, dt.date(2026, 11, 2), "stc", "city_committee",
     ["sct", "snnmt", "sxd"]),
    # Inside the economic zone, the zone authority beats the city-wide band.
    ("investment-approval", "dk-cat-hai", 50 * BILLION, dt.date(2026, 11, 2), "bqlkkt", "department", []),
    ("judicial-record", None, None, dt.date(2026, 11, 2), "stp", "department", ["ca"]),
    ("citizen-complaint", None, None, dt.date(2026, 11, 2), "ttr", "chairman", ["stp"]),
    ("land-allocation", "x-vinh-bao", None, dt.date(2026, 11, 2), "snnmt", "city_committee", ["stc", "sxd"]),
])
def test_demo_matters_route_where_the_data_says(loaded, case_type, locality, amount, on, owner, level, consultees):
    rule = route(case_type, locality=locality, amount=amount, on=on).rule

    assert rule is not None
    assert (rule.owner_code, rule.decision_level, sorted(rule.consultee_codes)) == (owner, level, consultees)


def test_rule_gaps_stay_gaps(loaded):
    # The expired district rule no longer applies, and the special zone's rule was never entered.
    assert route("house-permit", locality="q-le-chan", on=dt.date(2025, 7, 1)).decision.reason == NO_RULE
    assert route("house-permit", locality="dk-bach-long-vi").decision.reason == NO_RULE
    # A banded rule never matches a case without an amount.
    assert route("investment-approval", locality="p-an-duong").decision.reason == NO_RULE


def test_demo_cases_are_logged_through_intake(loaded):
    cases = Case.unscoped.all()
    assert cases.count() == len(demo.CASES)
    assert set(cases.values_list("receiving_unit__code", flat=True)) == {"vp"}
    triage = cases.get(status=Status.TRIAGE)
    assert triage.triage_reason == TriageReason.NO_RULE
    assert triage.locality.code == "dk-bach-long-vi"
    big = cases.get(amount=1_200 * BILLION)
    assert (big.owner.code, big.decision_level, big.key_task) == ("stc", "city_committee", True)
    assert big.rule_snapshot["required_consultees"] == ["sct", "snnmt", "sxd"]
    assert cases.overdue().filter(case_type__code="land-allocation").exists()
    assert all(case.events.exists() for case in cases)


def test_demo_oversight_is_made_through_the_services(loaded):
    from core.refusals import RefusalCode
    from oversight.models import Commendation, Inspection, Violation, ViolationStatus

    case = Case.unscoped.get(title=oversight_demo.HANDLED_CASE)
    assert case.assignee.username == oversight_demo.SPECIALIST
    refusal = case.events.get(action="refused")
    assert (refusal.actor.username, refusal.payload["code"]) == (oversight_demo.SPECIALIST,
                                                                 RefusalCode.WITHIN_OWN_AUTHORITY)
    violation = Violation.objects.get()
    assert violation.inspection == Inspection.objects.get(kind="surprise", department__code="sxd")
    assert (violation.person.username, violation.status, list(violation.cases.all())) == (
        oversight_demo.SPECIALIST, ViolationStatus.OPEN, [case])
    assert Commendation.objects.get().person.username == oversight_demo.COMMENDED
    load("--quiet")
    assert (Violation.objects.count(), Inspection.objects.count(), Commendation.objects.count()) == (1, 1, 1)


def test_demo_cases_are_not_added_to_a_database_that_has_cases(log_case):
    existing = log_case()

    load("--quiet")

    assert list(Case.unscoped.all()) == [existing]


def test_existing_passwords_are_kept_unless_reset(loaded):
    head = get_user_model().objects.get(username="sxd.giamdoc")
    head.set_password("changed-by-the-user-1")
    head.save()

    output = load()
    head.refresh_from_db()
    assert head.check_password("changed-by-the-user-1")
    assert "sxd.giamdoc" in output and "--reset-passwords" in output

    load("--quiet", "--reset-passwords")
    head.refresh_from_db()
    assert head.check_password(demo.DEMO_PASSWORD)


def test_a_changed_demo_value_is_restored_and_recorded(loaded):
    rule = AuthorityRule.objects.get(case_type__code="judicial-record")
    rule.owner = unit("sxd")
    rule.save()
    rule.required_consultees.clear()

    load("--quiet")

    rule.refresh_from_db()
    assert rule.owner.code == "stp"
    assert list(rule.required_consultees.values_list("code", flat=True)) == ["ca"]
    assert rule.history.first().history_change_reason == "load_demo"


def test_prints_the_logins_unless_quiet(db):
    output = load()

    for username, _name, _unit, _role in demo.USERS:
        assert username in output
    assert demo.SUPERUSER[0] in output
    assert "Văn phòng UBND thành phố" in output
    assert output.count(demo.DEMO_PASSWORD) == len(demo.USERS) + 1
    assert load("--quiet") == ""


@pytest.mark.django_db
def test_the_demo_loads_under_the_sites_backdating_limit(settings):
    # The demo's cases were received weeks ago by its intake clerk, which a real site's limit refuses.
    settings.MAX_BACKDATE_DAYS = 30
    load()
    assert Case.unscoped.count() == len(demo.CASES)
    assert settings.MAX_BACKDATE_DAYS == 30
