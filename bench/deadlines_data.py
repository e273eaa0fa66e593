"""The deadline benchmark's city: a million cases and their consultations, loaded in bulk (COPY on PostgreSQL).

The data set is a city's steady state on the day the sweep runs: most cases resolved, about 28 % open, those
whose clock runs due anywhere from a year ago to four months ahead (those awaiting the applicant's supplement
have a due date but are never flagged). Everything the sweep already knew is flagged as an earlier sweep
would have left it (a `DeadlineMark` with the flag and the due date it was for, a notice to the assignee
and the head); what became late since then is not, and that is an exact number: `newly_overdue` running
cases past due and without a mark, plus a few newly due soon, newly overdue consultations and required
consultations whose silence the sweep turns into agreement. One unit owns a large share of the cases, so
its overdue desk is the heaviest.

Rows are generated in Python and streamed to COPY in chunks, column by column as the models name them
(`_meta.db_table`, `field.column`); a model field the generator does not know and that has no default
stops the build, rather than loading something the application would not write. SQLite (the smoke test)
gets the same rows through executemany.

A marker table remembers what was built, on which day and when: the same size on the same local day is
reused, since the flags only make sense against the day they were built for, and `reset` returns the rows
to that state after a sweep wrote to them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from bench.marker import Marker
from cases.measures import Window
from cases.models import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    Case,
    CaseEvent,
    Consultation,
    ConsultationStatus,
    DeadlineFlag,
    DeadlineMark,
    EventAction,
    MailState,
    Notification,
    Position,
    Source,
    Status,
)
from core.audit import resume_statements, suspend_statements
from departments.models import CaseType, Department, DepartmentKind, Role, Staff
from departments.workdays import local_date, local_zone

PREFIX = "bench-"
MARKER_TABLE = "bench_deadlines_dataset"
CHUNK_ROWS = 20_000
# From this many cases on, indexes and foreign keys are built after the load rather than during it.
BULK_LOAD_ROWS = 50_000
HISTORY_DAYS = 730
NULL = "\\N"

TITLES = (
    "Xin cấp phép xây dựng nhà ở riêng lẻ",
    "Đề nghị giao đất, cho thuê đất",
    "Phản ánh lấn chiếm vỉa hè",
    "Xin chủ trương đầu tư dự án",
    "Đăng ký kinh doanh hộ cá thể",
    "Kiến nghị sửa chữa đường giao thông nông thôn",
    "Đề nghị cấp giấy chứng nhận quyền sử dụng đất",
    "Phản ánh ô nhiễm môi trường khu dân cư",
)
APPLICANTS = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Công ty TNHH Hải Âu",
              "Hoàng Minh Đức", "Vũ Thị Hạnh", "Công ty CP Cảng Xanh")
QUESTIONS = ("Đề nghị cho ý kiến về quy hoạch", "Xin ý kiến về nguồn vốn", "Xin ý kiến thẩm định hồ sơ")

# Shares of the whole table; the open statuses split the open share.
TRIAGE_SHARE, OPEN_SHARE = 0.005, 0.28
OPEN_SPLIT = ((Status.ROUTED, 0.10), (Status.AWAITING_SUPPLEMENT, 0.07), (Status.SUBMITTED, 0.13))
# Of the open cases: already flagged overdue, already flagged due soon (the rest is due later).
FLAGGED_OVERDUE_SHARE, FLAGGED_SOON_SHARE = 0.10, 0.025
# Consultations: open and deemed agreed (the rest answered); of the open ones, flagged as above.
OPEN_CONSULTATION_SHARE, DEEMED_SHARE = 0.12, 0.08


@dataclass(frozen=True)
class DeadlineSpec:
    """How big the city is, and exactly how much became late since the last sweep."""

    cases: int = 1_000_000
    consultations: int = 200_000
    newly_overdue: int = 10_000
    newly_due_soon: int = 1_000
    consultations_newly_overdue: int = 2_000
    consultations_newly_deemed: int = 500
    consultations_newly_due_soon: int = 500
    departments: int = 40
    communes: int = 114
    largest_share: float = 0.15
    key_task_share: float = 0.02
    seed: int = 966

    @classmethod
    def sized(cls, cases: int, consultations: int, *, newly_overdue: int = 10_000, only_cases_overdue: bool = False,
              seed: int = 966) -> DeadlineSpec:
        """A city of this size; `only_cases_overdue` leaves nothing else new, so exactly the cases are due."""
        if only_cases_overdue:
            return cls(cases=cases, consultations=consultations, newly_overdue=newly_overdue, newly_due_soon=0,
                       consultations_newly_overdue=0, consultations_newly_deemed=0, consultations_newly_due_soon=0,
                       seed=seed)
        return cls(cases=cases, consultations=consultations, newly_overdue=newly_overdue,
                   newly_due_soon=newly_overdue // 10, consultations_newly_overdue=consultations // 100,
                   consultations_newly_deemed=consultations // 400, consultations_newly_due_soon=consultations // 400,
                   seed=seed)

    def check(self) -> None:
        open_cases = round(self.cases * OPEN_SHARE)
        if self.newly_overdue + self.newly_due_soon > open_cases // 2:
            raise ValueError(f"{self.newly_overdue} newly overdue and {self.newly_due_soon} newly due soon do not fit "
                             f"in the {open_cases} open cases of {self.cases}; ask for more cases")
        newly = self.consultations_newly_overdue + self.consultations_newly_deemed + self.consultations_newly_due_soon
        if newly > round(self.consultations * OPEN_CONSULTATION_SHARE) // 2:
            raise ValueError(f"{newly} newly late consultations do not fit in {self.consultations}")
        if self.consultations > 2 * self.cases:
            raise ValueError("at most two consultations per case")


@dataclass
class DeadlineCity:
    """What the benchmarks need to know about a built data set."""

    spec: DeadlineSpec
    today: dt.date
    generated_at: dt.datetime
    build_seconds: float
    largest_id: int
    largest_head_id: int
    reused: bool = False
    counts: dict = field(default_factory=dict)


# Loading --------------------------------------------------------------------------------------------------

class _Table:
    """COPY (or executemany) rows into a model's table, naming the real columns.

    Rows give the `given` fields in order; every other concrete field gets its default once, or NULL
    when it may be null. A NOT NULL field with no default that the generator does not fill is an error.
    """

    def __init__(self, model: type[models.Model], given: list[str]):
        meta = model._meta
        self.model = model
        self.given = [meta.get_field(name) for name in given]
        # An id the rows don't give is left to the database's sequence.
        rest = [f for f in meta.concrete_fields if f not in self.given and not (f.primary_key and f.auto_created)]
        self.rest = rest
        self.defaults = [self._default(f) for f in rest]
        self.fields = self.given + rest
        self.columns = [f.column for f in self.fields]
        self.rows = 0

    @staticmethod
    def _default(f: models.Field):
        if f.db_default is not models.NOT_PROVIDED:
            return getattr(f.db_default, "value", f.db_default)
        if f.has_default():
            value = f.get_default()
            return json.dumps(value) if isinstance(f, models.JSONField) else value
        if f.null:
            return None
        if f.empty_strings_allowed:
            return ""  # what an unsaved model instance holds for a text field left blank
        raise ValueError(f"{f.model.__name__}.{f.name} is NOT NULL with no default: the generator must fill it")

    def write(self, rows) -> int:
        if connection.vendor == "postgresql":
            self._copy(rows)
        else:
            self._insert(rows)
        return self.rows

    def _copy(self, rows) -> None:
        quote = connection.ops.quote_name
        sql = (f"COPY {quote(self.model._meta.db_table)} ({', '.join(quote(c) for c in self.columns)}) "
               f"FROM STDIN WITH (FORMAT csv, NULL '{NULL}')")
        rest = [_csv_value(v) for v in self.defaults]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        pending = 0
        with connection.cursor() as cursor:
            for row in rows:
                writer.writerow([NULL if v is None else v for v in row] + rest)
                pending += 1
                if pending == CHUNK_ROWS:
                    self._flush(cursor, sql, buffer)
                    self.rows += pending
                    pending = 0
            if pending:
                self._flush(cursor, sql, buffer)
                self.rows += pending

    @staticmethod
    def _flush(cursor, sql: str, buffer: io.StringIO) -> None:
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
        buffer.seek(0)
        buffer.truncate()

    def _insert(self, rows) -> None:
        quote = connection.ops.quote_name
        sql = (f"INSERT INTO {quote(self.model._meta.db_table)} ({', '.join(quote(c) for c in self.columns)}) "
               f"VALUES ({', '.join(['%s'] * len(self.columns))})")
        batch = []
        with connection.cursor() as cursor:
            for row in rows:
                values = list(row) + self.defaults
                batch.append([_prep(f, v) for f, v in zip(self.fields, values, strict=True)])
                if len(batch) == 1000:
                    cursor.executemany(sql, batch)
                    self.rows += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                self.rows += len(batch)


def _csv_value(value):
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    return value


def _prep(f: models.Field, value):
    if value is None:
        return None
    if isinstance(f, models.JSONField):
        return value  # already JSON text
    if isinstance(f, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(f, models.DateField):
        return connection.ops.adapt_datefield_value(value)
    return value


@contextmanager
def _bulk_load(model_list, *, rows: int):
    """Drop these tables' secondary indexes and foreign keys for the load, and create them again after.

    Building an index once over a million rows is several times faster than keeping fifteen of them up to
    date row by row, and one validating join per foreign key beats a trigger per row at commit. The
    definitions are read back from the catalog, so what comes back is exactly what the migrations made,
    checked the same way. Small loads (the smoke test) keep everything in place.
    """
    if connection.vendor != "postgresql" or rows < BULK_LOAD_ROWS:
        yield
        return
    quote = connection.ops.quote_name
    saved = []
    with connection.cursor() as cursor:
        # Check the units and staff written so far now: ALTER TABLE refuses while their checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for model in model_list:
            table = model._meta.db_table
            cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                           "WHERE conrelid = %s::regclass AND contype = 'f'", [table])
            foreign_keys = cursor.fetchall()
            # Partial indexes stay: they are small, and their predicates would not read back word for word.
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                           "AND tablename = %s AND indexdef NOT LIKE '%% WHERE %%' AND indexname NOT IN "
                           "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table])
            indexes = cursor.fetchall()
            for name, _ in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
            saved.append((table, foreign_keys, indexes))
    yield
    with connection.cursor() as cursor:
        for table, foreign_keys, indexes in saved:
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def _next_id(model: type[models.Model]) -> int:
    return (model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0) + 1


def _reset_sequences(*model_list) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_list)):
            cursor.execute(sql)


# The city -------------------------------------------------------------------------------------------------

@dataclass
class _Unit:
    id: int
    prefix: str
    head_id: int
    specialist_ids: list[int]
    locality: bool


def _units(spec: DeadlineSpec, rng: random.Random) -> list[_Unit]:
    """The committee, `departments` departments and `communes` communes, each with a head and specialists."""
    committee = Department.objects.create(code=f"{PREFIX}dl-ubnd", name="UBND thành phố (bench)",
                                          kind=DepartmentKind.CITY_COMMITTEE)
    units = Department.objects.bulk_create(
        [Department(code=f"{PREFIX}dl-so-{i:02d}", name=f"Sở chuyên ngành {i:02d} (bench)",
                    kind=DepartmentKind.DEPARTMENT, parent=committee, national_id=f"BD{i:02d}")
         for i in range(1, spec.departments + 1)]
        + [Department(code=f"{PREFIX}dl-px-{i:03d}", name=f"{'Phường' if i % 3 else 'Xã'} {i:03d} (bench)",
                      kind=DepartmentKind.COMMUNE, parent=committee, national_id=f"BX{i:03d}")
           for i in range(1, spec.communes + 1)])
    users, staff = [], []
    user_model = get_user_model()
    for unit in units:
        specialists = 4 if unit.kind == DepartmentKind.DEPARTMENT else 2
        for n in range(specialists + 1):
            role = Role.HEAD if n == 0 else Role.SPECIALIST
            username = f"{PREFIX}{unit.code[len(PREFIX):]}-{role}-{n}"
            # One specialist in twenty has no address: their notices are kept but not mailed.
            email = "" if n and rng.random() < 0.05 else f"{username}@bench.cityops.invalid"
            users.append(user_model(username=username, email=email, password="!", first_name=f"{n}",
                                    last_name=unit.name[:30]))
            staff.append((unit, role))
    users = user_model.objects.bulk_create(users)
    Staff.objects.bulk_create([Staff(user=user, department=unit, role=role)
                               for user, (unit, role) in zip(users, staff, strict=True)])
    by_unit: dict[int, _Unit] = {}
    for user, (unit, role) in zip(users, staff, strict=True):
        entry = by_unit.setdefault(unit.pk, _Unit(unit.pk, unit.reference_prefix, 0, [],
                                                  unit.kind == DepartmentKind.COMMUNE))
        if role == Role.HEAD:
            entry.head_id = user.pk
        else:
            entry.specialist_ids.append(user.pk)
    return [by_unit[unit.pk] for unit in units]


def _exact_labels(rng: random.Random, total: int, parts: list[tuple[object, int]], rest) -> list:
    """`total` labels in random order: each part's label exactly its count, `rest` for the remainder."""
    labels = []
    for label, count in parts:
        labels.extend([label] * count)
    labels.extend([rest] * (total - len(labels)))
    rng.shuffle(labels)
    return labels


