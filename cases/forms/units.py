"""Every unit, read once for a case page, so that its panels and action forms don't each ask again."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from departments.models import Department, DepartmentKind


def takes_cases(unit: Department) -> bool:
    """The Python twin of `routable_departments()`: active, and not the City Committee itself."""
    return unit.active and unit.kind != DepartmentKind.CITY_COMMITTEE


def consultable_units(case) -> QuerySet[Department]:
    """Units the owner may consult: the rule's required consultees, and any other unit that takes cases."""
    required = case.rule_snapshot.get("required_consultees", ())
    return (Department.objects.filter(Q(code__in=required) | Q(active=True))
            .exclude(kind=DepartmentKind.CITY_COMMITTEE).exclude(pk=case.owner_id))


class UnitDirectory:
    """The units a page names (a city has a few hundred at most, merged ones included), in one query."""

    def __init__(self, units=None):
        self.units = list(Department.objects.all() if units is None else units)
        self.by_pk = {unit.pk: unit for unit in self.units}
        self.by_code = {unit.code: unit for unit in self.units}

    def routable(self, *, exclude_pk=None) -> list[Department]:
        return sorted((unit for unit in self.units if takes_cases(unit) and unit.pk != exclude_pk),
                      key=lambda unit: unit.name)

    def consultable(self, case) -> list[Department]:
        """As `consultable_units(case)`, from the units already read: departments (Sở, ngành) first, the
        usual consultees, then every other unit, each by name."""
        required = set(case.rule_snapshot.get("required_consultees", ()))
        units = [unit for unit in self.units if unit.pk != case.owner_id and unit.kind != DepartmentKind.CITY_COMMITTEE
                 and (unit.active or unit.code in required)]
        return sorted(units, key=lambda unit: (unit.kind != DepartmentKind.DEPARTMENT, unit.name))
