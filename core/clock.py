"""The city's own clock: every deadline and every report is read in its time zone (Asia/Ho_Chi_Minh),
whatever the server's or the browser's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, local_zone()).date()


def today() -> dt.date:
    return local_date(timezone.now())


def start_of_day(day: dt.date) -> dt.datetime:
    """The first moment of a local day."""
    return dt.datetime.combine(day, dt.time(), tzinfo=local_zone())


def end_of_day(day: dt.date) -> dt.datetime:
    """23:59:59 local on `day`: work due that day becomes overdue after this moment."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=local_zone())