# Case categories for the open ones: how late they are and what an earlier sweep already flagged.
NEW_OVERDUE, NEW_SOON, FLAGGED_OVERDUE, FLAGGED_SOON, LATER = range(5)


class _Random(random.Random):
    """The standard generator with cheaper integer draws: a million rows make `randint` the bottleneck."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


class _Dates:
    """The day's reference dates: today, the due-soon window, and random days around them."""

    def __init__(self, rng: random.Random, now: dt.datetime):
        self.rng = rng
        self.window = Window.at(now)
        self.today = self.window.today
        self.soon_days = [self.today + dt.timedelta(days=n) for n in range((self.window.soon - self.today).days + 1)]
        self.zone = local_zone()
        self.latest = now.astimezone(dt.UTC) - dt.timedelta(minutes=5)
        self._midnights: dict[dt.date, dt.datetime] = {}

    def due(self, category: int) -> dt.date:
        rng, today = self.rng, self.today
        if category == NEW_OVERDUE:
            return today - dt.timedelta(days=rng.randint(1, 10))
        if category == FLAGGED_OVERDUE:
            return today - dt.timedelta(days=rng.randint(1, 365))
        if category in (NEW_SOON, FLAGGED_SOON):
            return rng.choice(self.soon_days)
        return self.window.soon + dt.timedelta(days=rng.randint(1, 120))

    def moment(self, day: dt.date) -> dt.datetime:
        """Office hours on `day` (in UTC, which is cheap to compare), never later than now."""
        midnight = self._midnights.get(day)
        if midnight is None:
            midnight = self._midnights[day] = dt.datetime.combine(day, dt.time(), tzinfo=self.zone).astimezone(dt.UTC)
        at = midnight + dt.timedelta(minutes=self.rng.randint(7 * 60, 17 * 60 - 1))
        return at if at < self.latest else self.latest


