"""A violation's handling deadline is kept like any other: 90 days from discovery, once extendable to 150, flagged
by the overdue sweep, with notices to the responsible official and their head (oversight's own marks and notices,
swept through the registry the cases app keeps).

The violation of the fixture was discovered on Monday 2 November 2026: 90 days later is Sunday 31 January
2027, so it is due on Monday 1 February (a period ending on a day off ends on the next working day); 150 days
is Friday 1 April 2027.
"""

import datetime as dt

import pytest
from django.urls import reverse

from cases.deadlines import flag_overdue
from cases.models import DeadlineFlag, NoticeKind
from cases.notifications import send_pending_mail
from core.refusals import Refused
from departments.models import Role
from oversight.models import ViolationNotice, ViolationStatus
from oversight.services import violation_act, violation_dismiss, violation_extend
from tests.support.cases import Mark, mark_of
from tests.support.world import local_datetime, make_user

DUE = dt.date(2027, 2, 1)
EXTENDED = dt.date(2027, 4, 1)


@pytest.fixture
def chief_inspector(city):
    return make_user("chief_inspector", department=city.inspectorate, role=Role.HEAD, full_name="Đỗ Văn Chánh")


def deadline_notices(violation):
    return sorted(ViolationNotice.objects.filter(violation=violation).values_list("recipient__username", "kind",
                                                                                  "on_date"))


def handling(result) -> tuple[int, int]:
    """(newly overdue, newly due soon) violations of a sweep."""
    return result.overdue["violations"], result.due_soon["violations"]


def test_handling_due_ninety_days_after_discovery_on_a_working_day(violation):
    assert violation.due_date == DUE
    assert violation.status == ViolationStatus.OPEN


def test_sweep_flags_due_soon_then_overdue_and_tells_the_handler_and_their_head(violation, chief_inspector):
    # Friday 29 January: due on the next working day, Monday.
    result = flag_overdue(now=local_datetime(2027, 1, 29, 10))
    assert handling(result) == (0, 1)
    assert mark_of(violation).flag == DeadlineFlag.DUE_SOON
    assert deadline_notices(violation) == [("chief_inspector", NoticeKind.DUE_SOON, DUE),
                                           ("inspector", NoticeKind.DUE_SOON, DUE)]

    result = flag_overdue(now=local_datetime(2027, 2, 2, 10))
    assert handling(result) == (1, 0)
    assert mark_of(violation) == Mark(DeadlineFlag.OVERDUE, DUE, local_datetime(2027, 2, 2, 10))
    assert [kind for _, kind, _ in deadline_notices(violation)].count(NoticeKind.OVERDUE) == 2
    assert "violations' handling overdue" in str(result)


def test_a_second_sweep_flags_and_tells_nobody_twice(violation, chief_inspector):
    flag_overdue(now=local_datetime(2027, 2, 2, 10))
    again = flag_overdue(now=local_datetime(2027, 2, 2, 10, 5))
    assert (handling(again)[0], again.notices) == (0, 0)
    assert len(deadline_notices(violation)) == 2


def test_handler_who_heads_the_unit_gets_one_notice(city, violation):
    chief = make_user("chief", department=city.inspectorate, role=Role.HEAD)
    violation.handler = chief
    violation.save(update_fields=["handler"])
    flag_overdue(now=local_datetime(2027, 2, 2, 10))
    assert deadline_notices(violation) == [("chief", NoticeKind.OVERDUE, DUE)]


def test_extension_moves_the_deadline_once_and_drops_the_flag(city, violation, clock):
    flag_overdue(now=local_datetime(2027, 1, 29, 10))
    clock.set(local_datetime(2027, 1, 29, 15))
    extended = violation_extend(violation=violation, actor=city.user("home_affairs"), reason="Chờ kết luận xác minh.")
    assert (extended.due_date, extended.due_date_before_extension) == (EXTENDED, DUE)
    assert extended.extended_by == city.user("home_affairs")
    assert mark_of(violation) == Mark()
    # The next sweep finds nothing due: the new date is two months away.
    assert handling(flag_overdue(now=local_datetime(2027, 2, 2, 10)))[0] == 0

    with pytest.raises(Refused) as refusal:
        violation_extend(violation=violation, actor=city.user("inspector"), reason="Lần nữa.")
    assert refusal.value.code == "already_extended"


def test_no_extension_after_the_due_day(city, violation, clock):
    clock.set(local_datetime(2027, 2, 2, 8))
    with pytest.raises(Refused) as refusal:
        violation_extend(violation=violation, actor=city.user("inspector"), reason="Quá hạn rồi.")
    assert refusal.value.code == "extension_too_late"
    violation.refresh_from_db()
    assert (violation.due_date, violation.extended_at) == (DUE, None)


@pytest.mark.parametrize("end", ["handled", "dismissed"])
def test_ended_handling_is_unflagged_by_the_next_sweep(city, choices, violation, clock, end):
    flag_overdue(now=local_datetime(2027, 2, 2, 10))
    clock.set(local_datetime(2027, 2, 3, 9))
    if end == "handled":
        violation_act(violation=violation, actor=city.user("inspector"), kind=choices.reprimand,
                      decided_on=dt.date(2027, 2, 3), decision_number="12/QĐ-SXD", note="Khiển trách.",
                      ends_handling=True)
    else:
        violation_dismiss(violation=violation, actor=city.user("inspector"), reason="Không đủ căn cứ.")
    assert flag_overdue(now=local_datetime(2027, 2, 3, 10)).cleared == 1
    assert mark_of(violation) == Mark()


def test_the_notice_opens_the_violation(city, violation, client):
    flag_overdue(now=local_datetime(2027, 2, 2, 10))
    client.force_login(city.user("inspector"))
    response = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert "Handling of a violation overdue" in page
    assert reverse("violation-detail", args=[violation.pk]) in page


def test_the_mail_names_the_violation_and_links_to_it(violation, mailoutbox, settings):
    settings.SITE_URL = "https://cityops.example.test"
    flag_overdue(now=local_datetime(2027, 2, 2, 10))
    assert send_pending_mail() == (1, 0)
    [mail] = [message for message in mailoutbox if message.to == ["inspector@example.test"]]
    assert f"#{violation.pk}" in mail.subject
    assert f"https://cityops.example.test/oversight/violations/{violation.pk}/" in mail.body
