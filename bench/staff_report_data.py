"""The staff report benchmark's city: a million cases with the people behind every figure, loaded in bulk.

The staff performance report counts, per person, cases resolved in a period and how many of
them late, running cases overdue today, late returns, refused attempts to pass the unit's own work on, and
consultations answered late. This data set gives every one of those figures real volume: a city of units
each with a head, deputies, specialists and an intake clerk; two years of cases received day after day (so
ids follow time, as in production); most of them resolved by their assignee, some late, with the working
days they took; running work, some of it stuck and overdue today; returns of cases that were not the
unit's (some late); refused attempts (`refused` events, a share of them `within_own_authority`); and
consultations answered by people of the consulted unit, some after their deadline. Each person has habits
drawn once (how often late, how often stuck, ...), so the report's review and commendation lists both have
people on them.

The generator also tallies, per local day, what it wrote for each figure: the benchmark checks the
report's totals against that tally, an account of the rows kept independently of the report's queries.

The loading machinery is the deadline benchmark's (`deadlines_data`): rows streamed to COPY under the
models' own table and column names, plain indexes and foreign keys dropped for the load and created again
from the catalog, VACUUM ANALYZE after. The partial indexes the reports read (`case_resolved_at`,
`event_refusals_at`, ...) stay in place during the load, and the build checks that every index the
migrations made is there afterwards, with the same definition. A marker table remembers the spec, the
migrations and the local day, so a run on the same day reuses the data set.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from bench.deadlines_data import (
    APPLICANTS,
    CASE_FIELDS,
    CONSULTATION_FIELDS,
    HISTORY_DAYS,
    PREFIX,
    QUESTIONS,
    TITLES,
    _analyse,
    _bulk_load,
    _Dates,
    _next_id,
    _Random,
    _reset_sequences,
    _Table,
)
from bench.marker import Marker
from cases.models import (
    RUNNING_STATUSES,
    Case,
    CaseEvent,
    Consultation,
    ConsultationStatus,
    EventAction,
    Position,
    Return,
    Source,
    Status,
)
from core.refusals import RefusalCode
from departments.models import CaseType, Department, DepartmentKind, Role, Staff
from departments.workdays import get_calendar, local_date
from oversight.models import ReviewThresholds

MARKER_TABLE = "bench_staff_dataset"
READER_USERNAME = f"{PREFIX}staff-home-affairs"

FAMILY_NAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương")
GIVEN_NAMES = ("An", "Bình", "Cường", "Dung", "Đức", "Giang", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Minh",
               "Nam", "Ngọc", "Phong", "Quân", "Thảo", "Trang", "Tuấn", "Yến")
RETURN_REASONS = ("Không thuộc thẩm quyền giải quyết của đơn vị", "Hồ sơ thuộc lĩnh vực của Sở khác")
# Refusals other than `within_own_authority`, with what was attempted: the report must not count them.
OTHER_REFUSALS = (("target_not_competent", "transfer"), ("consultations_pending", "submit"),
                  ("invalid_transition", "resolve"), ("not_owner", "accept"), ("already_extended", "extend"))
OWN_WORK_ATTEMPTS = ("return", "return", "transfer", "transfer", "submit")
# The figures the generator tallies per local day, named as the report's Figure values.
TALLIES = ("handled", "rated", "handled_late", "late_returns", "refusals", "late_consultations")

STAFF_CASE_FIELDS = [*CASE_FIELDS, "working_days_taken"]
EVENT_FIELDS = ["case", "at", "actor", "action", "from_status", "to_status", "from_department", "to_department",
                "note", "payload"]
RETURN_FIELDS = ["case", "department", "returned_by", "returned_at", "reason", "late", "working_days_held",
                 "competent_department"]
# Consultation ids are left to the table's sequence.
STAFF_CONSULTATION_FIELDS = [name for name in CONSULTATION_FIELDS if name != "id"]


@dataclass(frozen=True)
class StaffSpec:
    """How big the city is and how often each thing the report counts happens."""

    cases: int = 1_000_000
    departments: int = 40
    communes: int = 114
    largest_share: float = 0.15
    return_share: float = 0.02
    refusal_share: float = 0.02
    own_work_share: float = 0.65  # of the refusals, those coded `within_own_authority`
    consultation_share: float = 0.2
    no_due_date_share: float = 0.005  # resolved cases from before due dates were kept: handled, not rated
    seed: int = 966

    def check(self) -> None:
        if self.cases < 100 or self.departments < 2 or self.communes < 1:
            raise ValueError("the staff data set needs at least 100 cases, two departments and one commune")


@dataclass
class StaffCity:
    """What the benchmark needs to know about a built data set."""

    spec: StaffSpec
    today: dt.date
    generated_at: dt.datetime
    build_seconds: float
    reader_id: int  # the Home Affairs user who opens the report
    reused: bool = False
    counts: dict = field(default_factory=dict)
    # figure -> {local day (ISO) -> rows}, as the generator wrote them
    tally: dict[str, dict[str, int]] = field(default_factory=dict)
    overdue_now: int = 0

    def expected(self, since: dt.date, until: dt.date) -> dict[str, int]:
        """The report's totals over all people for a period, from the generator's own account."""
        first, last = since.isoformat(), until.isoformat()
        totals = {name: sum(n for day, n in self.tally.get(name, {}).items() if first <= day <= last)
                  for name in TALLIES}
        return totals | {"overdue": self.overdue_now}


# The city -------------------------------------------------------------------------------------------------

@dataclass
class _Habits:
    """How one person works, drawn once: the report should find a few who need review and a few to commend."""

    late: float
    stuck: float
    late_return: float
    refusals: float
    late_answer: float


@dataclass
class _Unit:
    id: int
    code: str
    prefix: str
    head_id: int
    clerk_id: int
    handlers: list[int]  # who is assigned work, weighted: specialists most, deputies less, the head least


def _habits(rng: _Random) -> _Habits:
    draw = rng.random()
    late = rng.uniform(0.01, 0.08) if draw < 0.8 else rng.uniform(0.15, 0.35) if draw < 0.95 else \
        rng.uniform(0.4, 0.6)
    stuck = rng.uniform(0.0002, 0.001) if rng.random() < 0.85 else rng.uniform(0.003, 0.01)
    late_return = rng.uniform(0.05, 0.2) if rng.random() < 0.85 else rng.uniform(0.5, 0.8)
    refusals = 1.0 if rng.random() < 0.9 else 8.0
    late_answer = rng.uniform(0.02, 0.12) if rng.random() < 0.9 else rng.uniform(0.3, 0.5)
    return _Habits(late, stuck, late_return, refusals, late_answer)


def _units(spec: StaffSpec, rng: _Random) -> tuple[list[_Unit], dict[int, _Habits], int]:
    """The committee, departments and communes with their people, and Home Affairs with the report's reader."""
    committee = Department.objects.create(code=f"{PREFIX}st-ubnd", name="UBND thành phố (bench)",
                                          kind=DepartmentKind.CITY_COMMITTEE)
    home_affairs = Department.objects.create(code=f"{PREFIX}st-snv", name="Sở Nội vụ (bench)",
                                             kind=DepartmentKind.HOME_AFFAIRS, parent=committee)
    units = Department.objects.bulk_create(
        [Department(code=f"{PREFIX}st-so-{i:02d}", name=f"Sở chuyên ngành {i:02d} (bench)",
                    kind=DepartmentKind.DEPARTMENT, parent=committee, national_id=f"SD{i:02d}")
         for i in range(1, spec.departments + 1)]
        + [Department(code=f"{PREFIX}st-px-{i:03d}", name=f"{'Phường' if i % 3 else 'Xã'} {i:03d} (bench)",
                      kind=DepartmentKind.COMMUNE, parent=committee, national_id=f"SX{i:03d}")
           for i in range(1, spec.communes + 1)])
    user_model = get_user_model()
    users, places = [user_model(username=READER_USERNAME, password="!", first_name="Thanh",
                                last_name="Nội vụ")], [(home_affairs, Role.HOME_AFFAIRS)]
    for unit in units:
        # A department: head, two deputies, five specialists, a clerk; a commune: head, deputy, two, a clerk.
        big = unit.kind == DepartmentKind.DEPARTMENT
        roles = ([Role.HEAD] + [Role.DEPUTY] * (2 if big else 1) + [Role.SPECIALIST] * (5 if big else 2)
                 + [Role.CLERK])
        for n, role in enumerate(roles):
            username = f"{PREFIX}{unit.code[len(PREFIX):]}-{role}-{n}"
            users.append(user_model(username=username, password="!", email=f"{username}@bench.cityops.invalid",
                                    first_name=rng.choice(GIVEN_NAMES), last_name=rng.choice(FAMILY_NAMES)))
            places.append((unit, role))
    users = user_model.objects.bulk_create(users)
    Staff.objects.bulk_create([Staff(user=user, department=unit, role=role)
                               for user, (unit, role) in zip(users, places, strict=True)])
    weights = {Role.SPECIALIST: 6, Role.DEPUTY: 2, Role.HEAD: 1, Role.CLERK: 0, Role.HOME_AFFAIRS: 0}
    by_unit: dict[int, _Unit] = {}
    habits: dict[int, _Habits] = {}
    for user, (unit, role) in zip(users, places, strict=True):
        if role == Role.HOME_AFFAIRS:
            continue
        entry = by_unit.setdefault(unit.pk, _Unit(unit.pk, unit.code, unit.reference_prefix, 0, 0, []))
        if role == Role.HEAD:
            entry.head_id = user.pk
        elif role == Role.CLERK:
            entry.clerk_id = user.pk
        entry.handlers.extend([user.pk] * weights[role])
        habits[user.pk] = _habits(rng)
    return [by_unit[unit.pk] for unit in units], habits, users[0].pk


