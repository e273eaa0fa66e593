"""Routing by authority rules, table-driven over every matching situation of DESIGN.md §3."""

import datetime as dt
from decimal import Decimal

import pytest

from departments.models import AuthorityRule, CaseType, Department, DepartmentKind
from departments.routing import AMBIGUOUS_RULE, NO_RULE, RoutingIndex, get_index, preview

D = dt.date


@pytest.fixture
def world(db):
    """A case type with no rules yet, units to own it, two localities."""
    units = {code: Department.objects.create(code=code, name=code.upper(), kind=DepartmentKind.DEPARTMENT)
             for code in ("a", "b", "c")}
    units["ward"] = Department.objects.create(code="ward", name="Phường", kind=DepartmentKind.COMMUNE)
    units["other-ward"] = Department.objects.create(code="other-ward", name="Phường khác", kind=DepartmentKind.COMMUNE)
    case_type = CaseType.objects.create(code="matter", name="Matter", processing_days=10)
    return units, case_type


def add_rule(world, owner, **fields):
    units, case_type = world
    if "locality" in fields and fields["locality"] is not None:
        fields["locality"] = units[fields["locality"]]
    for key in ("min_amount", "max_amount"):
        if fields.get(key) is not None:
            fields[key] = Decimal(fields[key])
    return AuthorityRule.objects.create(case_type=case_type, owner=units[owner], **fields)


JUNE_FIRST = D(2026, 6, 1)


def decide(world, locality=None, amount=None, on=JUNE_FIRST):
    units, case_type = world
    return get_index().decide(
        case_type_id=case_type.pk, locality_id=units[locality].pk if locality else None,
        amount=Decimal(amount) if amount is not None else None, on=on,
    )


# (situation, rules as (owner, fields), case (locality, amount, date), expected owner or triage reason)
CASES = [
    ("no rule at all", [], (None, None, D(2026, 6, 1)), NO_RULE),
    ("one city-wide rule", [("a", {})], (None, None, D(2026, 6, 1)), "a"),
    ("city-wide rule applies in any locality", [("a", {})], ("ward", None, D(2026, 6, 1)), "a"),
    ("inactive rule is ignored", [("a", {"active": False})], (None, None, D(2026, 6, 1)), NO_RULE),
    ("valid_from is inclusive", [("a", {"valid_from": D(2026, 6, 1)})], (None, None, D(2026, 6, 1)), "a"),
    ("before valid_from", [("a", {"valid_from": D(2026, 6, 2)})], (None, None, D(2026, 6, 1)), NO_RULE),
    ("valid_to is inclusive", [("a", {"valid_to": D(2026, 6, 1)})], (None, None, D(2026, 6, 1)), "a"),
    ("after valid_to", [("a", {"valid_to": D(2026, 5, 31)})], (None, None, D(2026, 6, 1)), NO_RULE),
    ("expired rule handed over to a successor",
     [("a", {"valid_to": D(2025, 6, 30)}), ("b", {"valid_from": D(2025, 7, 1)})],
     (None, None, D(2026, 6, 1)), "b"),
    ("the old rule still routes an old receipt",
     [("a", {"valid_to": D(2025, 6, 30)}), ("b", {"valid_from": D(2025, 7, 1)})],
     (None, None, D(2025, 6, 30)), "a"),
    ("locality rule beats the city-wide rule", [("a", {}), ("b", {"locality": "ward"})],
     ("ward", None, D(2026, 6, 1)), "b"),
    ("locality rule does not apply elsewhere", [("a", {}), ("b", {"locality": "ward"})],
     ("other-ward", None, D(2026, 6, 1)), "a"),
    ("locality rule does not apply without a locality", [("b", {"locality": "ward"})],
     (None, None, D(2026, 6, 1)), NO_RULE),
    ("min_amount is inclusive", [("a", {"min_amount": "100"})], (None, "100", D(2026, 6, 1)), "a"),
    ("below min_amount", [("a", {"min_amount": "100"})], (None, "99", D(2026, 6, 1)), NO_RULE),
    ("max_amount is exclusive", [("a", {"max_amount": "100"})], (None, "100", D(2026, 6, 1)), NO_RULE),
    ("just below max_amount", [("a", {"max_amount": "100"})], (None, "99", D(2026, 6, 1)), "a"),
    ("zero amount in an open-bottom band", [("a", {"max_amount": "100"})], (None, "0", D(2026, 6, 1)), "a"),
    ("a banded rule never matches a case without an amount", [("a", {"min_amount": "0"})],
     (None, None, D(2026, 6, 1)), NO_RULE),
    ("without an amount the unbanded rule wins", [("a", {}), ("b", {"min_amount": "0"})],
     (None, None, D(2026, 6, 1)), "a"),
    ("adjacent bands: lower", [("a", {"max_amount": "300"}), ("b", {"min_amount": "300"})],
     (None, "299", D(2026, 6, 1)), "a"),
    ("adjacent bands: boundary goes to the upper band", [("a", {"max_amount": "300"}), ("b", {"min_amount": "300"})],
     (None, "300", D(2026, 6, 1)), "b"),
    ("band beats the unbanded rule", [("a", {}), ("b", {"min_amount": "300"})], (None, "500", D(2026, 6, 1)), "b"),
    ("locality and band beat locality alone",
     [("a", {"locality": "ward"}), ("b", {"locality": "ward", "max_amount": "1000"})],
     ("ward", "10", D(2026, 6, 1)), "b"),
    ("locality alone ties band alone: different owners", [("a", {"locality": "ward"}), ("b", {"max_amount": "1000"})],
     ("ward", "10", D(2026, 6, 1)), AMBIGUOUS_RULE),
    ("two city-wide rules, different owners", [("a", {}), ("b", {})], (None, None, D(2026, 6, 1)), AMBIGUOUS_RULE),
    ("two city-wide rules, same owner", [("a", {}), ("a", {"legal_basis": "newer"})], (None, None, D(2026, 6, 1)), "a"),
    ("a tie below a more specific rule does not matter",
     [("a", {}), ("b", {}), ("c", {"locality": "ward"})], ("ward", None, D(2026, 6, 1)), "c"),
    ("overlapping bands, different owners", [("a", {"min_amount": "0"}), ("b", {"max_amount": "500"})],
     (None, "100", D(2026, 6, 1)), AMBIGUOUS_RULE),
]


