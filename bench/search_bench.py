"""Benchmark (e): the case search over a million cases, ours against the `icontains` search it replaced.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cityops make bench-search

The data set (kept in `cityops_bench_search`, built again when its size or the migrations change) is a
million cases with varied titles (what, where: house numbers, streets, wards), applicants (6,720 distinct
names) and short descriptions. Each query is run as a list runs it, in the same run and alternately:
the count of the results and their first page of 25, newest first, over the whole city (an inspector's list,
which no unit's index narrows). Ours gets what an official types, without diacritics; the old search gets the
same words with their diacritics, so that it finds what it can (without them it finds nothing, at the same cost).
Three kinds of query: a person's full name, an address, an exact reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from dataclasses import dataclass, field

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLES = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Thu", "Ngọc", "Xuân", "Hoài", "Gia")
GIVEN = ("An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hằng", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Ngân", "Nhung", "Phong", "Phúc", "Quang", "Quân", "Sơn",
         "Tâm", "Thảo", "Thắng", "Thịnh", "Trang", "Trung", "Tuấn", "Tùng", "Vân", "Việt", "Vinh", "Yến", "Hiền",
         "Lộc")
ACTIONS = ("Xin cấp phép xây dựng", "Xin cấp phép sửa chữa", "Đề nghị cấp giấy chứng nhận", "Phản ánh lấn chiếm",
           "Đề nghị giao đất", "Đăng ký kinh doanh", "Kiến nghị sửa chữa", "Phản ánh ô nhiễm", "Đề nghị cho thuê đất",
           "Xin chủ trương đầu tư", "Đề nghị chuyển mục đích sử dụng đất", "Phản ánh tiếng ồn")
OBJECTS = ("nhà ở riêng lẻ", "cửa hàng", "nhà xưởng", "vỉa hè", "kho bãi", "trường mầm non", "chợ dân sinh",
           "đường ngõ", "cống thoát nước", "nhà văn hóa", "trạm biến áp", "bến xe", "khu vui chơi", "tường rào",
           "công trình phụ")
STREETS = ("Lạch Tray", "Lê Lợi", "Trần Phú", "Cầu Đất", "Điện Biên Phủ", "Hoàng Văn Thụ", "Tô Hiệu", "Lê Lai",
           "Nguyễn Đức Cảnh", "Hai Bà Trưng", "Chùa Vẽ", "Đình Vũ", "Văn Cao", "Trần Nguyên Hãn", "Quang Trung",
           "Minh Khai", "Lương Khánh Thiện", "Đà Nẵng", "Máy Tơ", "Lý Thường Kiệt", "Phạm Văn Đồng", "Thiên Lôi",
           "Nguyễn Văn Linh", "Hồ Sen", "An Đà", "Ngô Quyền", "Bạch Đằng", "Hùng Vương", "Cát Bi", "Lê Hồng Phong")
WARDS = ("Lê Chân", "An Biên", "Cát Dài", "Vĩnh Niệm", "Dư Hàng Kênh", "Đông Khê", "Gia Viên", "Máy Chai",
         "Hải An", "Đằng Giang", "Kênh Dương", "Vĩnh Bảo", "Tiên Lãng", "An Dương", "Thủy Nguyên", "Kiến An",
         "Đồ Sơn", "Dương Kinh", "Nam Sơn", "Hưng Đạo")
PAGE = 25
# The data set is the same on any day: the marker's day is a fixed one.
DAYLESS = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class SearchSpec:
    cases: int = 1_000_000
    seed: int = 966


@dataclass
class Kind:
    label: str
    ours_ms: list[float] = field(default_factory=list)
    old_ms: list[float] = field(default_factory=list)
    ours_found: list[int] = field(default_factory=list)
    old_found: list[int] = field(default_factory=list)

    @staticmethod
    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _people(rng: random.Random) -> list[str]:
    return [f"{s} {m} {g}" for s in SURNAMES for m in MIDDLES for g in GIVEN]


def case_rows(spec: SearchSpec, case_type_id: int, owner_ids: list[int], first_id: int, now: dt.datetime):
    """(id, reference, pin, title, case_type, applicant_name, description, received_at, created_at, status,
    owner, rule_snapshot, search_text) rows, deterministic for the seed."""
    from cases.models import Status
    from core.text import words

    rng = random.Random(spec.seed)
    people = _people(rng)
    per_day: dict[dt.date, int] = {}
    for n in range(spec.cases):
        received = now - dt.timedelta(minutes=rng.randint(60, 730 * 24 * 60))
        day = received.date()
        per_day[day] = per_day.get(day, 0) + 1
        reference = f"BEN-{day:%y%m%d}-{per_day[day]:04d}"
        person = rng.choice(people)
        action, what = rng.choice(ACTIONS), rng.choice(OBJECTS)
        street, ward, number = rng.choice(STREETS), rng.choice(WARDS), rng.randint(1, 400)
        title = f"{action} {what} số {number} {street}, {ward}"
        description = (f"Ông (bà) {person} đề nghị giải quyết hồ sơ {what} tại số {number} đường {street}, "
                       f"phường {ward}; hồ sơ gồm {rng.randint(2, 9)} thành phần.")
        yield (first_id + n, reference, f"{rng.randint(0, 999_999):06d}", title, case_type_id, person, description,
               received, received, Status.ROUTED, rng.choice(owner_ids), "{}",
               " ".join(words(f"{reference} {title} {person} {description}")))


CASE_FIELDS = ["id", "reference", "pin", "title", "case_type", "applicant_name", "description", "received_at",
               "created_at", "status", "owner", "rule_snapshot", "search_text"]


def build(spec: SearchSpec) -> dict:
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.deadlines_data import _analyse, _bulk_load, _next_id, _reset_sequences, _Table
    from cases.models import Case
    from departments.models import CaseType, Department, DepartmentKind

    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        case_type = CaseType.objects.create(code="bench-search", name="Hồ sơ (bench)", processing_days=10)
        owners = Department.objects.bulk_create(
            Department(code=f"bench-search-{i:02d}", name=f"Đơn vị {i:02d} (bench)", kind=DepartmentKind.DEPARTMENT)
            for i in range(1, 31))
        with _bulk_load((Case,), rows=spec.cases):
            written = _Table(Case, CASE_FIELDS).write(
                case_rows(spec, case_type.pk, [o.pk for o in owners], _next_id(Case), timezone.now()))
        _reset_sequences(Case)
    _analyse(["cases_case"])
    return {"cases": written, "seconds": round(time.perf_counter() - started, 1)}


def queries(spec: SearchSpec, count: int) -> dict[str, list[tuple[str, str]]]:
    """(what the old search is given, what ours is given) per kind: what an official would type."""
    from cases.models import Case
    from core.text import normalise

    rng = random.Random(spec.seed + 1)
    people = _people(rng)
    names = [(person, normalise(person)) for person in rng.sample(people, count)]
    addresses = []
    for _ in range(count):
        number, street = rng.randint(1, 400), rng.choice(STREETS)
        addresses.append((f"{number} {street}", normalise(f"{number} {street}")))
    ids = rng.sample(range(1, spec.cases), count)
    references = list(Case.unscoped.filter(pk__in=ids).values_list("reference", flat=True))
    return {"full name": names, "address": addresses, "exact reference": [(r, r) for r in references]}


def old_search(text: str):
    """The search this one replaced, as it was: the whole text in the title, reference or applicant."""
    from django.db.models import Q

    from cases.models import Case

    return Case.unscoped.filter(Q(title__icontains=text) | Q(reference__icontains=text)
                                | Q(applicant_name__icontains=text)).order_by("-received_at", "-id")


def run_list(queryset) -> tuple[float, int, int]:
    """A list's work for one search: the count and the first page, in the search's own order (ours: the best
    match first, then the newest). Returns (ms, results, statements)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        total = queryset.count()
        list(queryset[:PAGE].values_list("pk", flat=True))
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, total, len(captured)