class _Days:
    """Working-day arithmetic of the real calendar, remembered per day: a million cases ask the same few
    hundred questions."""

    def __init__(self):
        self.calendar = get_calendar()
        self._start: dict[dt.date, dt.date] = {}
        self._due: dict[tuple[dt.date, int], dt.date] = {}

    def start(self, day: dt.date) -> dt.date:
        """A receipt on a day off counts from the next working day (DESIGN.md §3)."""
        found = self._start.get(day)
        if found is None:
            found = self._start[day] = self.calendar.working_day_on_or_after(day)
        return found

    def due(self, day: dt.date, working_days: int) -> dt.date:
        key = (day, working_days)
        found = self._due.get(key)
        if found is None:
            found = self._due[key] = self.calendar.add_working_days(self.start(day), working_days)
        return found

    def between(self, start: dt.date, end: dt.date) -> int:
        return self.calendar.working_days_between(start, end)


@dataclass
class _Facts:
    """What the consultation and event passes need about each case, as flat lists (a million of each)."""

    ids: list[int] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # index into units, -1 in triage
    status: list[str] = field(default_factory=list)
    received_at: list[dt.datetime] = field(default_factory=list)
    finished: list[dt.date | None] = field(default_factory=list)  # day of resolution, None while open
    resolved_at: list[dt.datetime | None] = field(default_factory=list)
    assignee: list[int | None] = field(default_factory=list)
    clerk: list[int] = field(default_factory=list)


