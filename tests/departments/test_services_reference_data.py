"""The services that write units, case types, rules and calendar days, and the one validation behind both doors.

The admin's forms and the API's serializers call the same checks of departments/services.py; the last test
sends the same rules through both and expects the same answer, sentence for sentence.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from core.refusals import RefusalCode, Refused
from departments import generations, services
from departments.models import AuthorityRule, CalendarDay, CaseType, Department, DepartmentKind
from tests.support.concurrency import run_together, skip_unless_postgres

REASON = "Quyết định 12/2026/QĐ-UBND phân cấp thẩm quyền"


@pytest.fixture
def admin(city):
    return city.user("admin")


def rule_data(city, **overrides) -> dict:
    """Land in Lê Chân ward worth 5 billion đồng or more, for the Finance Department."""
    data = {"case_type": city.land, "locality": city.ward, "min_amount": Decimal(5_000_000_000), "max_amount": None,
            "owner": city.outsider, "decision_level": "city_committee", "required_consultees": [city.consulted],
            "legal_basis": "Quyết định 12/2025/QĐ-UBND", "valid_from": dt.date(2025, 7, 1)}
    data.update(overrides)
    return data


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as raised:
        call()
    return raised.value.message_dict


# Who may write.


@pytest.mark.parametrize("username", ["head", "city_office", "inspector", "nobody", None])
def test_only_superusers_write_reference_data(city, username):
    from django.contrib.auth.models import AnonymousUser

    actor = city.user(username) if username else AnonymousUser()
    day = CalendarDay.objects.create(date=dt.date(2026, 1, 2), kind="day_off")
    writes = [
        lambda: services.department_save(actor=actor, department=None,
                                         data={"code": "p-moi", "name": "Phường Mới", "kind": "commune"}),
        lambda: services.case_type_save(actor=actor, case_type=city.permit, data={"processing_days": 1}),
        lambda: services.rule_save(actor=actor, rule=None, data=rule_data(city), reason=REASON),
        lambda: services.rule_delete(actor=actor, rule=city.permit_rule, reason=REASON),
        lambda: services.calendar_day_save(actor=actor, day=None, data={"date": dt.date(2026, 1, 5),
                                                                         "kind": "day_off"}),
        lambda: services.calendar_day_delete(actor=actor, day=day),
    ]
    history = AuthorityRule.history.count()

    for write in writes:
        with pytest.raises(PermissionDenied):
            write()

    assert not Department.objects.filter(code="p-moi").exists()
    assert CaseType.objects.get(pk=city.permit.pk).processing_days == 15
    assert AuthorityRule.objects.count() == 2
    assert AuthorityRule.history.count() == history
    assert list(CalendarDay.objects.all()) == [day]


def test_an_inactive_superuser_writes_nothing(city, admin):
    admin.is_active = False

    with pytest.raises(PermissionDenied):
        services.case_type_save(actor=admin, case_type=city.permit, data={"processing_days": 1})


# Units and case types.


def test_department_save_creates_and_changes_a_unit(city, admin):
    ward = services.department_save(actor=admin, department=None, data={
        "code": "p-hong-bang", "name": "Phường Hồng Bàng", "kind": DepartmentKind.COMMUNE,
        "parent": city.city_committee, "valid_from": dt.date(2025, 7, 1)})
    renamed = services.department_save(actor=admin, department=ward, data={"name": "Phường Hồng Bàng (mới)"})

    ward.refresh_from_db()
    assert renamed is ward
    assert (ward.code, ward.name, ward.parent, ward.active) == ("p-hong-bang", "Phường Hồng Bàng (mới)",
                                                                city.city_committee, True)


@pytest.mark.parametrize(("data", "field"), [
    ({"code": "sxd-moi"}, "code"),
    ({"valid_from": dt.date(2025, 7, 1), "valid_to": dt.date(2025, 6, 30)}, "valid_to"),
    ({"name": ""}, "name"),
    ({"kind": "ministry"}, "kind"),
])
def test_department_save_refuses_inconsistent_units(city, admin, data, field):
    assert field in errors_of(lambda: services.department_save(actor=admin, department=city.owner, data=data))
    city.owner.refresh_from_db()
    assert (city.owner.code, city.owner.name) == ("sxd", "Sở Xây dựng")


@pytest.mark.parametrize("parent", ["itself", "descendant"])
def test_a_unit_is_never_placed_under_itself(city, admin, parent):
    ward = services.department_save(actor=admin, department=None, data={
        "code": "p-con", "name": "Phường con", "kind": DepartmentKind.COMMUNE, "parent": city.owner})
    new_parent = city.owner if parent == "itself" else ward

    errors = errors_of(lambda: services.department_save(actor=admin, department=city.owner,
                                                        data={"parent": new_parent}))

    assert errors == {"parent": ["Không thể đặt một đơn vị trực thuộc chính nó."]}


def test_a_duplicate_code_is_a_field_error_not_a_database_error(city, admin):
    errors = errors_of(lambda: services.department_save(actor=admin, department=None, data={
        "code": "sxd", "name": "Sở trùng mã", "kind": DepartmentKind.DEPARTMENT}))

    assert "code" in errors


def test_case_type_save_moves_the_routing_index(city, admin):
    before = generations.current(generations.RULES)

    services.case_type_save(actor=admin, case_type=city.land, data={"processing_days": 30})

    assert CaseType.objects.get(pk=city.land.pk).processing_days == 30
    assert generations.current(generations.RULES) != before


@pytest.mark.parametrize(("data", "field"), [
    ({"processing_days": 0}, "processing_days"),
    ({"processing_days": 1001}, "processing_days"),
    ({"consultation_days": 0}, "consultation_days"),
    ({"code": "permit"}, "code"),
])
def test_case_type_save_refuses_bad_periods_and_code_changes(city, admin, data, field):
    assert field in errors_of(lambda: services.case_type_save(actor=admin, case_type=city.permit, data=data))


def test_unknown_fields_are_a_programming_error(city, admin):
    with pytest.raises(TypeError):
        services.case_type_save(actor=admin, case_type=city.permit, data={"owner": city.owner})


# Calendar days.


def test_calendar_day_save_and_delete_move_the_calendar(admin):
    before = generations.current(generations.CALENDAR)

    day = services.calendar_day_save(actor=admin, day=None, data={"date": dt.date(2026, 1, 2), "kind": "day_off",
                                                                 "name": "Nghỉ bù"})
    added = generations.current(generations.CALENDAR)
    services.calendar_day_delete(actor=admin, day=day)

    assert before != added != generations.current(generations.CALENDAR)
    assert not CalendarDay.objects.exists()


def test_one_override_per_date(admin):
    CalendarDay.objects.create(date=dt.date(2026, 1, 2), kind="day_off")

    errors = errors_of(lambda: services.calendar_day_save(actor=admin, day=None, data={
        "date": dt.date(2026, 1, 2), "kind": "working_day"}))

    assert "date" in errors


# Rules: validation.


@pytest.mark.parametrize(("overrides", "field"), [
    ({"owner": "city_committee"}, "owner"),
    ({"owner": "closed"}, "owner"),
    ({"required_consultees": ["closed"]}, "required_consultees"),
    ({"required_consultees": ["owner"]}, "required_consultees"),
    ({"locality": "owner"}, "locality"),
    ({"min_amount": Decimal(-1)}, "min_amount"),
    ({"max_amount": Decimal(-1), "min_amount": None}, "max_amount"),
    ({"max_amount": Decimal(5_000_000_000)}, "max_amount"),
    ({"valid_to": dt.date(2025, 6, 30)}, "valid_to"),
    ({"processing_days": 0}, "processing_days"),
    ({"consultation_days": 1001}, "consultation_days"),
    ({"decision_level": "minister"}, "decision_level"),
    ({"owner": None}, "owner"),
    ({"case_type": None}, "case_type"),
])
def test_validate_rule_names_the_field_at_fault(city, overrides, field):
    closed = Department.objects.create(code="s-cu", name="Sở cũ", kind=DepartmentKind.DEPARTMENT, active=False)
    units = {"city_committee": city.city_committee, "closed": closed, "owner": city.outsider}
    data = rule_data(city, **{name: units.get(value, value) if isinstance(value, str) and name != "decision_level"
                              else value for name, value in overrides.items()})
    if "required_consultees" in overrides:
        data["required_consultees"] = [units[name] for name in overrides["required_consultees"]]

    assert field in errors_of(lambda: services.validate_rule(data))


def test_validate_rule_checks_a_partial_change_against_the_stored_rule(city):
    rule = AuthorityRule.objects.create(case_type=city.land, owner=city.outsider, min_amount=1000, max_amount=5000)

    errors = errors_of(lambda: services.validate_rule({"min_amount": Decimal(6000)}, rule=rule))

    assert errors == {"max_amount": ["Giá trị tối đa phải lớn hơn giá trị tối thiểu."]}


def test_an_inactive_rule_may_keep_the_units_it_named(city):
    Department.objects.filter(pk__in=[city.outsider.pk, city.consulted.pk]).update(active=False)
    city.outsider.refresh_from_db()
    city.consulted.refresh_from_db()

    services.validate_rule(rule_data(city, active=False))
    # The City Committee never owns a rule, active or not.
    with pytest.raises(ValidationError):
        services.validate_rule(rule_data(city, active=False, owner=city.city_committee))


@pytest.mark.parametrize("reason", [None, "", "  \n ", 12])
def test_validate_reason_requires_text(reason):
    assert errors_of(lambda: services.validate_reason(reason)) == {"reason": [str(services.REASON_REQUIRED)]}


def test_validate_reason_keeps_the_text_without_surrounding_blanks():
    assert services.validate_reason("  Theo Quyết định 12  ") == "Theo Quyết định 12"


# Rules: ties.


def tie(city, mine: dict, theirs: dict) -> bool:
    """Whether a rule with `mine` ties with an active stored rule with `theirs`, other owner, same case type."""
    other = AuthorityRule.objects.create(case_type=city.land, owner=city.consulted, **theirs)
    data = {"case_type": city.land, "owner": city.outsider, **mine}
    found = services.rule_ties(data)
    assert found in ([], [other])
    return found == [other]


D = dt.date


@pytest.mark.parametrize(("mine", "theirs", "ties"), [
    # Validity: inclusive dates, null is open.
    ({}, {}, True),
    ({"valid_from": D(2025, 7, 1)}, {"valid_to": D(2025, 7, 1)}, True),
    ({"valid_from": D(2025, 7, 1)}, {"valid_to": D(2025, 6, 30)}, False),
    ({"valid_to": D(2025, 6, 30)}, {"valid_from": D(2025, 7, 1), "valid_to": D(2025, 12, 31)}, False),
    ({"valid_from": D(2025, 1, 1), "valid_to": D(2025, 12, 31)}, {"valid_from": D(2025, 6, 1)}, True),
    # Locality: both whole-city, the same, or one whole-city while the other is local (with equal specificity).
    ({"locality": "ward"}, {"locality": "ward"}, True),
    ({"locality": "ward"}, {"locality": "commune"}, False),
    ({"locality": "ward"}, {"min_amount": 0}, True),
    ({"min_amount": 100}, {"locality": "commune"}, True),
    # Specificity decides before any tie: a local rule beats a whole-city one.
    ({"locality": "ward"}, {}, False),
    ({"min_amount": 100}, {}, False),
    # Bands [min, max): overlapping, touching, disjoint, open.
    ({"min_amount": 100, "max_amount": 500}, {"min_amount": 400, "max_amount": 900}, True),
    ({"min_amount": 100, "max_amount": 500}, {"min_amount": 500}, False),
    ({"max_amount": 500}, {"min_amount": 499}, True),
    ({"max_amount": 100}, {"max_amount": 50}, True),
    # An inactive rule matches no case.
    ({"active": False}, {}, False),
])
def test_which_rules_tie(city, mine, theirs, ties):
    places = {"ward": city.ward, "commune": city.commune}
    mine = {name: places.get(value, value) for name, value in mine.items()}
    theirs = {name: places.get(value, value) for name, value in theirs.items()}
    AuthorityRule.objects.filter(case_type=city.land).update(active=False)

    assert tie(city, mine, theirs) is ties


def test_rules_of_the_same_owner_or_of_another_type_or_inactive_do_not_tie(city):
    AuthorityRule.objects.filter(pk=city.land_rule.pk).update(active=False)
    AuthorityRule.objects.create(case_type=city.land, owner=city.outsider)
    AuthorityRule.objects.create(case_type=city.permit, owner=city.consulted, active=False)

    assert services.rule_ties({"case_type": city.land, "owner": city.outsider}) == []
    assert services.rule_ties({"case_type": city.permit, "owner": city.outsider}) == [city.permit_rule]


def test_a_rule_does_not_tie_with_itself_when_changed(city):
    assert services.rule_ties({"legal_basis": "Luật Xây dựng 2025"}, rule=city.permit_rule) == []
    assert services.rule_ties({"owner": city.outsider}, rule=city.permit_rule) == []


def test_rule_save_refuses_a_tie_unless_confirmed(city, admin):
    data = {"case_type": city.permit, "owner": city.outsider}

    with pytest.raises(Refused) as refused:
        services.rule_save(actor=admin, rule=None, data=data, reason=REASON)
    saved = services.rule_save(actor=admin, rule=None, data=data, reason=REASON, confirm_tie=True)

    assert refused.value.code == RefusalCode.AMBIGUOUS_RULE
    assert refused.value.payload == {"conflicting_rules": [city.permit_rule.pk]}
    assert f"{city.permit.name} → {city.owner.name}" in refused.value.detail
    assert saved.pk is not None and saved.owner == city.outsider


# Rules: writes and their history.


def test_rule_save_creates_a_rule_in_one_version_with_who_why_and_its_consultees(city, admin):
    rule = services.rule_save(actor=admin, rule=None, data=rule_data(city), reason=REASON)

    rule.refresh_from_db()
    assert list(rule.required_consultees.all()) == [city.consulted]
    [version] = rule.history.all()
    assert (version.history_type, version.history_user, version.history_change_reason) == ("+", admin, REASON)
    assert list(version.required_consultees.values_list("department_id", flat=True)) == [city.consulted.pk]


def test_rule_save_records_one_version_per_change_consultees_included(city, admin):
    rule = city.land_rule
    before = rule.history.count()

    services.rule_save(actor=admin, rule=rule, data={"required_consultees": [city.outsider], "processing_days": 30},
                       reason=REASON)
    services.rule_save(actor=admin, rule=rule, data={"required_consultees": [city.owner]}, reason="Đổi cơ quan")

    assert rule.history.count() == before + 2
    latest, previous = rule.history.order_by("-history_id")[:2]
    assert (previous.history_change_reason, previous.processing_days) == (REASON, 30)
    assert list(previous.required_consultees.values_list("department_id", flat=True)) == [city.outsider.pk]
    assert (latest.history_user, latest.history_change_reason) == (admin, "Đổi cơ quan")
    assert list(latest.required_consultees.values_list("department_id", flat=True)) == [city.owner.pk]


def test_rule_save_without_consultees_keeps_the_stored_ones(city, admin):
    services.rule_save(actor=admin, rule=city.land_rule, data={"legal_basis": "Luật Đất đai 2024"}, reason=REASON)

    assert set(city.land_rule.required_consultees.all()) == {city.owner, city.outsider}


def test_rule_save_checks_the_stored_rule_not_a_stale_copy(city, admin):
    stale = AuthorityRule.objects.get(pk=city.permit_rule.pk)
    AuthorityRule.objects.filter(pk=stale.pk).update(legal_basis="Luật Xây dựng 2025")

    services.rule_save(actor=admin, rule=stale, data={"processing_days": 10}, reason=REASON)

    city.permit_rule.refresh_from_db()
    assert (city.permit_rule.legal_basis, city.permit_rule.processing_days) == ("Luật Xây dựng 2025", 10)


def test_a_refused_rule_save_writes_nothing(city, admin):
    history, token = AuthorityRule.history.count(), generations.current(generations.RULES)

    with pytest.raises(ValidationError):
        services.rule_save(actor=admin, rule=city.land_rule, data={"owner": city.owner}, reason=REASON)
    with pytest.raises(ValidationError):
        services.rule_save(actor=admin, rule=city.land_rule, data={"legal_basis": "x"}, reason="")

    city.land_rule.refresh_from_db()
    assert city.land_rule.owner == city.consulted
    assert AuthorityRule.history.count() == history
    assert generations.current(generations.RULES) == token


def test_rule_delete_keeps_who_and_why(city, admin):
    rule_id = city.permit_rule.pk

    services.rule_delete(actor=admin, rule=city.permit_rule, reason=REASON)

    deletion = AuthorityRule.history.get(id=rule_id, history_type="-")
    assert (deletion.history_user, deletion.history_change_reason) == (admin, REASON)


def test_rule_delete_needs_a_reason(city, admin):
    with pytest.raises(ValidationError):
        services.rule_delete(actor=admin, rule=city.permit_rule, reason="  ")

    assert AuthorityRule.objects.filter(pk=city.permit_rule.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_tying_rules_at_once_do_not_both_succeed(city, admin):
    skip_unless_postgres()
    AuthorityRule.objects.filter(pk=city.permit_rule.pk).update(active=False)

    def add(owner):
        return lambda: services.rule_save(actor=admin, rule=None, data={"case_type": city.permit, "owner": owner},
                                          reason=REASON).pk

    outcomes = run_together(add(city.owner), add(city.outsider))

    assert sorted(outcomes, key=str).count(RefusalCode.AMBIGUOUS_RULE) == 1
    assert AuthorityRule.objects.filter(case_type=city.permit, active=True).count() == 1


# One validation for both doors.


API = "/api/v1/authority-rules/"
ADMIN_ADD = reverse("admin:departments_authorityrule_add")


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def api_body(rule: dict, reason) -> dict:
    body = {"case_type": rule["case_type"].code, "locality": rule["locality"].code if rule["locality"] else None,
            "min_amount": money(rule["min_amount"]), "max_amount": money(rule["max_amount"]),
            "owner": rule["owner"].code, "decision_level": rule["decision_level"], "legal_basis": rule["legal_basis"],
            "required_consultees": [unit.code for unit in rule["required_consultees"]],
            "valid_from": rule["valid_from"], "valid_to": rule.get("valid_to"), "confirm_tie": rule["confirm_tie"]}
    if reason is not None:
        body["reason"] = reason
    return body


def admin_post(rule: dict, reason) -> dict:
    data = {"case_type": rule["case_type"].pk, "locality": rule["locality"].pk if rule["locality"] else "",
            "min_amount": rule["min_amount"] or "", "max_amount": rule["max_amount"] or "",
            "owner": rule["owner"].pk, "decision_level": rule["decision_level"], "legal_basis": rule["legal_basis"],
            "required_consultees": [unit.pk for unit in rule["required_consultees"]],
            "processing_days": "", "consultation_days": "", "valid_from": rule["valid_from"] or "",
            "valid_to": rule.get("valid_to") or "", "active": "on", "reason": reason or ""}
    if rule["confirm_tie"]:
        data["confirm_tie"] = "on"
    return data


def through_api(client, rule, reason):
    response = client.post(API, api_body(rule, reason), format="json")
    if response.status_code == 201:
        return "saved", None
    if response.status_code == 409:
        return "refused", response.json()["detail"]
    assert response.status_code == 400, response.content
    return "invalid", response.json()


def through_admin(client, rule, reason):
    response = client.post(ADMIN_ADD, admin_post(rule, reason))
    if response.status_code == 302:
        return "saved", None
    form = response.context["adminform"].form
    if form.non_field_errors():
        [error] = form.non_field_errors()
        return "refused", error
    return "invalid", {field: list(messages) for field, messages in form.errors.items()}


def rolled_back(send):
    """The outcome of one write, undone afterwards, so that both doors start from the same city."""
    with transaction.atomic():
        outcome = send()
        transaction.set_rollback(True)
    return outcome


@pytest.mark.parametrize("case", [
    "owner_is_city_committee", "owner_inactive", "owner_among_consultees", "max_not_above_min",
    "validity_ends_before_it_starts", "tie_without_confirmation", "tie_with_confirmation", "missing_reason",
])
def test_admin_equals_api_for_rule_validation(city, api, client, case):
    # A Finance Department rule for land in Lê Chân worth 1 billion đồng or more: the new rule below ties with it.
    AuthorityRule.objects.create(case_type=city.land, locality=city.ward, min_amount=1_000_000_000,
                                 owner=city.consulted)
    rule = {**rule_data(city, owner=city.outsider, required_consultees=[city.owner], legal_basis="QĐ 12",
                        decision_level="department", min_amount=None, max_amount=Decimal(900_000_000)),
            "confirm_tie": False}
    reason = REASON
    if case == "owner_is_city_committee":
        rule["owner"] = city.city_committee
    elif case == "owner_inactive":
        Department.objects.filter(pk=city.outsider.pk).update(active=False)
        rule["owner"] = Department.objects.get(pk=city.outsider.pk)
    elif case == "owner_among_consultees":
        rule["required_consultees"] = [city.owner, city.outsider]
    elif case == "max_not_above_min":
        rule.update(min_amount=Decimal(900_000_000))
    elif case == "validity_ends_before_it_starts":
        rule["valid_to"] = dt.date(2025, 6, 30)
    elif case.startswith("tie_"):
        rule.update(max_amount=None, min_amount=Decimal(5_000_000_000), confirm_tie=case == "tie_with_confirmation")
    elif case == "missing_reason":
        reason = None
    client.force_login(city.user("admin"))
    before = AuthorityRule.objects.count()

    by_api = rolled_back(lambda: through_api(api("admin"), rule, reason))
    by_admin = rolled_back(lambda: through_admin(client, rule, reason))

    expected = {"tie_with_confirmation": "saved", "tie_without_confirmation": "refused"}.get(case, "invalid")
    assert (by_api[0], by_admin[0]) == (expected, expected)
    if expected == "invalid":
        assert by_api[1] == by_admin[1]
        assert len(by_api[1]) == 1
    elif expected == "refused":
        assert by_api[1] in by_admin[1]
    assert AuthorityRule.objects.count() == before
