"""Deadline arithmetic in Vietnamese working days (DESIGN.md §3), across Tết 2026 and 2027."""

import datetime as dt

import pytest
from django.test import override_settings

from departments.models import CalendarDay, CalendarDayKind
from departments.workdays import WorkingCalendar, end_of_day, get_calendar, handover_due
from tests.support.world import local_datetime

D = dt.date
plain = WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 11, 25), True),  # a Wednesday
        (D(2026, 11, 28), False),  # Saturday
        (D(2026, 11, 29), False),  # Sunday
        (D(2026, 1, 1), False),  # New Year
        (D(2026, 2, 16), False),  # Tết 2026: 16–20 February
        (D(2026, 2, 20), False),
        (D(2026, 2, 23), True),
        (D(2026, 4, 27), False),  # Hùng Kings' day in lieu
        (D(2026, 8, 22), True),  # a swapped working Saturday the package knows
        (D(2026, 8, 31), False),  # the day off it was swapped for
        (D(2026, 9, 2), False),
        (D(2027, 2, 4), False),  # Tết 2027: 4–10 February
        (D(2027, 2, 10), False),
        (D(2027, 2, 11), True),
    ],
)
def test_working_days(day, working):
    assert plain.is_working_day(day) is working


@pytest.mark.parametrize(
    ("received", "days", "due"),
    [
        (D(2026, 11, 25), 1, D(2026, 11, 26)),  # the receipt day is not counted
        (D(2026, 11, 27), 1, D(2026, 11, 30)),  # Friday + 1 skips the weekend
        (D(2026, 11, 28), 1, D(2026, 12, 1)),  # Saturday counts as Monday, which is then not counted
        (D(2026, 11, 29), 0, D(2026, 11, 30)),  # zero days: the deemed receipt day itself
        (D(2026, 2, 12), 1, D(2026, 2, 13)),  # the day before Tết 2026
        (D(2026, 2, 13), 1, D(2026, 2, 23)),  # across Tết 2026
        (D(2026, 2, 17), 1, D(2026, 2, 24)),  # received during Tết: deemed 23 Feb
        (D(2026, 2, 13), 15, D(2026, 3, 13)),
        (D(2027, 2, 3), 1, D(2027, 2, 11)),  # across Tết 2027
        (D(2027, 2, 3), 5, D(2027, 2, 17)),
        (D(2026, 8, 21), 1, D(2026, 8, 22)),  # Friday + 1 lands on the working Saturday
        (D(2026, 8, 28), 1, D(2026, 9, 3)),  # over 31 Aug – 2 Sep
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # over New Year into the next year
    ],
)
def test_due_dates(received, days, due):
    assert plain.due_date(received, days) == due


def test_admin_day_off_moves_the_deadline(db):
    assert get_calendar().due_date(D(2026, 11, 25), 1) == D(2026, 11, 26)
    CalendarDay.objects.create(date=D(2026, 11, 26), kind=CalendarDayKind.DAY_OFF, name="Nghỉ bù")
    assert get_calendar().due_date(D(2026, 11, 25), 1) == D(2026, 11, 27)


def test_admin_working_saturday_counts(db):
    CalendarDay.objects.create(date=D(2026, 11, 28), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    calendar = get_calendar()
    assert calendar.is_working_day(D(2026, 11, 28))
    assert calendar.due_date(D(2026, 11, 27), 1) == D(2026, 11, 28)


def test_admin_can_turn_a_public_holiday_into_a_working_day(db):
    CalendarDay.objects.create(date=D(2027, 2, 10), kind=CalendarDayKind.WORKING_DAY, name="Làm bù")
    assert get_calendar().due_date(D(2027, 2, 3), 1) == D(2027, 2, 10)


def test_removing_an_override_restores_the_calendar(db):
    override = CalendarDay.objects.create(date=D(2026, 11, 26), kind=CalendarDayKind.DAY_OFF)
    assert not get_calendar().is_working_day(D(2026, 11, 26))
    override.delete()
    assert get_calendar().is_working_day(D(2026, 11, 26))


def test_holiday_names_are_vietnamese():
    assert plain.holiday_name(D(2026, 2, 17)) == "Tết Nguyên Đán"


def test_working_days_between():
    assert plain.working_days_between(D(2026, 2, 13), D(2026, 2, 24)) == 2
    assert plain.working_days_between(D(2026, 2, 24), D(2026, 2, 13)) == 0


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        plain.add_working_days(D(2026, 1, 5), -1)


def test_overdue_after_the_end_of_the_due_day():
    moment = end_of_day(D(2026, 11, 26))
    assert (moment.hour, moment.minute, moment.second) == (23, 59, 59)
    assert str(moment.tzinfo) == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize(
    ("received", "due_day"),
    [
        (local_datetime(2026, 11, 25, 9, 0), D(2026, 11, 25)),  # morning: same day
        (local_datetime(2026, 11, 25, 14, 59), D(2026, 11, 25)),
        (local_datetime(2026, 11, 25, 15, 0), D(2026, 11, 26)),  # after 15:00: next working day
        (local_datetime(2026, 11, 27, 16, 0), D(2026, 11, 30)),  # Friday afternoon: Monday
        (local_datetime(2026, 11, 28, 9, 0), D(2026, 11, 30)),  # Saturday: Monday
        (local_datetime(2026, 2, 13, 16, 0), D(2026, 2, 23)),  # before Tết, late: after Tết
    ],
)
def test_handover_due(received, due_day):
    assert handover_due(received, plain) == end_of_day(due_day)


@override_settings(HANDOVER_CUTOFF_HOUR=17)
def test_handover_cutoff_is_a_setting():
    assert handover_due(local_datetime(2026, 11, 25, 16, 0), plain) == end_of_day(D(2026, 11, 25))


def count_day_by_day(calendar, start, end) -> int:
    """The definition: each day after `start` up to `end` that is a working day."""
    days = (start + dt.timedelta(days=offset) for offset in range(1, (end - start).days + 1))
    return sum(calendar.is_working_day(day) for day in days)


def test_working_days_between_agrees_with_counting_day_by_day_across_years_and_overrides():
    calendar = WorkingCalendar({D(2026, 12, 31): "day_off", D(2027, 1, 9): "working_day",
                                D(2025, 3, 1): "working_day"})
    starts = [D(2024, 12, 31), D(2025, 2, 28), D(2025, 12, 31), D(2026, 2, 13), D(2026, 12, 30), D(2027, 2, 3)]
    ends = [D(2025, 1, 1), D(2025, 3, 3), D(2026, 1, 2), D(2026, 12, 31), D(2027, 1, 11), D(2027, 2, 11),
            D(2028, 3, 1)]
    for start in starts:
        for end in ends:
            assert calendar.working_days_between(start, end) == count_day_by_day(calendar, start, end), (start, end)