class _Generator:
    """The rows, in three passes: cases (with their returns and refusals), consultations, then events."""

    def __init__(self, spec: StaffSpec, now: dt.datetime):
        self.spec = spec
        self.rng = _Random(spec.seed)
        self.dates = _Dates(self.rng, now)
        self.today = self.dates.today
        self.days = _Days()
        self.facts = _Facts()
        # Events written beside the case's own (returns, refusals), by case id.
        self.extra_events: dict[int, list[tuple]] = defaultdict(list)
        self.returns: list[tuple] = []
        self.tally: dict[str, Counter] = {name: Counter() for name in TALLIES}
        self.overdue_now = 0

    def setup(self) -> None:
        rng = self.rng
        self.units, self.habits, self.reader_id = _units(self.spec, rng)
        self.largest = 0
        self.departments = list(range(1, self.spec.departments))
        self.communes = list(range(self.spec.departments, len(self.units)))
        self.case_types = CaseType.objects.bulk_create(
            CaseType(code=f"{PREFIX}st-loai-{i:02d}", name=f"Loại công việc {i:02d} (bench)",
                     processing_days=rng.choice((5, 7, 10, 15, 20, 30)), consultation_days=rng.choice((None, 5, 7)))
            for i in range(1, 51))
        self.snapshots = {
            ct.pk: json.dumps({"owner": None, "decision_level": "department", "required_consultees": [],
                               "processing_days": ct.processing_days,
                               "legal_basis": f"Quyết định {rng.randint(1, 3000)}/QĐ-UBND"}, ensure_ascii=False)
            for ct in self.case_types}
        # A case's chance of a refusal is its assignee's weight times this, so the city's share is refusal_share.
        mean_refusal_weight = sum(h.refusals for h in self.habits.values()) / len(self.habits)
        self.refusal_scale = self.spec.refusal_share / mean_refusal_weight
        ReviewThresholds.current()  # its row exists, so the report reads it with one query

    def _unit(self) -> int:
        rng = self.rng
        if rng.random() < self.spec.largest_share:
            return self.largest
        return rng.choice(self.departments) if rng.random() < 0.6 else rng.choice(self.communes)

    def _received_days(self):
        """Each case's day of receipt, oldest first: working days get ten times a day off's share."""
        days = [self.today - dt.timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]
        weights = [10 if self.days.calendar.is_working_day(day) else 1 for day in days]
        scale = self.spec.cases / sum(weights)
        counts = [int(w * scale) for w in weights]
        # What rounding left goes to the most recent working days, one each.
        left = self.spec.cases - sum(counts)
        while left:
            for n in range(len(days) - 1, -1, -1):
                if left and weights[n] == 10:
                    counts[n] += 1
                    left -= 1
        for day, count in zip(days, counts, strict=True):
            yield from [day] * count

    def case_rows(self):
        rng, spec, dates, days, facts = self.rng, self.spec, self.dates, self.days, self.facts
        today = self.today
        first_id = _next_id(Case)
        types = [(ct.pk, ct.processing_days) for ct in self.case_types]
        sources = [Source.CITIZEN] * 6 + [Source.AGENCY] * 3 + [Source.CITY_ASSIGNMENT]
        sequence: Counter = Counter()
        latest = dates.latest
        for n, received in enumerate(self._received_days()):
            case_id = first_id + n
            type_id, processing_days = rng.choice(types)
            owner = self._unit()
            unit = self.units[owner]
            received_at = dates.moment(received)
            start = days.start(received)
            due = days.due(received, processing_days)
            status, assignee, accepted, finished, resolved_at, taken = Status.IN_PROGRESS, None, None, None, None, None
            receiving = unit
            age = (today - received).days
            if age <= 2 and rng.random() < 0.03:
                # Not yet routed: it waits in the intake triage queue.
                status, owner, unit, receiving = Status.TRIAGE, -1, None, self.units[self.largest]
            else:
                arrived = received_at
                if rng.random() < spec.return_share:
                    receiving, arrived = self._returned(case_id, owner, received_at, start)
                if age <= 2 and rng.random() < 0.4:
                    status = Status.ROUTED
                else:
                    assignee = rng.choice(unit.handlers)
                    accepted = min(arrived + dt.timedelta(hours=rng.randint(1, 30)), latest)
                    habits = self.habits[assignee]
                    if rng.random() >= habits.stuck:
                        if rng.random() < habits.late:
                            finished = due + dt.timedelta(days=rng.randint(1, 25))
                        else:
                            finished = received + dt.timedelta(days=rng.randint(1, max(1, (due - received).days)))
                        # Never before it reached its owner (after a return, that can be days after receipt).
                        finished = max(finished, local_date(accepted) + dt.timedelta(days=1))
                    if finished is not None and finished <= today:
                        status = Status.RESOLVED
                        # Office hours on that local day, after the receipt, never in the future.
                        resolved_at = min(dates.moment(finished), latest)
                        taken = days.between(start, finished)
                        if rng.random() < spec.no_due_date_share:
                            due = None
                        self._count_handled(finished, due)
                    else:
                        finished = None
                        pick = rng.random()
                        status = Status.SUBMITTED if pick < 0.15 else Status.AWAITING_SUPPLEMENT if pick < 0.23 \
                            else Status.IN_PROGRESS
                    if rng.random() < habits.refusals * self.refusal_scale:
                        self._refused(case_id, unit, assignee, accepted, finished)
            if status in RUNNING_STATUSES and assignee is not None and due < today:
                self.overdue_now += 1
            key = (receiving.prefix, received)
            sequence[key] += 1
            facts.ids.append(case_id)
            facts.owner.append(owner)
            facts.status.append(status)
            facts.received_at.append(received_at)
            facts.finished.append(finished)
            facts.resolved_at.append(resolved_at)
            facts.assignee.append(assignee)
            facts.clerk.append(receiving.clerk_id)
            yield (
                case_id, f"{receiving.prefix}-{received:%y%m%d}-{sequence[key]:04d}", f"{rng.randint(0, 0xFFFFFF):06X}",
                rng.choice(TITLES), type_id,
                self.units[rng.choice(self.communes)].id if rng.random() < 0.7 else None,
                rng.choice(sources), rng.choice(APPLICANTS), received_at, receiving.id, received_at, status,
                "no_rule" if status == Status.TRIAGE else "", unit.id if unit else None, assignee,
                rng.random() < 0.02, self.snapshots[type_id], "department" if unit else "", due,
                received_at if status == Status.TRIAGE else None, accepted, resolved_at,
                "Đã giải quyết" if resolved_at else "", "approved" if resolved_at else "", 1, taken,
            )

    def _count_handled(self, finished: dt.date, due: dt.date | None) -> None:
        day = finished.isoformat()
        self.tally["handled"][day] += 1
        if due is not None:
            self.tally["rated"][day] += 1
            if finished > due:
                self.tally["handled_late"][day] += 1

    def _returned(self, case_id: int, owner: int, received_at: dt.datetime,
                  start: dt.date) -> tuple[_Unit, dt.datetime]:
        """The case first went to a unit the rules don't give it, which sent it back: that unit, and when the
        case reached its owner after all."""
        rng, days = self.rng, self.days
        wrong = self._unit()
        while wrong == owner:
            wrong = self._unit()
        unit = self.units[wrong]
        person = rng.choice(unit.handlers)
        late = rng.random() < self.habits[person].late_return
        held = rng.randint(settings.RETURN_WITHIN_WORKING_DAYS + 1, 6) if late else \
            rng.randint(0, settings.RETURN_WITHIN_WORKING_DAYS)
        day = days.calendar.add_working_days(start, held)
        returned_at = max(self.dates.moment(day), received_at + dt.timedelta(minutes=30))
        if day > self.today or returned_at > self.dates.latest:
            return self.units[owner], received_at  # it would be returned in the future: never misrouted
        reason = rng.choice(RETURN_REASONS)
        competent = self.units[owner]
        self.returns.append((case_id, unit.id, person, returned_at, reason, late, held, competent.id))
        self.extra_events[case_id].append(
            (case_id, returned_at, person, EventAction.RETURNED, Status.ROUTED, Status.TRIAGE, unit.id, None, reason,
             json.dumps({"late": late, "working_days_held": held, "competent": competent.code})))
        if late:
            self.tally["late_returns"][local_date(returned_at).isoformat()] += 1
        return unit, returned_at

    def _refused(self, case_id: int, unit: _Unit, assignee: int, accepted: dt.datetime,
                 finished: dt.date | None) -> None:
        """A refused attempt on the case by its assignee (the unit's clerk for some other codes)."""
        rng, dates = self.rng, self.dates
        last = min(dates.moment(finished), dates.latest) if finished else dates.latest
        if last <= accepted:
            return
        at = accepted + (last - accepted) * rng.random()
        if rng.random() < self.spec.own_work_share:
            code, attempted, actor = RefusalCode.WITHIN_OWN_AUTHORITY, rng.choice(OWN_WORK_ATTEMPTS), assignee
            self.tally["refusals"][local_date(at).isoformat()] += 1
        else:
            code, attempted = rng.choice(OTHER_REFUSALS)
            actor = unit.clerk_id if rng.random() < 0.1 else assignee
        payload = {"code": code, "attempted": attempted}
        if attempted == "transfer":
            payload["target"] = self.units[self._unit()].code
        self.extra_events[case_id].append(
            (case_id, at, actor, EventAction.REFUSED, Status.IN_PROGRESS, Status.IN_PROGRESS, None, None,
             "Bị từ chối", json.dumps(payload)))

    def consultation_rows(self):
        """About one accepted case in five asked another unit's opinion, a few days after it was accepted."""
        rng, dates, days, facts, today = self.rng, self.dates, self.days, self.facts, self.today
        # The case types' consultation days (5 or 7) or, for those without, the default.
        consult_days = [5, 7, settings.DEFAULT_CONSULTATION_DAYS]
        latest = dates.latest
        for n, case_id in enumerate(facts.ids):
            assignee = facts.assignee[n]
            if assignee is None or rng.random() >= self.spec.consultation_share:
                continue
            owner = self.units[facts.owner[n]]
            consulted = self._unit()
            while consulted == facts.owner[n]:
                consulted = self._unit()
            unit = self.units[consulted]
            received = local_date(facts.received_at[n])
            asked = min(received + dt.timedelta(days=rng.randint(1, 6)), today)
            finished = facts.finished[n]
            if finished is not None and asked > finished:
                asked = finished
            requested_at = max(min(dates.moment(asked), latest), facts.received_at[n])
            due = days.due(asked, rng.choice(consult_days))
            required = rng.random() < 0.6
            person = rng.choice(unit.handlers)
            status, position, comment = ConsultationStatus.OPEN, "", ""
            answered_by = answered_at = answered_late = answer_days = deemed_at = None
            if required and rng.random() < 0.06 and due < today:
                # Silence past the deadline: deemed to agree (the sweep's doing, the morning after).
                status, deemed_at = ConsultationStatus.DEEMED_AGREED, min(dates.moment(due + dt.timedelta(days=1)),
                                                                          latest)
            else:
                if rng.random() < self.habits[person].late_answer:
                    answered = due + dt.timedelta(days=rng.randint(1, 10))
                else:
                    answered = asked + dt.timedelta(days=rng.randint(0, max(0, (due - asked).days)))
                at = max(min(dates.moment(answered), latest), requested_at + dt.timedelta(minutes=10))
                if answered <= today and at <= latest:
                    status = ConsultationStatus.ANSWERED
                    position = rng.choices([Position.AGREE, Position.AGREE_WITH_COMMENTS, Position.DISAGREE,
                                            Position.NOT_COMPETENT], weights=[70, 20, 7, 3])[0]
                    comment = "" if position == Position.AGREE else "Đề nghị bổ sung thuyết minh"
                    answered_by, answered_at = person, at
                    answered_day = local_date(at)
                    answered_late = answered_day > due
                    answer_days = days.between(days.start(asked), answered_day)
                    if answered_late:
                        self.tally["late_consultations"][answered_day.isoformat()] += 1
            yield (
                case_id, unit.id, owner.id, 1, required, rng.choice(QUESTIONS), assignee, requested_at, due, person,
                status, position, comment, answered_by, answered_at, answered_late, answer_days, deemed_at,
            )

    def event_rows(self):
        """Each case's intake event, its returns and refusals, and its resolution, in the order they happened."""
        facts = self.facts
        for n, case_id in enumerate(facts.ids):
            status = facts.status[n]
            first = Status.TRIAGE if status == Status.TRIAGE else Status.ROUTED
            yield (case_id, facts.received_at[n], facts.clerk[n], EventAction.CREATED, "", first, None, None, "",
                   "{}")
            yield from sorted(self.extra_events.get(case_id, ()), key=lambda event: event[1])
            if facts.resolved_at[n] is not None:
                yield (case_id, facts.resolved_at[n], facts.assignee[n], EventAction.RESOLVED, Status.IN_PROGRESS,
                       Status.RESOLVED, None, None, "Đã giải quyết", "{}")