@pytest.mark.parametrize(("rules", "case", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_matching(world, rules, case, expected):
    for owner, fields in rules:
        add_rule(world, owner, **fields)
    locality, amount, on = case
    decision = decide(world, locality, amount, on)
    units, _ = world
    if expected in (NO_RULE, AMBIGUOUS_RULE):
        assert decision.rule is None
        assert decision.reason == expected
    else:
        assert decision.reason == ""
        assert decision.owner_id == units[expected].pk


def test_ambiguous_names_the_conflicting_rules(world):
    first = add_rule(world, "a")
    second = add_rule(world, "b")
    decision = decide(world)
    assert [e.id for e in decision.conflicting] == [first.pk, second.pk]


def test_same_owner_tie_takes_the_newest_terms(world):
    add_rule(world, "a", valid_from=D(2025, 1, 1), processing_days=20)
    newer = add_rule(world, "a", valid_from=D(2026, 1, 1), processing_days=7)
    decision = decide(world)
    assert decision.rule.id == newer.pk
    assert decision.rule.processing_days == 7


def test_rule_edits_rebuild_the_index(world):
    rule = add_rule(world, "a")
    assert decide(world).owner_id == rule.owner_id
    units, _ = world
    rule.owner = units["b"]
    rule.save()
    assert decide(world).owner_id == units["b"].pk
    rule.delete()
    assert decide(world).reason == NO_RULE


def test_consultee_changes_rebuild_the_index(world):
    units, _ = world
    rule = add_rule(world, "a")
    assert decide(world).rule.consultee_codes == ()
    rule.required_consultees.set([units["c"], units["b"]])
    assert decide(world).rule.consultee_codes == ("b", "c")


def test_index_is_reused_while_rules_are_unchanged(world, django_assert_num_queries):
    add_rule(world, "a")
    get_index()
    with django_assert_num_queries(1):  # only the generation check
        decide(world)


def test_processing_days_fall_back_to_the_case_type(world):
    add_rule(world, "a")
    assert decide(world).rule.processing_days == 10
    add_rule(world, "b", locality="ward", processing_days=3)
    assert decide(world, "ward").rule.processing_days == 3


def test_snapshot_keeps_the_terms(world):
    units, _ = world
    rule = add_rule(world, "a", legal_basis="Điều 1", consultation_days=4)
    rule.required_consultees.set([units["b"]])
    snapshot = decide(world).rule.snapshot()
    assert snapshot == {"rule_id": rule.pk, "owner": "a", "decision_level": "department",
                        "required_consultees": ["b"], "processing_days": 10, "consultation_days": 4,
                        "legal_basis": "Điều 1"}


def test_preview_gives_the_due_date_in_working_days(world):
    add_rule(world, "a")
    units, case_type = world
    # Friday 13 February 2026, the last working day before Tết: ten working days end on 6 March.
    result = preview(case_type_id=case_type.pk, locality_id=None, amount=None, received_on=D(2026, 2, 13))
    assert result.due_date == D(2026, 3, 6)
    assert result.as_dict()["owner"] == "a"


def test_preview_without_rule_has_no_due_date(world):
    units, case_type = world
    result = preview(case_type_id=case_type.pk, locality_id=None, amount=None, received_on=D(2026, 2, 13))
    assert result.due_date is None
    assert result.as_dict() == {"owner": None, "reason": NO_RULE, "conflicting_rules": []}


def test_index_built_without_database_matches_directly():
    """The index is plain data: usable for the benchmark and for an admin's what-if tester alike."""
    assert RoutingIndex([]).decide(case_type_id=1, locality_id=None, amount=None, on=D(2026, 1, 1)).reason == NO_RULE
