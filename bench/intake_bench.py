"""Benchmark (b): cases logged one by one through the intake service, as the intake desk logs them.

Each `case_create` call is its own transaction (reference counter, case row, events), exactly as a web
request runs it, so the figure includes the routing decision, the deadline and every write.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass

from django.utils import timezone

from bench.dataset import BenchCity, CaseInput
from bench.timing import Summary, time_each
from cases.models import Case, CaseEvent, Status
from cases.services import case_create
from departments.models import CaseType, Department
from departments.routing import get_index
from departments.workdays import get_calendar, local_zone

TITLES = (
    "Xin cấp phép xây dựng nhà ở riêng lẻ",
    "Đề nghị giao đất, cho thuê đất",
    "Phản ánh lấn chiếm vỉa hè",
    "Xin chủ trương đầu tư dự án",
    "Đăng ký kinh doanh hộ cá thể",
    "Kiến nghị sửa chữa đường giao thông nông thôn",
)
APPLICANTS = ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung", "Công ty TNHH Hải Âu")


@dataclass
class IntakeResult:
    cases: int
    total_s: float
    per_case: Summary
    by_status: dict[str, int]
    events: int

    @property
    def cases_per_s(self) -> float:
        return self.cases / self.total_s if self.total_s else 0.0


def run_intake(city: BenchCity, inputs: list[CaseInput], *, seed: int = 2) -> IntakeResult:
    rng = random.Random(seed)
    case_types = CaseType.objects.in_bulk(city.case_type_ids)
    localities = Department.objects.in_bulk(city.locality_ids)
    now = timezone.now()
    zone = local_zone()

    def received_at(day: dt.date) -> dt.datetime:
        # Office hours, with some dossiers after the 15:00 handover cut-off; never in the future.
        moment = dt.datetime.combine(day, dt.time(rng.randint(7, 16), rng.randint(0, 59)), tzinfo=zone)
        return min(moment, now - dt.timedelta(minutes=1))

    calls = [
        dict(actor=city.clerk, title=rng.choice(TITLES), applicant_name=rng.choice(APPLICANTS),
             case_type=case_types[case.case_type_id], amount=case.amount,
             locality=localities[case.locality_id] if case.locality_id else None,
             received_at=received_at(case.received_on))
        for case in inputs
    ]
    # The first call would otherwise pay for building the routing index and the calendar.
    get_index()
    get_calendar()
    created = Case.unscoped.filter(created_by=city.clerk)
    before = created.count()
    started = time.perf_counter()
    durations, _cases = time_each(lambda fields: case_create(**fields), calls)
    total_s = time.perf_counter() - started

    if created.count() - before != len(inputs):
        raise RuntimeError("intake did not create one case per call")
    by_status = {status: created.filter(status=status).count() for status in (Status.ROUTED, Status.TRIAGE)}
    return IntakeResult(cases=len(inputs), total_s=total_s, per_case=Summary.of(durations),
                        by_status=by_status, events=CaseEvent.objects.filter(case__in=created).count())