# Marker ---------------------------------------------------------------------------------------------------

MARKER = Marker(MARKER_TABLE, day_note="'overdue now' is only right on the day it was built for")


def _city(spec: StaffSpec, today: dt.date, generated_at: dt.datetime, seconds: float, counts: dict, *,
          reused: bool) -> StaffCity:
    return StaffCity(spec=spec, today=today, generated_at=generated_at, build_seconds=seconds,
                     reader_id=counts["reader_id"], reused=reused, counts=counts["counts"],
                     tally=counts["tally"], overdue_now=counts["overdue_now"])


def existing(spec: StaffSpec, *, now: dt.datetime | None = None) -> StaffCity | None:
    """The data set already in this database, when it was built with `spec` on today's (local) date."""
    built = MARKER.matching(asdict(spec), local_date(now or timezone.now()))
    if built is None:
        return None
    return _city(spec, built.built_on, built.generated_at, built.build_seconds, built.counts, reused=True)


def describe(spec: StaffSpec) -> str:
    """Why an existing data set cannot be reused (for the log), or '' when there is none."""
    return MARKER.mismatch(asdict(spec))


# Build ----------------------------------------------------------------------------------------------------

LOADED_MODELS = (Case, CaseEvent, Return, Consultation)


def index_definitions() -> set[tuple[str, str]]:
    """Every index of the loaded tables as the catalog has it (PostgreSQL; empty elsewhere)."""
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                       "AND tablename = ANY(%s)", [[m._meta.db_table for m in LOADED_MODELS]])
        return set(cursor.fetchall())


