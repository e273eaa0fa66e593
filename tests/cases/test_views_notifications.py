"""The bell and its list (DESIGN.md §2 rule 9): the unread count in the navigation bar, one's own notices
newest first, marking one or all read (POST only, one's own only), and the deadline links by role."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import MailState, NoticeKind, Notification
from cityops.context_processors import frame
from tests.support.cases import forget_notices
from tests.support.world import local_datetime

URL = reverse("notifications")
READ_ALL = reverse("notifications-read-all")


def read_url(notice):
    return reverse("notification-read", args=[notice.source, notice.pk])


def detail_url(case):
    return reverse("case-detail", args=[case.reference])


def notify(user, case=None, *, kind=NoticeKind.ASSIGNED, read=False, consultation=None, on_date=None,
           at=None):
    return Notification.objects.create(
        recipient=user, kind=kind, case=case, consultation=consultation, on_date=on_date,
        created_at=at or timezone.now(), read_at=timezone.now() if read else None, mail_state=MailState.NONE)


def unread_badge(html):
    match = re.search(r'data-test="nav-unread-count">(\d+\+?)', html)
    return match and match.group(1)


def listed(response):
    return list(response.context["notices"])


def notification_queries(queries):
    return [query["sql"] for query in queries if "cases_notification" in query["sql"]]


@pytest.fixture
def case(stages):
    case = stages.in_progress()
    forget_notices()
    return case


# The bell -------------------------------------------------------------------------------------------------


def test_the_bell_counts_ones_own_unread_notices(signed_in, city, case):
    for _ in range(3):
        notify(city.user("head"), case)
    notify(city.user("head"), case, read=True)
    notify(city.user("deputy"), case)

    html = signed_in("head").get(reverse("case-list")).content.decode()

    assert 'data-test="nav-bell"' in html
    assert f'href="{URL}"' in html
    assert unread_badge(html) == "3"


def test_the_bell_has_no_badge_at_zero(signed_in, city, case):
    notify(city.user("head"), case, read=True)
    notify(city.user("deputy"), case)

    html = signed_in("head").get(reverse("case-list")).content.decode()

    assert 'data-test="nav-bell"' in html
    assert unread_badge(html) is None


def test_a_large_count_stays_short(signed_in, city, case):
    Notification.objects.bulk_create([Notification(recipient=city.user("head"), kind=NoticeKind.ASSIGNED,
                                                   case=case, mail_state=MailState.NONE) for _ in range(120)])
    assert unread_badge(signed_in("head").get(reverse("case-list")).content.decode()) == "99+"


def test_signed_out_pages_have_no_bell(client, city):
    html = client.get(reverse("login")).content.decode()
    assert 'data-test="nav-bell"' not in html


def test_the_bell_costs_one_query_however_often_the_page_shows_the_count(signed_in, city, case):
    notify(city.user("head"), case)
    client = signed_in("head")
    with CaptureQueriesContext(connection) as queries:
        # The list shows the count three times: the bell, the unread tab and the "mark all" button's guard.
        response = client.get(URL)
    assert response.status_code == 200
    counts = [sql for sql in notification_queries(queries) if "COUNT" in sql.upper()]
    # One for the bell, one for the paginator of the list itself.
    assert len(counts) == 2, counts


def test_the_count_is_not_taken_unless_a_page_shows_it(rf, city, django_assert_num_queries):
    request = rf.get("/")
    request.user = city.user("nobody")
    with CaptureQueriesContext(connection) as queries:
        context = frame(request)
    assert not notification_queries(queries)
    notify(city.user("nobody"))
    with django_assert_num_queries(1):
        assert context["unread_notifications"]() == 1
        assert context["unread_notifications"]() == 1


# Navigation links by role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "desk", "deadlines"), [
    ("head", True, False), ("deputy", True, False), ("consulted_head", True, False),
    ("specialist", False, False), ("clerk", False, False),
    # The readers of every unit's desk are offered it too (the page lets them choose the unit).
    ("city_office", True, True), ("inspector", True, True), ("home_affairs", True, True), ("admin", True, True),
    ("committee_head", True, True), ("nobody", False, False),
])
def test_deadline_links_by_role(signed_in, role, desk, deadlines):
    html = signed_in(role).get(URL).content.decode()
    assert ('data-test="nav-overdue-desk"' in html) == desk
    assert (f'href="{reverse("overdue-desk")}"' in html) == desk
    assert ('data-test="nav-deadlines"' in html) == deadlines
    assert (f'href="{reverse("report-deadlines")}"' in html) == deadlines


# The list -------------------------------------------------------------------------------------------------


def test_the_list_shows_only_ones_own_notices_newest_first(signed_in, city, case, clock):
    clock.set(local_datetime(2026, 5, 4, 9))
    older = notify(city.user("head"), case, at=local_datetime(2026, 5, 4, 8), read=True)
    newer = notify(city.user("head"), case, kind=NoticeKind.OVERDUE, on_date=dt.date(2026, 4, 30),
                   at=local_datetime(2026, 5, 4, 8, 30))
    notify(city.user("deputy"), case)

    response = signed_in("head").get(URL, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert listed(response) == [newer, older]
    html = response.content.decode()
    assert f"Case overdue: {case.reference}" in html
    assert f"Case assigned: {case.reference}" in html
    assert "04/05/2026 08:30" in html
    # The unread one is set apart, and offers both opening (which reads it) and marking read.
    assert re.search(rf'data-id="{newer.pk}"[^>]*data-unread="true"', html)
    assert re.search(rf'data-id="{older.pk}"[^>]*data-unread="false"', html)
    assert html.count(f'action="{read_url(newer)}"') == 2
    assert f'action="{read_url(older)}"' not in html
    assert f'<input type="hidden" name="next" value="{detail_url(case)}">' in html
    # A read notice links straight to its case: nothing left to mark.
    assert f'href="{detail_url(case)}" data-test="open-link"' in html


def test_the_unread_tab_leaves_out_what_was_read(signed_in, city, case):
    unread = notify(city.user("head"), case)
    notify(city.user("head"), case, read=True)

    response = signed_in("head").get(URL, {"show": "unread"})

    assert listed(response) == [unread]
    assert response.context["shown"] == "unread"
    assert 'data-test="unread-tab-count">1<' in response.content.decode()


def test_an_unknown_tab_shows_all(signed_in, city, case):
    notify(city.user("head"), case, read=True)
    response = signed_in("head").get(URL, {"show": "everything"})
    assert response.context["shown"] == "all"
    assert len(listed(response)) == 1


def test_a_consultation_notice_leads_to_its_case(signed_in, city, consulting):
    case = consulting.case()
    [consultation] = consulting.ask(case)
    notice = notify(city.user("consulted_head"), case, kind=NoticeKind.DUE_SOON, consultation=consultation,
                    on_date=consultation.due_date)

    html = signed_in("consulted_head").get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"Opinion due soon: {case.reference}" in html
    assert f'action="{read_url(notice)}"' in html
    assert f'<input type="hidden" name="next" value="{detail_url(case)}">' in html


def test_a_digest_leads_to_the_overdue_desk(signed_in, city):
    notify(city.user("head"), kind=NoticeKind.DIGEST, on_date=dt.date(2026, 5, 4))
    html = signed_in("head").get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your daily digest, 04/05/2026: work due and notices not read yet" in html
    assert f'<input type="hidden" name="next" value="{reverse("overdue-desk")}">' in html


def test_an_empty_list_says_so(signed_in):
    response = signed_in("nobody").get(URL)
    assert listed(response) == []
    assert 'data-test="notifications-empty"' in response.content.decode()
    assert 'data-test="read-all"' not in response.content.decode()


def test_the_list_is_paged_by_25(signed_in, city, case):
    Notification.objects.bulk_create([Notification(recipient=city.user("head"), kind=NoticeKind.ASSIGNED,
                                                   case=case, mail_state=MailState.NONE) for _ in range(30)])
    client = signed_in("head")
    assert len(listed(client.get(URL))) == 25
    assert len(listed(client.get(URL, {"page": 2}))) == 5


def test_the_list_needs_sign_in(client, city):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_list_takes_no_post(signed_in):
    assert signed_in("head").post(URL).status_code == 405


def test_the_list_costs_the_same_for_few_or_many_notices(signed_in, city, consulting):
    case = consulting.case()
    [consultation] = consulting.ask(case)
    forget_notices()
    head = city.user("consulted_head")
    client = signed_in("consulted_head")

    def add(count):
        for _ in range(count):
            notify(head, case)
            notify(head, case, kind=NoticeKind.ASSIGNED, consultation=consultation)

    add(1)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    add(11)
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL)
    assert len(listed(response)) == 24
    assert len(many) == len(few), [query["sql"] for query in many]


# Marking read ---------------------------------------------------------------------------------------------


def test_marking_one_read(signed_in, city, case):
    notice, other = notify(city.user("head"), case), notify(city.user("head"), case)

    response = signed_in("head").post(read_url(notice))

    assert response.status_code == 302
    assert response.url == URL
    notice.refresh_from_db(), other.refresh_from_db()
    assert notice.read_at is not None
    assert other.read_at is None


def test_opening_a_notice_reads_it_and_goes_to_the_case(signed_in, city, case):
    notice = notify(city.user("head"), case)

    response = signed_in("head").post(read_url(notice), {"next": detail_url(case)})

    assert response.status_code == 302
    assert response.url == detail_url(case)
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert unread_badge(signed_in("head").get(response.url).content.decode()) is None


def test_reading_again_keeps_the_first_time(signed_in, city, case, clock):
    clock.set(local_datetime(2026, 5, 4, 9))
    notice = notify(city.user("head"), case)
    client = signed_in("head")
    client.post(read_url(notice))
    clock.set(local_datetime(2026, 5, 5, 9))

    assert client.post(read_url(notice)).status_code == 302

    notice.refresh_from_db()
    assert notice.read_at == local_datetime(2026, 5, 4, 9)


def test_an_outside_next_is_ignored(signed_in, city, case):
    notice = notify(city.user("head"), case)
    response = signed_in("head").post(read_url(notice), {"next": "https://evil.example/phish"})
    assert response.url == URL


@pytest.mark.parametrize("role", ["deputy", "specialist", "admin", "inspector"])
def test_nobody_marks_anothers_notice(signed_in, city, case, role):
    notice = notify(city.user("head"), case)

    assert signed_in(role).post(read_url(notice)).status_code == 404

    notice.refresh_from_db()
    assert notice.read_at is None


def test_an_unknown_notice_is_404(signed_in):
    assert signed_in("head").post(reverse("notification-read", args=["cases.notification", 999999])).status_code == 404


def test_marking_read_is_post_only(signed_in, city, case):
    notice = notify(city.user("head"), case)
    assert signed_in("head").get(read_url(notice)).status_code == 405
    notice.refresh_from_db()
    assert notice.read_at is None


def test_marking_read_needs_sign_in(client, city, case):
    notice = notify(city.user("head"), case)
    response = client.post(read_url(notice))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    notice.refresh_from_db()
    assert notice.read_at is None


def test_marking_all_read_touches_only_ones_own(signed_in, city, case, clock):
    clock.set(local_datetime(2026, 5, 4, 9))
    earlier = notify(city.user("head"), case, read=True)
    mine = [notify(city.user("head"), case) for _ in range(3)]
    theirs = notify(city.user("deputy"), case)
    clock.set(local_datetime(2026, 5, 5, 9))

    response = signed_in("head").post(READ_ALL, {"next": f"{URL}?show=unread"})

    assert response.status_code == 302
    assert response.url == f"{URL}?show=unread"
    assert {notice.read_at for notice in Notification.objects.filter(pk__in=[n.pk for n in mine])} == {
        local_datetime(2026, 5, 5, 9)}
    earlier.refresh_from_db(), theirs.refresh_from_db()
    assert earlier.read_at == local_datetime(2026, 5, 4, 9)
    assert theirs.read_at is None


def test_marking_all_read_is_post_only_and_needs_sign_in(client, signed_in, city, case):
    notice = notify(city.user("head"), case)
    assert client.post(READ_ALL).status_code == 302
    assert signed_in("head").get(READ_ALL).status_code == 405
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_list_offers_marking_all_read_back_to_itself(signed_in, city, case):
    notify(city.user("head"), case)
    html = signed_in("head").get(URL, {"show": "unread"}).content.decode()
    assert f'action="{READ_ALL}"' in html
    assert f'<input type="hidden" name="next" value="{URL}?show=unread">' in html


# The bell's menu ------------------------------------------------------------------------------------------

LATEST = reverse("notifications-latest")


def test_the_bell_menu_lists_the_latest_five_unread_newest_first(signed_in, city, case):
    head = city.user("head")
    older = [notify(head, case, at=timezone.now() - dt.timedelta(hours=n)) for n in range(7, 0, -1)]
    notify(head, case, read=True)
    notify(city.user("deputy"), case)

    response = signed_in("head").get(LATEST)

    assert response.status_code == 200
    assert [n.pk for n in listed(response)] == [n.pk for n in reversed(older)][:5]
    html = response.content.decode()
    assert html.count('data-test="bell-notice"') == 5
    assert f'action="{read_url(older[-1])}"' in html
    assert f'href="{URL}"' in html and f'href="{reverse("notification-mail")}"' in html
    assert "<html" not in html  # a fragment, put under the bell


def test_the_bell_menu_says_when_nothing_is_unread(signed_in):
    html = signed_in("head").get(LATEST).content.decode()
    assert 'data-test="bell-empty"' in html
    assert "Không có thông báo chưa đọc." in html


def test_the_bell_menu_costs_the_same_for_few_or_many_notices(signed_in, city, case):
    client = signed_in("head")
    notify(city.user("head"), case)
    with CaptureQueriesContext(connection) as few:
        client.get(LATEST)
    for _ in range(20):
        notify(city.user("head"), case)
    with CaptureQueriesContext(connection) as many:
        client.get(LATEST)
    assert len(many) == len(few)


def test_the_bell_is_a_link_to_the_list_that_its_script_turns_into_a_menu(signed_in):
    html = signed_in("head").get(reverse("case-list")).content.decode()
    assert f'href="{URL}" data-test="nav-bell" data-bell data-bell-latest="{LATEST}"' in html
    assert "/static/js/bell.js" in html
    assert 'data-test="bell-menu"' in html


def test_the_bell_menu_needs_sign_in(client):
    response = client.get(LATEST)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# E-mail choices -------------------------------------------------------------------------------------------

MAIL = reverse("notification-mail")


def test_every_kind_is_mailed_until_the_person_chooses(signed_in):
    response = signed_in("deputy").get(MAIL)

    form = response.context["form"]
    assert set(form.fields) == set(NoticeKind.values)
    assert all(form[name].value() for name in form.fields)
    assert "Hồ sơ chuyển đến đơn vị" in response.content.decode()


def test_unticking_kinds_keeps_them_out_of_mail_and_ticking_brings_them_back(signed_in, city):
    from core.models import MailChoice

    client = signed_in("deputy")
    kept = {kind: "on" for kind in NoticeKind.values if kind not in (NoticeKind.ROUTED, NoticeKind.DIGEST)}

    response = client.post(MAIL, kept)

    assert response.status_code == 302 and response.url == MAIL
    assert set(MailChoice.objects.filter(user=city.user("deputy"), mail=False).values_list("kind", flat=True)) == {
        NoticeKind.ROUTED, NoticeKind.DIGEST}
    page = client.get(MAIL)
    assert not page.context["form"]["routed"].value() and page.context["form"]["assigned"].value()
    assert "Đã lưu lựa chọn nhận thư của bạn." in page.content.decode()

    client.post(MAIL, {kind: "on" for kind in NoticeKind.values})
    assert not MailChoice.objects.filter(user=city.user("deputy"), mail=False).exists()


def test_ones_choices_are_ones_own(signed_in, city):
    from core.models import MailChoice

    signed_in("deputy").post(MAIL, {})
    assert MailChoice.objects.filter(user=city.user("deputy")).count() == len(NoticeKind.values)
    assert not MailChoice.objects.filter(user=city.user("head")).exists()
