"""A department's queue: who sees what, the filters, key tasks first, paging, and a flat query count."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Status

URL = reverse("case-list")


def references(response):
    return [case.reference for case in response.context["page"]]


@pytest.fixture
def owner_cases(city, log_case):
    """Two cases owned by Sở Xây dựng, one of them a key task, and one owned by another department."""
    plain = log_case(title="Xin phép sửa chữa nhà số 12 Lạch Tray")
    key = log_case(title="Cấp phép công trình trường học Lê Chân", key_task=True, applicant_name="Trần Thị Bình")
    elsewhere = log_case(title="Giao đất xây chợ An Dương", case_type=city.land)
    return plain, key, elsewhere


@pytest.mark.parametrize("role", ["head", "specialist"])
def test_owner_staff_see_their_queue_key_tasks_first(signed_in, owner_cases, role):
    plain, key, elsewhere = owner_cases
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    assert references(response) == [key.reference, plain.reference]
    html = response.content.decode()
    assert html.count('data-test="key-task-badge"') == 1
    assert "Cấp giấy phép xây dựng" in html  # case type column
    assert elsewhere.reference not in html


def test_the_intake_clerk_sees_everything_her_unit_received_the_latest_first(signed_in, owner_cases):
    plain, key, elsewhere = owner_cases
    # The land case went to another unit: the clerk who received it still answers the applicant about it.
    assert references(signed_in("clerk").get(URL)) == [elsewhere.reference, key.reference, plain.reference]


def test_an_outsider_sees_only_its_own_queue(signed_in, owner_cases):
    response = signed_in("outsider_head").get(URL)
    assert response.status_code == 200
    assert references(response) == []
    assert b'data-test="queue-empty"' in response.content


def test_the_inspector_sees_its_own_units_queue_not_the_whole_city(signed_in, owner_cases):
    response = signed_in("inspector").get(URL)
    assert response.status_code == 200
    assert references(response) == []


def test_the_admin_has_no_department_queue(signed_in, owner_cases):
    """An admin belongs to no unit: the bar offers no queue, and the page is not theirs (403)."""
    assert signed_in("admin").get(URL).status_code == 403


def test_search_by_reference_title_or_applicant(signed_in, owner_cases):
    plain, key, _elsewhere = owner_cases
    client = signed_in("head")
    assert references(client.get(URL, {"q": plain.reference})) == [plain.reference]
    assert references(client.get(URL, {"q": "trường học"})) == [key.reference]
    assert references(client.get(URL, {"q": "Thị Bình"})) == [key.reference]
    assert references(client.get(URL, {"q": "không có"})) == []


def test_filter_by_key_task_and_status(signed_in, owner_cases):
    plain, key, _elsewhere = owner_cases
    client = signed_in("head")
    assert references(client.get(URL, {"key_task": "yes"})) == [key.reference]
    assert references(client.get(URL, {"key_task": "no"})) == [plain.reference]
    assert references(client.get(URL, {"status": Status.ROUTED})) == [key.reference, plain.reference]
    assert references(client.get(URL, {"status": Status.IN_PROGRESS})) == []


def test_overdue_filter_and_badge(signed_in, city, log_case, owner_cases):
    plain, key, _elsewhere = owner_cases
    late = log_case(title="Hồ sơ tồn đọng", received_at=timezone.now() - dt.timedelta(days=60))
    client = signed_in("head")
    response = client.get(URL, {"overdue": "yes"})
    assert references(response) == [late.reference]
    assert response.content.decode().count('data-test="overdue-badge"') == 1
    assert references(client.get(URL, {"overdue": "no"})) == [key.reference, plain.reference]


def test_assignee_filter_offers_only_colleagues(signed_in, city, owner_cases):
    client = signed_in("head")
    choices = {user for user, _label in client.get(URL).context["filter"].form.fields["assignee"].choices if user}
    assert {str(choice) for choice in choices} == {str(city.user(name).pk)
                                                   for name in ["head", "deputy", "specialist", "clerk"]}
    # Nobody is assigned yet: filtering on a colleague narrows the queue to nothing.
    assert references(client.get(URL, {"assignee": city.user("specialist").pk})) == []


def test_bad_filter_values_are_reported_not_a_500(signed_in, city, owner_cases):
    response = signed_in("head").get(URL, {"assignee": city.user("outsider_head").pk, "status": "bogus",
                                           "overdue": "maybe", "page": "abc"})
    assert response.status_code == 200
    assert set(response.context["filter"].form.errors) == {"assignee", "status", "overdue"}


def test_pages_of_25_keep_the_filters(signed_in, city, log_case):
    for number in range(30):
        log_case(title=f"Hồ sơ số {number}")
    client = signed_in("head")
    first = client.get(URL, {"q": "Hồ sơ"})
    assert len(references(first)) == 25
    assert "?q=H%E1%BB%93+s%C6%A1&amp;page=2" in first.content.decode()
    second = client.get(URL, {"q": "Hồ sơ", "page": 2})
    assert len(references(second)) == 5
    assert not set(references(first)) & set(references(second))


@pytest.mark.parametrize("count", [5, 30])
def test_query_count_does_not_grow_with_rows(signed_in, city, log_case, count, django_assert_max_num_queries):
    for number in range(count):
        log_case(title=f"Hồ sơ số {number}", key_task=number % 3 == 0)
    client = signed_in("head")
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(references(response)) == min(count, 25)


@pytest.mark.parametrize(("role", "target"), [("clerk", "case-new"), ("admin", "case-new"), ("head", "case-list"),
                                              ("specialist", "case-list"), ("outsider_head", "case-list"),
                                              ("inspector", "case-list")])
def test_home_sends_each_role_to_its_start_page(signed_in, role, target):
    response = signed_in(role).get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(target)


def test_home_sends_anonymous_to_login(signed_in):
    response = signed_in("anonymous").get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_home_wrong_method(signed_in):
    assert signed_in("head").post(reverse("home")).status_code == 405


def test_navigation_shows_only_the_links_a_role_may_use(signed_in):
    head = signed_in("head").get(URL).content.decode()
    assert 'data-test="nav-queue"' in head
    assert 'data-test="nav-intake"' not in head
    assert 'data-test="nav-routing-tester"' not in head
    assert "Trần Văn Hùng" in head
    assert 'action="/accounts/logout/"' in head
    assert 'action="/i18n/setlang/"' in head