@dataclass
class _CaseFacts:
    """What the consultation and notice generators need about each case, kept as flat lists."""

    ids: list[int] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    received: list[dt.date] = field(default_factory=list)


CASE_FIELDS = [
    "id", "reference", "pin", "title", "case_type", "locality", "source", "applicant_name", "received_at",
    "receiving_unit", "created_at", "status", "triage_reason", "owner", "assignee", "key_task", "rule_snapshot",
    "decision_level", "due_date", "triage_since", "accepted_at", "resolved_at", "resolution", "outcome",
    "version",
]
CONSULTATION_FIELDS = [
    "id", "case", "department", "requesting_department", "round", "required", "question", "requested_by",
    "requested_at", "due_date", "assignee", "status", "position", "comment", "answered_by", "answered_at",
    "answered_late", "answer_working_days", "deemed_agreed_at",
]
MARK_FIELDS = ["case", "consultation", "flag", "due_date", "flagged_at"]
NOTICE_FIELDS = ["recipient", "kind", "case", "consultation", "on_date", "created_at", "read_at", "mail_state",
                 "mail_attempts", "mailed_at", "mail_error"]


class _Generator:
    def __init__(self, spec: DeadlineSpec, now: dt.datetime, generated_at: dt.datetime):
        self.spec = spec
        self.rng = _Random(spec.seed)
        self.dates = _Dates(self.rng, now)
        self.generated_at = generated_at
        # What an earlier sweep did: yesterday evening, well before this build.
        self.last_sweep = generated_at - dt.timedelta(hours=14)
        self.facts = _CaseFacts()
        self.marks: list[tuple] = []
        self.notices: list[tuple] = []

    def setup(self) -> None:
        rng, spec = self.rng, self.spec
        self.units = _units(spec, rng)
        self.largest = self.units[0]
        self.others = self.units[1:spec.departments]
        self.communes = [u for u in self.units if u.locality]
        self.case_types = CaseType.objects.bulk_create(
            CaseType(code=f"{PREFIX}dl-loai-{i:02d}", name=f"Loại công việc {i:02d} (bench)",
                     processing_days=rng.choice((5, 7, 10, 15, 20, 30)), consultation_days=rng.choice((None, 5, 7)))
            for i in range(1, 51))
        self.snapshots = {
            ct.pk: json.dumps({"owner": None, "decision_level": "department", "required_consultees": [],
                               "processing_days": ct.processing_days,
                               "legal_basis": f"Quyết định {rng.randint(1, 3000)}/QĐ-UBND"}, ensure_ascii=False)
            for ct in self.case_types}

    def _owner(self) -> _Unit:
        rng = self.rng
        if rng.random() < self.spec.largest_share:
            return self.largest
        return rng.choice(self.others) if rng.random() < 0.6 else rng.choice(self.communes)

    def case_rows(self):
        spec, rng, dates = self.spec, self.rng, self.dates
        total = spec.cases
        open_count = round(total * OPEN_SHARE)
        split = [(status, round(open_count * share)) for status, share in OPEN_SPLIT]
        split.append((Status.IN_PROGRESS, open_count - sum(count for _, count in split)))
        statuses = _exact_labels(rng, total, [(Status.TRIAGE, round(total * TRIAGE_SHARE)), *split], Status.RESOLVED)
        running = sum(1 for s in statuses if s in RUNNING_STATUSES)
        categories = iter(_exact_labels(rng, running, [
            (NEW_OVERDUE, spec.newly_overdue), (NEW_SOON, spec.newly_due_soon),
            (FLAGGED_OVERDUE, round(running * FLAGGED_OVERDUE_SHARE)),
            (FLAGGED_SOON, round(running * FLAGGED_SOON_SHARE)),
        ], LATER))
        first_id = _next_id(Case)
        sequence: dict[tuple[str, dt.date], int] = {}
        facts = self.facts
        case_type_ids = [ct.pk for ct in self.case_types]
        sources = [Source.CITIZEN] * 6 + [Source.AGENCY] * 3 + [Source.CITY_ASSIGNMENT]
        today = dates.today
        for n, status in enumerate(statuses):
            case_id = first_id + n
            case_type = rng.choice(case_type_ids)
            owner = None if status == Status.TRIAGE else self._owner()
            flag = ""
            due = accepted = resolved = None
            key_task = False
            if status in RUNNING_STATUSES:
                category = next(categories)
                due = dates.due(category)
                received = max(due - dt.timedelta(days=rng.randint(7, 45)), today - dt.timedelta(days=HISTORY_DAYS))
                received = min(received, today)
                key_task = rng.random() < spec.key_task_share
                if category in (FLAGGED_OVERDUE, FLAGGED_SOON):
                    flag = DeadlineFlag.OVERDUE if category == FLAGGED_OVERDUE else DeadlineFlag.DUE_SOON
            elif status == Status.AWAITING_SUPPLEMENT:
                # The clock stands still while the applicant completes the dossier: a due date, never a flag.
                due = today + dt.timedelta(days=rng.randint(-30, 60))
                received = min(due - dt.timedelta(days=rng.randint(7, 45)), today)
                key_task = rng.random() < spec.key_task_share
            elif status == Status.RESOLVED:
                received = today - dt.timedelta(days=rng.randint(5, HISTORY_DAYS))
                due = received + dt.timedelta(days=rng.randint(7, 45))
                key_task = rng.random() < spec.key_task_share / 2
            else:
                received = today - dt.timedelta(days=rng.randint(0, 20))
            received_at = dates.moment(received)
            if status not in (Status.TRIAGE, Status.ROUTED):
                accepted = received_at + dt.timedelta(hours=rng.randint(2, 40))
            if status == Status.RESOLVED:
                # One case in ten finished late.
                finish = due + dt.timedelta(days=rng.randint(1, 20)) if rng.random() < 0.1 else \
                    due - dt.timedelta(days=rng.randint(0, 5))
                resolved = min(dates.moment(max(finish, received)), self.generated_at - dt.timedelta(hours=1))
            assignee = None
            if owner is not None and status not in (Status.ROUTED, Status.TRIAGE):
                assignee = rng.choice(owner.specialist_ids)
            unit = owner or self.largest
            key = (unit.prefix, received)
            sequence[key] = sequence.get(key, 0) + 1
            facts.ids.append(case_id)
            facts.owner.append(owner.id if owner else 0)
            facts.status.append(status)
            facts.received.append(received)
            if flag:
                self._flagged(flag, case_id, None, due, assignee, owner.head_id)
            yield (
                case_id, f"{unit.prefix}-{received:%y%m%d}-{sequence[key]:04d}", f"{rng.randint(0, 0xFFFFFF):06X}",
                rng.choice(TITLES), case_type, rng.choice(self.communes).id if rng.random() < 0.7 else None,
                rng.choice(sources), rng.choice(APPLICANTS), received_at, unit.id, received_at, status,
                "no_rule" if status == Status.TRIAGE else "", owner.id if owner else None, assignee, key_task,
                self.snapshots[case_type], "" if owner is None else "department", due,
                received_at if status == Status.TRIAGE else None, accepted, resolved,
                "Đã giải quyết" if resolved else "", "approved" if resolved else "", 1,
            )

    def consultation_rows(self):
        spec, rng, dates, facts = self.spec, self.rng, self.dates, self.facts
        total = spec.consultations
        open_count = round(total * OPEN_CONSULTATION_SHARE)
        open_categories = _exact_labels(rng, open_count, [
            (("new_overdue", False), spec.consultations_newly_overdue),
            (("new_deemed", True), spec.consultations_newly_deemed),
            (("new_soon", None), spec.consultations_newly_due_soon),
            (("flagged_overdue", False), round(open_count * FLAGGED_OVERDUE_SHARE)),
            (("flagged_soon", None), round(open_count * FLAGGED_SOON_SHARE)),
        ], ("later", None))
        states = _exact_labels(rng, total, [(ConsultationStatus.OPEN, open_count),
                                            (ConsultationStatus.DEEMED_AGREED, round(total * DEEMED_SHARE))],
                               ConsultationStatus.ANSWERED)
        # Consulting happens while a case is in progress: open opinions belong to cases in progress now,
        # the others to any case that got that far.
        working = [i for i, s in enumerate(facts.status) if s in (Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT)]
        past = [i for i, s in enumerate(facts.status) if s not in (Status.TRIAGE, Status.ROUTED)]
        units = self.units
        unit_by_id = {u.id: u for u in units}
        used: set[tuple[int, int]] = set()
        first_id = _next_id(Consultation)
        categories = iter(open_categories)
        for n, status in enumerate(states):
            pool = working if status == ConsultationStatus.OPEN else past
            while True:
                case = rng.choice(pool)
                unit = self._owner()
                if unit.id != facts.owner[case] and (case, unit.id) not in used:
                    break
            used.add((case, unit.id))
            owner = unit_by_id[facts.owner[case]]
            consultation_id = first_id + n
            requested = min(facts.received[case] + dt.timedelta(days=rng.randint(1, 10)), dates.today)
            requested_at = dates.moment(requested)
            assignee = rng.choice(unit.specialist_ids) if rng.random() < 0.7 else None
            required = rng.random() < 0.6
            due = requested + dt.timedelta(days=rng.randint(5, 12))
            position = comment = ""
            answered_by = answered_at = answered_late = answer_days = deemed_at = None
            if status == ConsultationStatus.OPEN:
                category, forced = next(categories)
                required = forced if forced is not None else required
                due = dates.due({"new_overdue": NEW_OVERDUE, "new_deemed": NEW_OVERDUE, "new_soon": NEW_SOON,
                                 "flagged_overdue": FLAGGED_OVERDUE, "flagged_soon": FLAGGED_SOON}.get(category, LATER))
                if category.startswith("flagged"):
                    flag = DeadlineFlag.OVERDUE if category == "flagged_overdue" else DeadlineFlag.DUE_SOON
                    self._flagged(flag, facts.ids[case], consultation_id, due, assignee, unit.head_id)
                requested_at = dates.moment(min(due - dt.timedelta(days=rng.randint(5, 12)), dates.today))
            elif status == ConsultationStatus.ANSWERED:
                position = rng.choices([Position.AGREE, Position.AGREE_WITH_COMMENTS, Position.DISAGREE,
                                        Position.NOT_COMPETENT], weights=[70, 20, 7, 3])[0]
                comment = "" if position == Position.AGREE else "Đề nghị bổ sung thuyết minh"
                answered_by = assignee or unit.head_id
                answered_late = rng.random() < 0.12
                answer_days = rng.randint(1, 12)
                answered_at = min(dates.moment(due + dt.timedelta(days=rng.randint(-4, 3))),
                                  self.generated_at - dt.timedelta(hours=1))
            else:
                required = True
                deemed_at = min(dates.moment(due + dt.timedelta(days=1)), self.last_sweep)
            yield (
                consultation_id, facts.ids[case], unit.id, owner.id, 1, required, rng.choice(QUESTIONS),
                owner.head_id, requested_at, due, assignee, status, position, comment, answered_by, answered_at,
                answered_late, answer_days, deemed_at,
            )

    def _flagged(self, flag: str, case_id: int, consultation_id: int | None, due: dt.date, assignee: int | None,
                 head: int) -> None:
        """What the earlier sweep left for an item it flagged: its mark, for the due date it has now (so no
        sweep today re-marks it), and the notices it sent, most already read, all mailed."""
        rng = self.rng
        # A mark names its case or its consultation, never both.
        self.marks.append((None if consultation_id else case_id, consultation_id, flag, due, self.last_sweep))
        for recipient in (assignee, head):
            if recipient is None:
                continue
            read = self.last_sweep + dt.timedelta(hours=1) if rng.random() < 0.6 else None
            self.notices.append((recipient, flag, case_id, consultation_id, due, self.last_sweep, read,
                                 MailState.SENT, 1, self.last_sweep + dt.timedelta(minutes=1), ""))


