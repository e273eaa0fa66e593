"""Deadline edges through the intake service and the sweep (DESIGN.md §3, §2 rule 9).

The due date is the Nth working day after receipt, the receipt day not counted and a receipt on a
non-working day deemed made on the next working day; work is overdue only after 23:59:59 local time of its
due day. The cases here are logged by the clerk through `case_create`, so the calendar is the one the
application really uses: the `holidays` package for Vietnam plus the admin's overrides.

The complaint type below gives 3 working days, short enough to read each count by hand.
"""

import datetime as dt
import io

import holidays
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from cases.deadlines import flag_overdue
from cases.measures import Window, working_days_late
from cases.models import DEADLINE_KINDS, Case, DeadlineFlag, Notification
from cases.services import case_accept, case_complete_supplement, case_request_supplement
from departments.models import AuthorityRule, CalendarDay, CalendarDayKind, CaseType
from departments.workdays import WorkingCalendar, get_calendar
from tests.support.cases import mark_of
from tests.support.world import local_datetime

D = dt.date
UTC = dt.UTC


@pytest.fixture
def complaint(city):
    kind = CaseType.objects.create(code="citizen-complaint", name="Giải quyết kiến nghị của công dân",
                                   processing_days=3)
    AuthorityRule.objects.create(case_type=kind, owner=city.owner, legal_basis="Nghị định 61/2018/NĐ-CP, Điều 19")
    return kind


@pytest.fixture
def receive(log_case, complaint, clock):
    """Log a complaint received at a local moment (the clock stands a little after it)."""

    def log(year, month, day, hour=9, **fields):
        received_at = local_datetime(year, month, day, hour)
        clock.set(received_at + dt.timedelta(minutes=5))
        return log_case(case_type=complaint, received_at=received_at, **fields)

    return log


def refreshed(case):
    case.refresh_from_db()
    return case


def flag_of(case) -> str:
    return mark_of(case).flag


# --- receipt on a non-working day -----------------------------------------------------------------------


@pytest.mark.parametrize("received", [D(2026, 10, 10), D(2026, 10, 11)], ids=["saturday", "sunday"])
def test_a_weekend_receipt_is_deemed_made_on_monday_which_is_not_counted(receive, received):
    case = receive(received.year, received.month, received.day)
    # Deemed received Monday 12 October; the 3 days are Tuesday 13, Wednesday 14, Thursday 15.
    assert case.due_date == D(2026, 10, 15)
    assert case.due_date == receive(2026, 10, 12).due_date  # the same as a receipt on Monday itself


def test_a_friday_receipt_counts_monday_as_its_first_day(receive):
    assert receive(2026, 10, 9).due_date == D(2026, 10, 14)


def test_a_friday_evening_receipt_in_utc_is_a_saturday_receipt_in_hai_phong(log_case, complaint, clock):
    # 18:00 UTC on Friday 9 October is 01:00 on Saturday 10 October in Asia/Ho_Chi_Minh.
    received_at = dt.datetime(2026, 10, 9, 18, 0, tzinfo=UTC)
    clock.set(received_at + dt.timedelta(minutes=5))
    assert log_case(case_type=complaint, received_at=received_at).due_date == D(2026, 10, 15)


@pytest.mark.parametrize(
    ("received", "holiday_name", "due"),
    [
        # 31 August (swapped for Saturday 22 August), 1 and 2 September 2026 are days off: deemed Thursday 3.
        (D(2026, 9, 2), "Quốc khánh", D(2026, 9, 8)),
        # 2 and 3 September 2027 (Thursday, Friday): deemed Monday 6 September.
        (D(2027, 9, 2), "Quốc khánh", D(2027, 9, 9)),
    ],
)
def test_a_receipt_on_national_day_counts_from_the_next_working_day(receive, received, holiday_name, due):
    # The holiday is the package's, under its Vietnamese name, not a date this test made up.
    assert holidays.country_holidays("VN", years=received.year, language="vi").get(received) == holiday_name
    assert not get_calendar().is_working_day(received)

    assert receive(received.year, received.month, received.day).due_date == due


def test_the_fifteen_day_permit_received_on_national_day(log_case, clock):
    clock.set(local_datetime(2026, 9, 2, 10))
    case = log_case(received_at=local_datetime(2026, 9, 2, 9))
    # Deemed Thursday 3 September; fifteen working days later is Thursday 24 September.
    assert case.due_date == D(2026, 9, 24)


def test_the_swapped_working_saturday_the_package_knows_is_counted(receive):
    # Saturday 22 August 2026 is worked in exchange for Monday 31 August.
    assert receive(2026, 8, 21).due_date == D(2026, 8, 25)  # Saturday 22, Monday 24, Tuesday 25
    assert receive(2026, 8, 22).due_date == D(2026, 8, 26)  # a receipt on it is a working-day receipt


# --- Tết 2027 -------------------------------------------------------------------------------------------