def measure(spec: SearchSpec, per_kind: int) -> tuple[list[Kind], set[int]]:
    from cases.models import Case

    kinds = []
    statements: set[int] = set()
    for label, pairs in queries(spec, per_kind).items():
        kind = Kind(label)
        for old_text, our_text in pairs:
            # One warm-up of each, then both in turn: the same cache for both.
            run_list(old_search(old_text))
            run_list(Case.unscoped.search(our_text))
            old_ms, old_total, old_statements = run_list(old_search(old_text))
            ours_ms, ours_total, our_statements = run_list(Case.unscoped.search(our_text))
            kind.old_ms.append(old_ms)
            kind.ours_ms.append(ours_ms)
            kind.old_found.append(old_total)
            kind.ours_found.append(ours_total)
            statements.update({old_statements, our_statements})
        kinds.append(kind)
    return kinds, statements


def report(kinds: list[Kind], statements: set[int], build_info: dict) -> bool:
    print(f"\nSearch over {build_info['cases']:,} cases (built in {build_info['seconds']} s)")
    print(f"  {'query':<18}{'n':>4} {'ours p95 ms':>12} {'icontains p95 ms':>17} {'ratio':>8} "
          f"{'ours median':>12} {'found (ours/old, median)':>26}")
    all_ours = [ms for kind in kinds for ms in kind.ours_ms]
    all_old = [ms for kind in kinds for ms in kind.old_ms]
    for kind in kinds:
        ours, old = Kind.p95(kind.ours_ms), Kind.p95(kind.old_ms)
        print(f"  {kind.label:<18}{len(kind.ours_ms):>4} {ours:>12.2f} {old:>17.2f} {old / ours:>7.1f}x "
              f"{statistics.median(kind.ours_ms):>12.2f} "
              f"{statistics.median(kind.ours_found):>13.0f}/{statistics.median(kind.old_found):.0f}")
    ours, old = Kind.p95(all_ours), Kind.p95(all_old)
    met = old / ours >= 20 and statements == {2}
    print(f"  {'all':<18}{len(all_ours):>4} {ours:>12.2f} {old:>17.2f} {old / ours:>7.1f}x")
    print(f"  statements per search: {sorted(statements)} (a count and a page, whatever the query)")
    print(f"  target: p95 of ours >= 20x faster than icontains, constant statements: {'met' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=20, help="queries of each kind (default 20)")
    parser.add_argument("--db-name", default="cityops_bench_search")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    if args.cases < 1000 or args.queries < 2:
        parser.error("at least 1000 cases and 2 queries of each kind")

    from bench.run import setup_django

    setup_django()
    from django.db import connection

    from bench.marker import Marker

    if connection.vendor != "postgresql":
        print("The search benchmark loads a million cases with COPY and needs PostgreSQL (DATABASE_URL).",
              file=sys.stderr)
        return 2
    spec = SearchSpec(cases=args.cases)
    settings_dict = connection.settings_dict
    settings_dict.setdefault("TEST", {})["NAME"] = args.db_name
    marker = Marker("bench_search_dataset", day_note="")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=not args.rebuild)
    built = marker.matching({"cases": spec.cases, "seed": spec.seed}, DAYLESS)
    if built is None:
        if args.rebuild or _has_cases():
            connection.close()
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        info = build(spec)
        marker.write({"cases": spec.cases, "seed": spec.seed}, built_on=DAYLESS,
                     generated_at=dt.datetime.now(dt.UTC), seconds=info["seconds"], counts=info)
    else:
        info = built.counts
    kinds, statements = measure(spec, args.queries)
    return 0 if report(kinds, statements, info) else 1


def _has_cases() -> bool:
    from cases.models import Case

    return Case.unscoped.exists()


if __name__ == "__main__":
    sys.exit(main())