# Marker ---------------------------------------------------------------------------------------------------

MARKER = Marker(MARKER_TABLE, day_note="flags are only right on the day they were built for")


def existing(spec: DeadlineSpec, *, now: dt.datetime | None = None) -> DeadlineCity | None:
    """The data set already in this database, when it was built with `spec` on today's (local) date."""
    built = MARKER.matching(asdict(spec), local_date(now or timezone.now()))
    if built is None:
        return None
    counts = built.counts
    return DeadlineCity(spec=spec, today=built.built_on, generated_at=built.generated_at,
                        build_seconds=built.build_seconds, largest_id=counts["largest_id"],
                        largest_head_id=counts["largest_head_id"], reused=True, counts=counts)


def describe(reason_spec: DeadlineSpec, *, now: dt.datetime | None = None) -> str:
    """Why an existing data set cannot be reused (for the log), or '' when there is none."""
    return MARKER.mismatch(asdict(reason_spec))


# Build ----------------------------------------------------------------------------------------------------

def build(spec: DeadlineSpec, *, now: dt.datetime | None = None) -> DeadlineCity:
    """Write the whole data set into the current (empty, migrated) database and analyse it."""
    spec.check()
    started = time.perf_counter()
    now = now or timezone.now()
    generated_at = now
    generator = _Generator(spec, now, generated_at)
    counts: dict = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # One transaction; nothing to wait for on each chunk.
                cursor.execute("SET LOCAL synchronous_commit = off")
        generator.setup()
        with _bulk_load((Case, Consultation, DeadlineMark, Notification), rows=spec.cases):
            counts["cases"] = _Table(Case, CASE_FIELDS).write(generator.case_rows())
            counts["consultations"] = _Table(Consultation, CONSULTATION_FIELDS).write(generator.consultation_rows())
            counts["marks"] = _Table(DeadlineMark, MARK_FIELDS).write(iter(generator.marks))
            counts["notifications"] = _Table(Notification, NOTICE_FIELDS).write(iter(generator.notices))
        _reset_sequences(Case, Consultation)
        counts["largest_id"] = generator.largest.id
        counts["largest_head_id"] = generator.largest.head_id
        counts["largest_cases"] = Case.unscoped.filter(owner_id=generator.largest.id).count()
        counts["open_cases"] = Case.unscoped.filter(status__in=OPEN_STATUSES).count()
        counts["staff"] = len(generator.units) + sum(len(u.specialist_ids) for u in generator.units)
        loaded = time.perf_counter() - started
        counts["load_seconds"] = round(loaded, 1)
    _analyse()
    seconds = time.perf_counter() - started
    MARKER.write(asdict(spec), built_on=generator.dates.today, generated_at=generated_at, seconds=seconds,
                 counts=counts)
    return DeadlineCity(spec=spec, today=generator.dates.today, generated_at=generated_at, build_seconds=seconds,
                        largest_id=generator.largest.id, largest_head_id=generator.largest.head_id, counts=counts)


