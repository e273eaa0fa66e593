"""`manage.py load_demo`: the demo city of `departments/demo.py`, its cases and its oversight records (DESIGN.md §5).

Safe to run again: every row is found by its code, username or rule key and only the values that differ
are written, so a second run saves nothing, adds no rule history and leaves the routing caches warm.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from departments import demo
from departments.models import (
    AuthorityRule,
    CalendarDay,
    CaseType,
    DecisionLevel,
    Department,
    DepartmentKind,
    Role,
    Staff,
)

# Recorded as the change reason of the rule history rows this command writes.
CHANGE_REASON = "load_demo"


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    department: str
    password_set: bool


def upsert(model, lookup: dict, values: dict):
    """Find the row by `lookup` (create it if missing) and write only the `values` that differ."""
    obj = model.objects.filter(**lookup).order_by("pk").first()
    if obj is None:
        obj = model(**lookup, **values)
        obj._change_reason = CHANGE_REASON
        obj.save()
        return obj, True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj._change_reason = CHANGE_REASON
        obj.save(update_fields=changed)
    return obj, False


def load_units() -> dict[str, Department]:
    units = {}
    # The committee comes first in the data, so its children find it.
    for code, name, kind, national_id in demo.CITY_UNITS:
        parent_id = None if code == demo.CITY_COMMITTEE else units[demo.CITY_COMMITTEE].pk
        units[code], _created = upsert(Department, {"code": code}, {
            "name": name, "kind": kind, "national_id": national_id, "parent_id": parent_id, "active": True,
            "valid_from": None, "valid_to": None,
        })
    committee_id = units[demo.CITY_COMMITTEE].pk
    for code, name, national_id in demo.COMMUNES:
        units[code], _created = upsert(Department, {"code": code}, {
            "name": name, "kind": DepartmentKind.COMMUNE, "national_id": national_id, "parent_id": committee_id,
            "active": True, "valid_from": demo.TWO_TIER_START, "valid_to": None,
        })
    for code, name, national_id in demo.FORMER_DISTRICTS:
        units[code], _created = upsert(Department, {"code": code}, {
            "name": name, "kind": DepartmentKind.DISTRICT, "national_id": national_id, "parent_id": committee_id,
            "active": False, "valid_from": None, "valid_to": demo.DISTRICTS_END,
        })
    return units


def load_case_types() -> dict[str, CaseType]:
    case_types = {}
    for code, name, processing_days, consultation_days in demo.CASE_TYPES:
        case_types[code], _created = upsert(CaseType, {"code": code}, {
            "name": name, "processing_days": processing_days, "consultation_days": consultation_days, "active": True,
        })
    return case_types


def load_rules(units: dict[str, Department], case_types: dict[str, CaseType]) -> None:
    for spec in demo.RULES:
        locality = spec.get("locality")
        lookup = {
            "case_type_id": case_types[spec["case_type"]].pk,
            "locality_id": units[locality].pk if locality else None,
            "min_amount": spec.get("min_amount"),
            "max_amount": spec.get("max_amount"),
            "valid_from": spec.get("valid_from"),
        }
        rule, _created = upsert(AuthorityRule, lookup, {
            "owner_id": units[spec["owner"]].pk,
            "decision_level": spec.get("decision_level", DecisionLevel.DEPARTMENT),
            "processing_days": spec.get("processing_days"),
            "consultation_days": spec.get("consultation_days"),
            "legal_basis": spec["legal_basis"],
            "valid_to": spec.get("valid_to"),
            "active": True,
        })
        wanted = {units[code].pk for code in spec.get("required_consultees", ())}
        if set(rule.required_consultees.values_list("pk", flat=True)) != wanted:
            rule._change_reason = CHANGE_REASON
            rule.required_consultees.set(wanted)


def load_calendar() -> None:
    for day, kind, name in demo.CALENDAR_DAYS:
        upsert(CalendarDay, {"date": day}, {"kind": kind, "name": name})


def upsert_user(username: str, full_name: str, *, superuser: bool, reset_password: bool):
    family, _sep, given = full_name.partition(" ")
    user, created = upsert(get_user_model(), {"username": username}, {
        "first_name": family, "last_name": given, "email": f"{username}@haiphong.example",
        "is_staff": superuser, "is_superuser": superuser, "is_active": True,
    })
    # Someone may have changed a demo password on purpose; only a new user or an explicit reset gets it.
    password_set = created or reset_password
    if password_set:
        user.set_password(demo.DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user, password_set


def load_users(units: dict[str, Department], *, reset_passwords: bool) -> list[Login]:
    logins = []
    for username, full_name, unit_code, role in demo.USERS:
        user, password_set = upsert_user(username, full_name, superuser=False, reset_password=reset_passwords)
        unit = units[unit_code]
        upsert(Staff, {"user_id": user.pk}, {"department_id": unit.pk, "role": role})
        logins.append(Login(username, str(Role(role).label), unit.name, password_set))
    username, full_name = demo.SUPERUSER
    _user, password_set = upsert_user(username, full_name, superuser=True, reset_password=reset_passwords)
    logins.append(Login(username, _("Administrator"), "", password_set))
    return logins


def load_cases(units: dict[str, Department], case_types: dict[str, CaseType]) -> int:
    """Log the demo cases through the intake service, so they are routed as real ones are."""
    from cases.models import Case

    if Case.unscoped.exists():
        return 0
    from django.test.utils import override_settings

    clerk = get_user_model().objects.get(username=demo.INTAKE_CLERK)
    now = timezone.now()
    oldest = max(spec["days_ago"] for spec in demo.CASES)
    # The demo's history is weeks old and logged by its intake clerk, so that each case is routed from the desk
    # that received it; on a real site a receipt that old is an admin's to log (MAX_BACKDATE_DAYS).
    with override_settings(MAX_BACKDATE_DAYS=max(settings.MAX_BACKDATE_DAYS, oldest + 1)):
        _log_demo_cases(clerk, units, case_types, now)
    return len(demo.CASES)


def _log_demo_cases(clerk, units: dict[str, Department], case_types: dict[str, CaseType], now) -> None:
    from cases.services import case_create

    for spec in demo.CASES:
        locality = spec.get("locality")
        case_create(
            actor=clerk, title=spec["title"], case_type=case_types[spec["case_type"]],
            locality=units[locality] if locality else None, amount=spec.get("amount"), source=spec["source"],
            applicant_name=spec["applicant_name"], key_task=spec.get("key_task", False),
            received_at=now - dt.timedelta(days=spec["days_ago"]),
        )


def login_table(logins: list[Login]) -> str:
    header = (_("username"), _("role"), _("department"), _("password"))
    rows = [(login.username, login.role, login.department,
             demo.DEMO_PASSWORD if login.password_set else _("(unchanged)")) for login in logins]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if not all(login.password_set for login in logins):
        lines.append(_("Existing users kept their passwords; --reset-passwords sets them to %(password)s.")
                     % {"password": demo.DEMO_PASSWORD})
    return "\n".join(lines)


class Command(BaseCommand):
    # A property, not a lazy string: argparse's formatter runs regular expressions on it, which need a real str.
    @property
    def help(self):
        return _("Load the demo city: units, case types, authority rules, calendar, one login per role and demo cases.")

    def add_arguments(self, parser):
        parser.add_argument("--reset-passwords", action="store_true",
                            help=_("Set every demo login's password back to the demo password."))
        parser.add_argument("--quiet", action="store_true", help=_("Do not print the table of demo logins."))

    def handle(self, *args, reset_passwords=False, quiet=False, **options):
        with transaction.atomic():
            units = load_units()
            case_types = load_case_types()
            load_rules(units, case_types)
            load_calendar()
            logins = load_users(units, reset_passwords=reset_passwords)
            if load_cases(units, case_types):
                from oversight.demo import load_oversight

                load_oversight()
        # The sweep flags the backdated demo cases now, so the bell and the overdue desk show them at once
        # rather than at the worker's first run.
        from cases.deadlines import flag_overdue

        swept = flag_overdue()
        if not quiet:
            self.stdout.write(login_table(logins))
            self.stdout.write(str(swept))