TET_2027 = [D(2027, 2, day) for day in range(4, 11)]  # 29 Tết (Thursday 4) to Mùng năm (Wednesday 10)
LAST_BEFORE_TET = D(2027, 2, 3)
FIRST_AFTER_TET = D(2027, 2, 11)


def test_the_tet_2027_break_is_the_one_the_holidays_package_gives():
    package = holidays.country_holidays("VN", years=2027, language="vi")
    assert sorted(day for day in package if D(2027, 1, 15) <= day <= D(2027, 2, 28)) == TET_2027
    plain = WorkingCalendar()  # the package alone, no admin overrides
    assert [day for day in TET_2027 if plain.is_working_day(day)] == []
    assert plain.is_working_day(LAST_BEFORE_TET) and plain.is_working_day(FIRST_AFTER_TET)


def test_a_case_due_the_working_day_before_tet(receive):
    # Friday 29 January + 3: Monday 1, Tuesday 2, Wednesday 3 February.
    assert receive(2027, 1, 29).due_date == LAST_BEFORE_TET


def test_due_dates_skip_the_whole_tet_break(receive, log_case, clock):
    # Monday 1 February + 3: Tuesday 2, Wednesday 3, then nothing until Thursday 11 February.
    assert receive(2027, 2, 1).due_date == FIRST_AFTER_TET
    # Wednesday 3 February + 3: Thursday 11, Friday 12, Monday 15.
    assert receive(2027, 2, 3).due_date == D(2027, 2, 15)
    # Received during Tết: deemed received Thursday 11, so Friday 12, Monday 15, Tuesday 16.
    assert receive(2027, 2, 6).due_date == D(2027, 2, 16)
    clock.set(local_datetime(2027, 2, 3, 10))
    assert log_case(received_at=local_datetime(2027, 2, 3, 9)).due_date == D(2027, 3, 3)  # the 15-day permit


def test_the_due_soon_window_before_tet_reaches_the_first_working_day_after_it(receive):
    due_before = receive(2027, 1, 29)  # due Wednesday 3 February
    due_after = receive(2027, 2, 1)  # due Thursday 11 February
    due_later = receive(2027, 2, 2)  # due Friday 12 February
    assert [c.due_date for c in (due_before, due_after, due_later)] == [LAST_BEFORE_TET, FIRST_AFTER_TET,
                                                                          D(2027, 2, 12)]

    # 10:00 on Wednesday 3 February: "due soon" means due by the next working day, which is after Tết.
    on_the_eve = local_datetime(2027, 2, 3, 10)
    assert Window.at(on_the_eve) == Window(today=LAST_BEFORE_TET, soon=FIRST_AFTER_TET)
    result = flag_overdue(now=on_the_eve)

    assert (result.cases_overdue, result.cases_due_soon) == (0, 2)
    assert [flag_of(c) for c in (due_before, due_after, due_later)] == [
        DeadlineFlag.DUE_SOON, DeadlineFlag.DUE_SOON, DeadlineFlag.NONE]


def test_work_due_before_tet_is_overdue_during_it_but_not_a_working_day_late(receive):
    case = receive(2027, 1, 29)  # due Wednesday 3 February
    flag_overdue(now=local_datetime(2027, 2, 3, 10))

    # 00:00:01 on Thursday 4 February (29 Tết), 17:00:01 UTC the day before.
    result = flag_overdue(now=dt.datetime(2027, 2, 3, 17, 0, 1, tzinfo=UTC))

    assert result.cases_overdue == 1
    assert flag_of(case) == DeadlineFlag.OVERDUE
    assert working_days_late(LAST_BEFORE_TET, D(2027, 2, 10)) == 0  # the break is not lateness
    assert working_days_late(LAST_BEFORE_TET, FIRST_AFTER_TET) == 1


# --- the admin's overrides ------------------------------------------------------------------------------


def admin_adds_calendar_day(client, city, day: dt.date, kind: str, name: str):
    client.force_login(city.user("admin"))
    response = client.post(reverse("admin:departments_calendarday_add"),
                           {"date": day.isoformat(), "kind": kind, "name": name})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.filter(date=day, kind=kind).exists()


def test_a_working_saturday_the_admin_adds_counts_as_a_working_day(client, city, receive):
    assert receive(2026, 10, 9).due_date == D(2026, 10, 14)  # before: Monday 12 to Wednesday 14

    admin_adds_calendar_day(client, city, D(2026, 10, 10), CalendarDayKind.WORKING_DAY, "Làm bù")

    assert receive(2026, 10, 9).due_date == D(2026, 10, 13)  # Saturday 10, Monday 12, Tuesday 13
    # A receipt on that Saturday is a working-day receipt: the Saturday itself is not counted.
    assert receive(2026, 10, 10).due_date == D(2026, 10, 14)
    # And it is the "next working day" of the due-soon window on Friday 9 October.
    assert Window.at(local_datetime(2026, 10, 9, 10)).soon == D(2026, 10, 10)