# What sweeps and `reset` write; the case rows are only read.
SWEPT_MODELS = (DeadlineMark, Consultation, Notification, CaseEvent)


def _analyse(tables: list[str] | None = None) -> None:
    """Statistics for the planner (every table: users and staff too, which the sweep joins), and on PostgreSQL a
    vacuum so the tables look like a production's that autovacuum keeps."""
    targets = [connection.ops.quote_name(table) for table in tables] if tables else [""]
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for target in targets:
            cursor.execute(f"VACUUM (ANALYZE) {target}" if vacuum else f"ANALYZE {target}")


def settle() -> None:
    """Vacuum what the last run updated, so every measured run starts from the same kind of table."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        _analyse([m._meta.db_table for m in SWEPT_MODELS])


def reset(city: DeadlineCity, *, every: int = 1) -> None:
    """Undo what sweeps wrote since the build: late work is unmarked again, its notices and events gone.

    `every=10` undoes it for one item in ten only (by id), so the next sweep finds a tenth of the work.

    Deleting the marks stamped since the build is enough because the build's own marks are never touched:
    each is for the due date its item still has and of the kind that date calls for, and none of it is
    finished, so a sweep neither re-marks nor clears it (a re-marked one would be stamped with the sweep's
    time and deleted here). That is checked: if the build's marks are no longer all there, the data set
    is not the one the figures promise, and the run stops rather than measure another backlog.
    """
    quote = connection.ops.quote_name
    mark_t, cons_t = quote(DeadlineMark._meta.db_table), quote(Consultation._meta.db_table)
    notice_t, event_t = quote(Notification._meta.db_table), quote(CaseEvent._meta.db_table)

    def column(name: str) -> str:
        return quote(DeadlineMark._meta.get_field(name).column)

    since = connection.ops.adapt_datetimefield_value(city.generated_at)
    part = f" AND id %% {int(every)} = 0" if every > 1 else ""
    mark_part = (f" AND COALESCE({column('case')}, {column('consultation')}) %% {int(every)} = 0"
                 if every > 1 else "")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL alters no table with foreign-key checks pending, as the trail's below would be.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DELETE FROM {mark_t} WHERE {column('flagged_at')} >= %s{mark_part}", [since])
        built = city.counts.get("marks")
        if built is not None:
            cursor.execute(f"SELECT count(*) FROM {mark_t} WHERE {column('flagged_at')} < %s", [since])
            left = cursor.fetchone()[0]
            if left != built:
                raise RuntimeError(f"{built - left} of the {built} deadline marks the build wrote were changed or "
                                   f"deleted since; build the data set again (--rebuild)")
        deemed_events = (f"SELECT id FROM {event_t} WHERE action = %s AND at >= %s AND case_id IN "
                         f"(SELECT case_id FROM {cons_t} WHERE deemed_agreed_at >= %s{part})")
        # The owner side's notices of the silences go with the events they name.
        cursor.execute(f"DELETE FROM {notice_t} WHERE event_id IN ({deemed_events})",
                       [EventAction.DEEMED_AGREED, since, since])
        # The sweeps' events are the benchmark's to take back, as the database's owner: the trail's refusal is
        # stopped for this one statement (core.audit).
        for sql in suspend_statements(CaseEvent._meta.db_table, connection.vendor):
            cursor.execute(sql)
        cursor.execute(f"DELETE FROM {event_t} WHERE id IN ({deemed_events})",
                       [EventAction.DEEMED_AGREED, since, since])
        for sql in resume_statements(CaseEvent._meta.db_table, connection.vendor):
            cursor.execute(sql)
        cursor.execute(f"UPDATE {cons_t} SET status = %s, deemed_agreed_at = NULL WHERE deemed_agreed_at >= %s{part}",
                       [ConsultationStatus.OPEN, since])
        notice_part = (f" AND ((consultation_id IS NULL AND case_id %% {int(every)} = 0)"
                       f" OR consultation_id %% {int(every)} = 0)") if every > 1 else ""
        cursor.execute(f"DELETE FROM {notice_t} WHERE created_at >= %s AND kind IN (%s, %s){notice_part}",
                       [since, DeadlineFlag.OVERDUE, DeadlineFlag.DUE_SOON])


def late_counts(city: DeadlineCity) -> dict[str, int]:
    """How much work the next sweep has: the exact figures the spec promised (for checks and the report)."""
    window = Window.at(timezone.now())
    open_cases = Case.unscoped.filter(status__in=RUNNING_STATUSES)
    open_consultations = Consultation.unscoped.filter(status=ConsultationStatus.OPEN)
    return {
        "cases_newly_overdue": open_cases.filter(window.overdue()).exclude(
            _marked("case", DeadlineFlag.OVERDUE)).count(),
        "cases_newly_due_soon": open_cases.filter(window.due_soon()).exclude(
            _marked("case", DeadlineFlag.DUE_SOON)).count(),
        "consultations_newly_deemed": open_consultations.filter(window.overdue(), required=True).count(),
        "consultations_newly_overdue": open_consultations.filter(window.overdue(), required=False).exclude(
            _marked("consultation", DeadlineFlag.OVERDUE)).count(),
        "consultations_newly_due_soon": open_consultations.filter(window.due_soon()).exclude(
            _marked("consultation", DeadlineFlag.DUE_SOON)).count(),
    }


def _marked(item: str, flag: str) -> models.Exists:
    """The item has a mark of this kind for the due date it has now: the sweep has nothing to do for it."""
    return models.Exists(DeadlineMark.objects.filter(**{item: models.OuterRef("pk")}, flag=flag,
                                                     due_date=models.OuterRef("due_date")))


def expected_counts(spec: DeadlineSpec) -> dict[str, int]:
    return {
        "cases_newly_overdue": spec.newly_overdue,
        "cases_newly_due_soon": spec.newly_due_soon,
        "consultations_newly_deemed": spec.consultations_newly_deemed,
        "consultations_newly_overdue": spec.consultations_newly_overdue,
        "consultations_newly_due_soon": spec.consultations_newly_due_soon,
    }
