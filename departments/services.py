"""Every write of reference data goes through one function here: units, case types, authority rules, calendar.

The admin and the API both parse their input, call the `validate_*` function of the object in their own
validation (so that errors show on the field at fault), then call the service, which checks the same again
inside its transaction and writes. There is one place per rule, and the two front doors cannot drift apart.

Only superusers write (the `admin` role of DESIGN.md §1): `PermissionDenied` otherwise. Bad input is a
`ValidationError({field: [messages]})`; a rule that would tie with another is `Refused(ambiguous_rule)`
unless the tie is confirmed. Every change of an authority rule keeps its author and reason in the rule's
history (django-simple-history), so that any version can be explained and reverted (DESIGN.md §3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.periods import within_calendar
from core.refusals import RefusalCode, Refused
from departments.models import (
    RULE_HISTORY,
    AuthorityRule,
    CalendarDay,
    CalendarDayKind,
    CaseType,
    DecisionLevel,
    Department,
    DepartmentKind,
)
from departments.workdays import MAX_WORKING_DAYS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    Actor = User | AnonymousUser | None

DEPARTMENT_FIELDS = ("code", "name", "kind", "parent", "national_id", "valid_from", "valid_to", "active")
CASE_TYPE_FIELDS = ("code", "name", "processing_days", "consultation_days", "active")
RULE_FIELDS = ("case_type", "locality", "min_amount", "max_amount", "owner", "decision_level", "processing_days",
               "consultation_days", "legal_basis", "valid_from", "valid_to", "active")
CALENDAR_DAY_FIELDS = ("date", "kind", "name")
LOCALITY_KINDS = frozenset({DepartmentKind.DISTRICT, DepartmentKind.COMMUNE})

# Lazy: the admin form and the serializer name it as their field's own "required" message at import time.
REASON_REQUIRED = gettext_lazy("Give the reason for this change: it is kept in the rule's history.")

Errors = dict[str, list[str]]


# Who may write.


def may_edit_reference_data(actor: Actor) -> bool:
    """Units, case types, rules and the calendar are the admin's (DESIGN.md §1): superusers only."""
    return bool(actor is not None and actor.is_authenticated and actor.is_active and actor.is_superuser)


def require_admin(actor: Actor) -> None:
    if not may_edit_reference_data(actor):
        raise PermissionDenied(_("Only an administrator may change this."))


# Shared checks: plain functions, so that the admin's forms, the serializers and the services agree.