def test_an_extra_day_off_the_admin_adds_is_skipped(client, city, receive):
    admin_adds_calendar_day(client, city, D(2026, 10, 12), CalendarDayKind.DAY_OFF, "Nghỉ bù")

    # Friday 9 October + 3, Monday 12 off: Tuesday 13, Wednesday 14, Thursday 15.
    assert receive(2026, 10, 9).due_date == D(2026, 10, 15)
    assert Window.at(local_datetime(2026, 10, 9, 10)).soon == D(2026, 10, 13)


def test_an_override_added_later_does_not_move_a_logged_case(client, city, receive):
    case = receive(2026, 10, 9)
    admin_adds_calendar_day(client, city, D(2026, 10, 12), CalendarDayKind.DAY_OFF, "Nghỉ bù")
    case.refresh_from_db()
    assert case.due_date == D(2026, 10, 14)


# --- overdue after the end of the due day, local time ---------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "flag"),
    [
        (dt.datetime(2026, 10, 14, 16, 59, 0, tzinfo=UTC), DeadlineFlag.DUE_SOON),  # 23:59 local, the due day
        (dt.datetime(2026, 10, 14, 16, 59, 59, tzinfo=UTC), DeadlineFlag.DUE_SOON),  # 23:59:59 local
        (dt.datetime(2026, 10, 14, 17, 0, 1, tzinfo=UTC), DeadlineFlag.OVERDUE),  # 00:00:01 local, next day
    ],
    ids=["23:59", "23:59:59", "00:00:01"],
)
def test_overdue_only_after_the_end_of_the_due_day_in_hai_phong(receive, clock, moment, flag):
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
    case = receive(2026, 10, 9)  # due Wednesday 14 October
    assert case.due_date == D(2026, 10, 14)
    # The server's clock is UTC: every one of these moments is still 14 October there.
    assert moment.date() == D(2026, 10, 14)

    clock.set(moment)
    call_command("flag_overdue", stdout=io.StringIO())

    assert flag_of(case) == flag
    overdue = flag == DeadlineFlag.OVERDUE
    case.refresh_from_db()
    assert case.is_overdue is overdue
    assert Case.unscoped.overdue().filter(pk=case.pk).exists() is overdue


def test_the_sweep_at_2359_then_at_000001(receive, clock):
    case = receive(2026, 10, 9)
    clock.set(dt.datetime(2026, 10, 14, 16, 59, tzinfo=UTC))
    out = io.StringIO()
    call_command("flag_overdue", stdout=out)
    assert out.getvalue().startswith("flagged 0 cases overdue, 0 consultations overdue, 1 due soon")
    assert flag_of(case) == DeadlineFlag.DUE_SOON

    clock.set(dt.datetime(2026, 10, 14, 17, 0, 1, tzinfo=UTC))
    out = io.StringIO()
    call_command("flag_overdue", stdout=out)
    assert out.getvalue().startswith("flagged 1 cases overdue, 0 consultations overdue, 0 due soon")
    assert flag_of(case) == DeadlineFlag.OVERDUE


# --- the clock stops while the applicant completes the dossier ------------------------------------------


def test_a_case_waiting_for_the_applicants_supplement_is_neither_due_soon_nor_overdue(receive, city, clock):
    # DESIGN.md §3: "the clock stops while the case is awaiting_supplement and restarts from zero when it is
    # complete". Nobody at the owner can act on it meanwhile, so nobody is warned or blamed for it.
    case = receive(2026, 10, 5)  # due Thursday 8 October
    clock.set(local_datetime(2026, 10, 5, 10))
    case = case_accept(case=case, actor=city.user("specialist"))
    clock.set(local_datetime(2026, 10, 6, 10))
    case = case_request_supplement(case=case, actor=city.user("specialist"),
                                   items="Bản sao giấy chứng nhận quyền sử dụng đất")

    due_soon_day = flag_overdue(now=local_datetime(2026, 10, 7, 10))  # the old due date is the next working day
    past_old_due = flag_overdue(now=local_datetime(2026, 10, 12, 10))

    assert (due_soon_day.cases_due_soon, past_old_due.cases_overdue) == (0, 0)
    assert flag_of(case) == DeadlineFlag.NONE
    assert not Notification.objects.filter(case=case, kind__in=DEADLINE_KINDS).exists()

    # Complete on Tuesday 13 October: 3 working days again from then, due Friday 16; late from Monday 19.
    clock.set(local_datetime(2026, 10, 13, 10))
    case = case_complete_supplement(case=refreshed(case), actor=city.user("specialist"), note="Đã nhận đủ")
    assert case.due_date == D(2026, 10, 16)
    assert flag_overdue(now=local_datetime(2026, 10, 19, 10)).cases_overdue == 1
    assert flag_of(case) == DeadlineFlag.OVERDUE