def build(spec: StaffSpec, *, now: dt.datetime | None = None) -> StaffCity:
    """Write the whole data set into the current (empty, migrated) database and analyse it."""
    spec.check()
    started = time.perf_counter()
    now = now or timezone.now()
    generator = _Generator(spec, now)
    indexes = index_definitions()
    counts: dict = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        generator.setup()
        with _bulk_load(LOADED_MODELS, rows=spec.cases):
            counts["cases"] = _Table(Case, STAFF_CASE_FIELDS).write(generator.case_rows())
            counts["consultations"] = _Table(Consultation, STAFF_CONSULTATION_FIELDS).write(
                generator.consultation_rows())
            counts["returns"] = _Table(Return, RETURN_FIELDS).write(iter(generator.returns))
            counts["events"] = _Table(CaseEvent, EVENT_FIELDS).write(generator.event_rows())
        _reset_sequences(Case)
        counts["people"] = len(generator.habits)
        counts["load_seconds"] = round(time.perf_counter() - started, 1)
    # The indexes the reports read must be exactly those the migrations made, whatever the load dropped.
    if indexes != index_definitions():
        missing = sorted(name for name, _ in indexes - index_definitions())
        raise RuntimeError(f"the load did not leave the tables' indexes as the migrations made them: {missing}")
    _analyse()
    seconds = time.perf_counter() - started
    stored = {"reader_id": generator.reader_id, "counts": counts, "overdue_now": generator.overdue_now,
              "tally": {name: dict(days) for name, days in generator.tally.items()}}
    MARKER.write(asdict(spec), built_on=generator.today, generated_at=now, seconds=seconds, counts=stored)
    return _city(spec, generator.today, now, seconds, stored, reused=False)