def merged(model: type[models.Model], fields: tuple[str, ...], data: dict[str, Any],
           instance: models.Model | None) -> dict[str, Any]:
    """The object's values after this write: the new ones, else the stored ones, else the model's defaults."""
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"{model.__name__} has no writable field named {', '.join(sorted(unknown))}")
    values = {}
    for name in fields:
        if name in data:
            values[name] = data[name]
        elif instance is not None:
            values[name] = getattr(instance, name)
        else:
            values[name] = cast("models.Field", model._meta.get_field(name)).get_default()
    return values


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _raise(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def _check_required(errors: Errors, values: dict[str, Any], *names: str) -> None:
    for name in names:
        if values[name] is None or values[name] == "":
            _add(errors, name, _("This field is required."))


def _check_choice(errors: Errors, values: dict[str, Any], name: str, choices: type[models.TextChoices]) -> None:
    value = values[name]
    if value not in (None, "") and value not in choices.values:
        _add(errors, name, _("Select a valid choice. %(value)s is not one of the available choices.")
             % {"value": value})


def _check_in_calendar(errors: Errors, values: dict[str, Any], *names: str) -> None:
    # Only dates in the years the working-day calendar covers, as on every other form (core/periods.py).
    for name in names:
        if isinstance(values[name], dt.date):
            try:
                within_calendar(values[name])
            except ValidationError as error:
                _add(errors, name, error.messages[0])


def _check_valid_range(errors: Errors, values: dict[str, Any]) -> None:
    _check_in_calendar(errors, values, "valid_from", "valid_to")
    valid_from, valid_to = values["valid_from"], values["valid_to"]
    if valid_from and valid_to and valid_to < valid_from:
        _add(errors, "valid_to", _("The end of validity cannot be before its start."))


def _check_code_unchanged(errors: Errors, values: dict[str, Any], instance: Department | CaseType | None) -> None:
    # A code names the object in URLs and in every case's rule snapshot, so it never changes.
    if instance is not None and instance.pk is not None and values["code"] != instance.code:
        _add(errors, "code", _("The code cannot be changed."))


def _check_working_days(errors: Errors, values: dict[str, Any], name: str) -> None:
    # Deadline arithmetic has to reach every due date a rule or type can produce (departments/workdays.py).
    days = values[name]
    if days is None:
        return
    if days < 1:
        _add(errors, name, _("Ensure this value is greater than or equal to %(limit_value)s.") % {"limit_value": 1})
    elif days > MAX_WORKING_DAYS:
        _add(errors, name, _("Ensure this value is less than or equal to %(limit_value)s.")
             % {"limit_value": MAX_WORKING_DAYS})


def validate_department(data: dict[str, Any], *, department: Department | None = None) -> dict[str, Any]:
    """A unit keeps its code, has an ordered validity and never sits under itself or its own descendants.

    Returns the unit's values after the write; raises ValidationError with the fields at fault.
    """
    values = merged(Department, DEPARTMENT_FIELDS, data, department)
    errors: Errors = {}
    _check_required(errors, values, "code", "name", "kind")
    _check_choice(errors, values, "kind", DepartmentKind)
    _check_code_unchanged(errors, values, department)
    _check_valid_range(errors, values)
    if department is not None and department.pk is not None:
        ancestor, seen = values["parent"], set()
        # `seen` stops a walk through a loop that older data might already hold.
        while ancestor is not None and ancestor.pk not in seen:
            if ancestor.pk == department.pk:
                _add(errors, "parent", _("A unit cannot be placed under itself."))
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
    _raise(errors)
    return values


def validate_case_type(data: dict[str, Any], *, case_type: CaseType | None = None) -> dict[str, Any]:
    """A case type keeps its code; its processing and consultation periods are 1 to MAX_WORKING_DAYS days."""
    values = merged(CaseType, CASE_TYPE_FIELDS, data, case_type)
    errors: Errors = {}
    _check_required(errors, values, "code", "name", "processing_days")
    _check_code_unchanged(errors, values, case_type)
    _check_working_days(errors, values, "processing_days")
    _check_working_days(errors, values, "consultation_days")
    _raise(errors)
    return values


def validate_calendar_day(data: dict[str, Any], *, day: CalendarDay | None = None) -> dict[str, Any]:
    """An override names its date and whether it is an extra day off or an extra working day (DESIGN.md §3)."""
    values = merged(CalendarDay, CALENDAR_DAY_FIELDS, data, day)
    errors: Errors = {}
    _check_required(errors, values, "date", "kind")
    _check_choice(errors, values, "kind", CalendarDayKind)
    _check_in_calendar(errors, values, "date")
    _raise(errors)
    return values


def rule_values(data: dict[str, Any], *, rule: AuthorityRule | None = None) -> dict[str, Any]:
    """The rule's values after this write, its required consultees (a list of units) included."""
    fields = {name: value for name, value in data.items() if name != "required_consultees"}
    values = merged(AuthorityRule, RULE_FIELDS, fields, rule)
    if "required_consultees" in data:
        values["required_consultees"] = list(data["required_consultees"] or ())
    elif rule is not None and rule.pk is not None:
        values["required_consultees"] = list(rule.required_consultees.all())
    else:
        values["required_consultees"] = []
    return values


def validate_rule(data: dict[str, Any], *, rule: AuthorityRule | None = None) -> dict[str, Any]:
    """The consistency of one authority rule (DESIGN.md §3 "Matching", §2 rule 1 "Route to the owner").

    The owner is a unit that takes cases: never the City Committee, which decides and does not take cases,
    and, while the rule is active, an active unit; the required consultees of an active rule are active
    units and never the owner itself. An inactive rule routes nothing, so it may keep naming units that have
    since closed: that is how the rule of a merged unit is switched off. The amount band is [min, max) with
    min ≥ 0 and max > min; validity ends no earlier than it starts; the rule's own processing and
    consultation periods are 1 to MAX_WORKING_DAYS working days.

    Returns the rule's values after the write; raises ValidationError with the fields at fault.
    """
    values = rule_values(data, rule=rule)
    errors: Errors = {}
    _check_required(errors, values, "case_type", "owner")
    _check_choice(errors, values, "decision_level", DecisionLevel)
    owner, locality, consultees = values["owner"], values["locality"], values["required_consultees"]
    if owner is not None:
        if owner.kind == DepartmentKind.CITY_COMMITTEE:
            _add(errors, "owner", _("The City Committee cannot own a rule: it decides, it does not take cases."))
        elif values["active"] and not owner.active:
            _add(errors, "owner", _("An inactive unit cannot own an active rule."))
    if locality is not None and locality.kind not in LOCALITY_KINDS:
        _add(errors, "locality", _("Only a district or a commune can be a rule's locality."))
    closed = sorted(unit.code for unit in consultees if not unit.active)
    if values["active"] and closed:
        _add(errors, "required_consultees", _("Inactive units cannot be required consultees of an active rule: "
                                              "%(units)s.") % {"units": ", ".join(closed)})
    if owner is not None and owner in consultees:
        _add(errors, "required_consultees", _("The owner cannot be its own required consultee."))
    low, high = values["min_amount"], values["max_amount"]
    if low is not None and low < 0:
        _add(errors, "min_amount", _("The amount cannot be negative."))
    if high is not None and high < 0:
        _add(errors, "max_amount", _("The amount cannot be negative."))
    elif low is not None and high is not None and high <= low:
        _add(errors, "max_amount", _("The maximum amount must be greater than the minimum amount."))
    _check_valid_range(errors, values)
    _check_working_days(errors, values, "processing_days")
    _check_working_days(errors, values, "consultation_days")
    _raise(errors)
    return values


def validate_reason(reason: str | None) -> str:
    """Why a rule changes, as its history keeps it (DESIGN.md §3 "Rule history"): required, never blank."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationError({"reason": [str(REASON_REQUIRED)]})
    return text


# Ties between rules.


def _band(values: dict[str, Any]) -> tuple[Decimal, Decimal | None] | None:
    """The amounts a rule matches as [low, high); None when it has no band and so matches every case."""
    low, high = values["min_amount"], values["max_amount"]
    if low is None and high is None:
        return None
    # Amounts are never negative, so an open lower bound starts at zero.
    return (low if low is not None else Decimal(0)), high


def _bands_overlap(one: tuple[Decimal, Decimal | None] | None, other: tuple[Decimal, Decimal | None] | None) -> bool:
    # A rule without a band matches every amount, so it meets any (non-empty) band.
    if one is None or other is None:
        return True
    low = max(one[0], other[0])
    highs = [high for high in (one[1], other[1]) if high is not None]
    return not highs or low < min(highs)


def _windows_overlap(one: dict[str, Any], other: dict[str, Any]) -> bool:
    # Inclusive dates, null is open: some day of receipt lies in both windows.
    starts = [day for day in (one["valid_from"], other["valid_from"]) if day is not None]
    ends = [day for day in (one["valid_to"], other["valid_to"]) if day is not None]
    return not starts or not ends or max(starts) <= min(ends)


def _localities_meet(one: dict[str, Any], other: dict[str, Any]) -> bool:
    # A whole-city rule (no locality) matches cases of every locality, a local one only its own.
    return one["locality"] is None or other["locality"] is None or one["locality"] == other["locality"]


def _specificity(values: dict[str, Any]) -> int:
    return int(values["locality"] is not None) + int(_band(values) is not None)


def _values_of(rule: AuthorityRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def rule_ties(data: dict[str, Any], *, rule: AuthorityRule | None = None) -> list[AuthorityRule]:
    """The other active rules that could decide one same case as this rule, equally specific, for another owner.

    Such a pair sends every case both match to the triage queue as `ambiguous_rule` (DESIGN.md §2 rule 1,
    §3 "Matching"): same case type; validity windows that overlap; localities both empty, equal, or one
    empty (the whole city) while the other is set; amount bands that overlap; the same specificity. An
    inactive rule matches no case and so ties with nothing.
    """
    fields = {name: value for name, value in data.items() if name != "required_consultees"}
    values = merged(AuthorityRule, RULE_FIELDS, fields, rule)
    case_type, owner = values["case_type"], values["owner"]
    if not values["active"] or case_type is None or owner is None:
        return []
    others = AuthorityRule.objects.filter(case_type=case_type, active=True).exclude(owner=owner)
    if rule is not None and rule.pk is not None:
        others = others.exclude(pk=rule.pk)
    ties = []
    for other in others.select_related("case_type", "owner", "locality").order_by("pk"):
        theirs = _values_of(other)
        if (_windows_overlap(values, theirs) and _localities_meet(values, theirs)
                and _bands_overlap(_band(values), _band(theirs))
                and _specificity(values) == _specificity(theirs)):
            ties.append(other)
    return ties


def tie_refusal(ties: Iterable[AuthorityRule]) -> Refused:
    ties = list(ties)
    return Refused(
        RefusalCode.AMBIGUOUS_RULE,
        _("This rule ties with %(rules)s: a case that both match would wait in triage as an ambiguous rule.")
        % {"rules": ", ".join(str(tie) for tie in ties)},
        conflicting_rules=[tie.pk for tie in ties],
    )


def rule_check(data: dict[str, Any], *, rule: AuthorityRule | None = None,
               confirm_tie: bool = False) -> dict[str, Any]:
    """Everything `rule_save` refuses, before anything is written: ValidationError, or Refused for a tie."""
    values = validate_rule(data, rule=rule)
    ties = rule_ties(data, rule=rule)
    if ties and not confirm_tie:
        raise tie_refusal(ties)
    return values


# The writes.


def _stored(model: type[models.Model], instance: models.Model | None) -> Any:
    """The stored row of `instance`, locked until the transaction ends; None for a new object."""
    if instance is None or instance.pk is None:
        return None
    stored = model._default_manager.select_for_update().filter(pk=instance.pk).first()
    if stored is None:
        # Deleted by someone else since it was read: saving would bring it back under its old id.
        raise ValidationError(_("This was deleted in the meantime; nothing was saved."))
    return stored


def _apply(instance: models.Model, values: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        setattr(instance, name, values[name])


def _write(actor: Actor, model: type[Any], fields: tuple[str, ...], instance: Any, data: dict[str, Any],
           validate: Callable[[dict[str, Any], Any], dict[str, Any]]) -> Any:
    """A unit, a case type or a calendar day, checked against its stored row (locked) and saved."""
    require_admin(actor)
    with transaction.atomic():
        values = validate(data, _stored(model, instance))
        target = instance if instance is not None else model()
        _apply(target, values, fields)
        target.validate_unique()
        target.save()
    return target


def department_save(*, actor: Actor, department: Department | None, data: dict[str, Any]) -> Department:
    """Create a unit or change one (DESIGN.md §1: a unit keeps its code and has validity dates).

    `department` is the unit to change; None, or an unsaved instance (the admin's), creates one.
    """
    return _write(actor, Department, DEPARTMENT_FIELDS, department,
                  data, lambda data, stored: validate_department(data, department=stored))


def case_type_save(*, actor: Actor, case_type: CaseType | None, data: dict[str, Any]) -> CaseType:
    """Create or change a case type; its periods feed every deadline (DESIGN.md §3 "Deadlines").

    `case_type` is the type to change; None, or an unsaved instance, creates one.
    """
    return _write(actor, CaseType, CASE_TYPE_FIELDS, case_type,
                  data, lambda data, stored: validate_case_type(data, case_type=stored))


def _lock_case_types(*case_type_ids: int | None) -> None:
    # Two admins adding rules of one case type at once must not both miss the tie the other creates: each
    # write holds the row of every case type it touches, in id order so that two writers never deadlock.
    ids = sorted({pk for pk in case_type_ids if pk is not None})
    list(CaseType.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _mark_history(rule: AuthorityRule, actor: Actor, reason: str) -> None:
    # simple_history reads both from the instance for each history row it writes, the m2m ones included.
    rule._history_user = actor  # type: ignore[attr-defined]
    rule._change_reason = reason  # type: ignore[attr-defined]


def rule_save(*, actor: Actor, rule: AuthorityRule | None, data: dict[str, Any], reason: str,
              confirm_tie: bool = False) -> AuthorityRule:
    """Create or change an authority rule, with the reason kept in its history (DESIGN.md §3).

    Enforces `validate_rule` and refuses, unless `confirm_tie`, a rule that ties with another active rule
    (`ambiguous_rule`, DESIGN.md §2 rule 1). `data["required_consultees"]`, when given, is the full list.
    `rule` is the rule to change (on the admin's revert page, the version being restored); None, or an
    unsaved instance, creates one. Existing cases keep the rule terms they were routed by; the routing
    index moves with the signals.
    """
    require_admin(actor)
    reason = validate_reason(reason)
    with transaction.atomic():
        stored = _stored(AuthorityRule, rule)
        new_type = data.get("case_type")
        _lock_case_types(stored.case_type_id if stored else None, new_type.pk if new_type is not None else None)
        values = rule_check(data, rule=stored, confirm_tie=confirm_tie)
        target = rule if rule is not None else AuthorityRule()
        _apply(target, values, RULE_FIELDS)
        _mark_history(target, actor, reason)
        # The row and its consultees are saved unrecorded, then one version records both, with who and why.
        target.skip_history_when_saving = True  # type: ignore[attr-defined]
        try:
            target.save()
            target.required_consultees.set(values["required_consultees"])
        finally:
            del target.skip_history_when_saving  # type: ignore[attr-defined]
        RULE_HISTORY.create_historical_record(target, "+" if stored is None else "~")
    return target


def rule_delete(*, actor: Actor, rule: AuthorityRule, reason: str) -> None:
    """Delete an authority rule; its history keeps the deletion with who and why (DESIGN.md §3).

    Cases routed by it keep their snapshot of its terms; new cases it would have matched find another rule
    or wait in triage as `no_rule`.
    """
    require_admin(actor)
    reason = validate_reason(reason)
    with transaction.atomic():
        # Waits for a change of the rule in progress, so that the deletion is the last version in its history.
        _stored(AuthorityRule, rule)
        _mark_history(rule, actor, reason)
        rule.delete()


def calendar_day_save(*, actor: Actor, day: CalendarDay | None, data: dict[str, Any]) -> CalendarDay:
    """Add or change an override of the working-day calendar (DESIGN.md §3 "Working days").

    `day` is the override to change; None, or an unsaved instance, adds one.
    """
    return _write(actor, CalendarDay, CALENDAR_DAY_FIELDS, day,
                  data, lambda data, stored: validate_calendar_day(data, day=stored))


def calendar_day_delete(*, actor: Actor, day: CalendarDay) -> None:
    """Remove an override: the day follows the holidays package again (DESIGN.md §3 "Working days")."""
    require_admin(actor)
    with transaction.atomic():
        day.delete()


