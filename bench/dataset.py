"""A synthetic city for the benchmarks: units, matters and authority rules shaped like real ones.

Every code starts with `bench-` so that the data set can never be mistaken for real units. The mix
imitates what a city's rule book looks like after a reorganization: a citywide rule per matter (the old
version closed on the reorganization day), amount bands where the law sets thresholds, local rules that
give small matters to the commune, superseded local rules, rules announced for a future date, a few
matters with no citywide rule (their gaps go to triage) and a few contradictory local rules (ties).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from departments import generations
from departments.models import AuthorityRule, CaseType, DecisionLevel, Department, DepartmentKind, Role, Staff

PREFIX = "bench-"
# Thresholds in VND, as investment and procurement law sets them.
CITY_BANDS = (Decimal(5_000_000_000), Decimal(50_000_000_000))
LOCAL_THRESHOLDS = (Decimal(1_000_000_000), Decimal(2_000_000_000), Decimal(5_000_000_000))
PROCESSING_DAYS = (3, 5, 7, 10, 15, 20, 30)
HISTORY_DAYS = 730


@dataclass(frozen=True)
class CitySpec:
    rules: int = 5000
    case_types: int = 50
    localities: int = 100
    departments: int = 20
    seed: int = 966


@dataclass(frozen=True)
class CaseInput:
    case_type_id: int
    locality_id: int | None
    amount: Decimal | None
    received_on: dt.date


@dataclass
class BenchCity:
    spec: CitySpec
    clerk: object
    case_type_ids: list[int]
    locality_ids: list[int]
    today: dt.date
    active_rules: int

    @property
    def first_day(self) -> dt.date:
        return self.today - dt.timedelta(days=HISTORY_DAYS)


class _RuleBook:
    """Collects unsaved rules and their consultees, to be written in a few bulk inserts."""

    def __init__(self, rng: random.Random, today: dt.date, departments: list[Department]):
        self.rng = rng
        self.today = today
        self.departments = departments
        self.rules: list[AuthorityRule] = []
        self.consultees: list[list[Department]] = []

    def add(self, case_type: CaseType, owner: Department, *, locality=None, band=(None, None),
            valid_from=None, valid_to=None, level=DecisionLevel.DEPARTMENT, active=True) -> None:
        rng = self.rng
        self.rules.append(AuthorityRule(
            case_type=case_type, locality=locality, min_amount=band[0], max_amount=band[1], owner=owner,
            decision_level=level, processing_days=rng.choice(PROCESSING_DAYS) if rng.random() < 0.3 else None,
            consultation_days=rng.choice((3, 5, 7)) if rng.random() < 0.2 else None,
            legal_basis=f"Quyết định {rng.randint(1, 3000)}/QĐ-UBND", valid_from=valid_from, valid_to=valid_to,
            active=active,
        ))
        others = [d for d in self.departments if d.pk != owner.pk]
        self.consultees.append(rng.sample(others, rng.randint(1, 2)) if rng.random() < 0.3 else [])

    def day_in_history(self) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(30, HISTORY_DAYS - 30))

    def save(self) -> None:
        saved = AuthorityRule.objects.bulk_create(self.rules, batch_size=1000)
        through = AuthorityRule.required_consultees.through
        links = [through(authorityrule_id=rule.pk, department_id=dept.pk)
                 for rule, depts in zip(saved, self.consultees, strict=True) for dept in depts]
        through.objects.bulk_create(links, batch_size=2000)


def _units(spec: CitySpec) -> tuple[Department, list[Department], list[Department]]:
    committee = Department.objects.create(code=f"{PREFIX}ubnd", name="UBND thành phố (bench)",
                                          kind=DepartmentKind.CITY_COMMITTEE)
    departments = Department.objects.bulk_create(
        Department(code=f"{PREFIX}so-{i:02d}", name=f"Sở chuyên ngành {i:02d}", kind=DepartmentKind.DEPARTMENT,
                   parent=committee, national_id=f"BS{i:02d}")
        for i in range(1, spec.departments + 1)
    )
    localities = Department.objects.bulk_create(
        Department(code=f"{PREFIX}px-{i:03d}", name=f"{'Phường' if i % 3 else 'Xã'} {i:03d}",
                   kind=DepartmentKind.COMMUNE if i % 10 else DepartmentKind.DISTRICT, parent=committee)
        for i in range(1, spec.localities + 1)
    )
    return committee, departments, localities


def _rules_for_type(book: _RuleBook, case_type: CaseType, quota: int, localities: list[Department],
                    reorganized: dt.date) -> None:
    rng = book.rng
    start = len(book.rules)
    lead = rng.choice(book.departments)
    if rng.random() >= 0.06:
        book.add(case_type, lead, valid_to=reorganized - dt.timedelta(days=1))
        book.add(case_type, lead if rng.random() < 0.8 else rng.choice(book.departments), valid_from=reorganized)
    # Matters with legal thresholds are banded citywide; their local rules then carry a band too, or they
    # would tie with the citywide bands (equal specificity) and every such case would be ambiguous.
    banded = rng.random() < 0.5
    if banded:
        low, high = CITY_BANDS
        book.add(case_type, lead, band=(None, low))
        book.add(case_type, lead, band=(low, high))
        book.add(case_type, lead, band=(high, None), level=DecisionLevel.CITY_COMMITTEE)
    order = rng.sample(localities, len(localities))
    for turn in range(quota):
        if len(book.rules) - start >= quota:
            break
        place = order[turn % len(order)]
        threshold = rng.choice(LOCAL_THRESHOLDS)
        band = (None, threshold) if banded else (None, None)
        if turn >= len(order):
            # Every locality has its rules: further ones are amendments announced for a future date, which
            # grow the index without changing today's decisions.
            book.add(case_type, place, locality=place, band=band,
                     valid_from=book.today + dt.timedelta(days=rng.randint(1, 365)))
            continue
        kind = rng.random()
        if kind < 0.5:
            book.add(case_type, place if rng.random() < 0.8 else rng.choice(book.departments), locality=place,
                     band=band)
        elif kind < 0.8:
            book.add(case_type, place, locality=place, band=(None, threshold))
            book.add(case_type, lead, locality=place, band=(threshold, None))
        elif kind < 0.98:
            switch = book.day_in_history()
            book.add(case_type, rng.choice(book.departments), locality=place, band=band,
                     valid_to=switch - dt.timedelta(days=1))
            book.add(case_type, place, locality=place, band=band, valid_from=switch)
        else:
            # Two units both claim the matter: the tie that sends a case to triage as ambiguous_rule.
            book.add(case_type, place, locality=place, band=band)
            book.add(case_type, lead, locality=place, band=band)
    del book.rules[start + quota:]
    del book.consultees[start + quota:]


@transaction.atomic
def build_city(spec: CitySpec, *, today: dt.date) -> BenchCity:
    """Write the data set; the routing index is told through the generation counter, as an admin edit would."""
    rng = random.Random(spec.seed)
    _committee, departments, localities = _units(spec)
    case_types = CaseType.objects.bulk_create(
        CaseType(code=f"{PREFIX}loai-{i:02d}", name=f"Loại công việc {i:02d}",
                 processing_days=rng.choice(PROCESSING_DAYS), consultation_days=rng.choice((None, 5, 7)))
        for i in range(1, spec.case_types + 1)
    )
    book = _RuleBook(rng, today, departments)
    reorganized = today - dt.timedelta(days=HISTORY_DAYS // 2)
    per_type, extra = divmod(spec.rules, spec.case_types)
    for i, case_type in enumerate(case_types):
        _rules_for_type(book, case_type, per_type + (1 if i < extra else 0), localities, reorganized)
    # Switched-off rules stay in the table, as they do in production; the index must skip them.
    for _ in range(spec.rules // 50):
        book.add(rng.choice(case_types), rng.choice(departments), locality=rng.choice(localities), active=False)
    book.save()
    generations.bump(generations.RULES)

    clerk = get_user_model().objects.create_user(username=f"{PREFIX}clerk", password=None,
                                                 first_name="Lan", last_name="Nguyễn Thị")
    Staff.objects.create(user=clerk, department=departments[0], role=Role.CLERK)
    return BenchCity(spec=spec, clerk=clerk, case_type_ids=[c.pk for c in case_types],
                     locality_ids=[p.pk for p in localities], today=today,
                     active_rules=AuthorityRule.objects.filter(active=True, case_type__in=case_types).count())


def case_inputs(city: BenchCity, count: int, *, seed: int = 1) -> list[CaseInput]:
    """Random cases as an intake desk meets them: some without a place, many without an amount."""
    rng = random.Random(seed)
    inputs = []
    for _ in range(count):
        amount = None if rng.random() < 0.35 else Decimal(int(10 ** rng.uniform(6, 11.5)))
        inputs.append(CaseInput(
            case_type_id=rng.choice(city.case_type_ids),
            locality_id=None if rng.random() < 0.08 else rng.choice(city.locality_ids),
            amount=amount,
            received_on=city.first_day + dt.timedelta(days=rng.randint(0, HISTORY_DAYS)),
        ))
    return inputs
