"""Who reads a unit's overdue desk is decided once (DESIGN.md §2 rule 4) and the page, the API and the bar agree:
its head and deputies, the City Committee's head and deputies, the city office, inspectors, Home Affairs and
admins; a unit's specialists and clerks find their own late work in their queue instead."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cases.models import Case
from tests.support.api import ROLES

READERS_OF_SXD = {"head", "deputy", "committee_head", "city_office", "inspector", "home_affairs", "admin"}


@pytest.mark.parametrize("role", ROLES)
def test_page_api_and_bar_admit_the_same_readers(client, city, role):
    user = city.user(role)
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)

    page = client.get(reverse("overdue-desk"), {"department": "sxd"}).status_code
    answer = api.get("/api/v1/overdue/", {"department": "sxd"}).status_code
    offered = 'data-test="nav-overdue-desk"' in client.get(reverse("notifications")).content.decode()

    assert (page == 200) == (answer == 200) == (role in READERS_OF_SXD)
    assert page in (200, 403) and answer in (200, 403)
    # A reader of another unit's desk (the outsider's head) is offered the desk of their own.
    assert offered == (role in READERS_OF_SXD | {"consulted_head", "outsider_head"})


def test_a_specialist_finds_own_late_work_in_the_queue(client, city, stages):
    late, on_time = stages.in_progress(title="Hồ sơ quá hạn"), stages.in_progress(title="Hồ sơ còn hạn")
    Case.unscoped.filter(pk=late.pk).update(due_date=dt.date(2020, 1, 2))
    client.force_login(city.user("specialist"))

    html = client.get(reverse("case-list"), {"overdue": "yes", "assignee": city.user("specialist").pk}).content.decode()

    assert late.reference in html and on_time.reference not in html
    assert 'data-test="overdue-badge"' in html
