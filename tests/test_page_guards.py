"""What every list page shares: signed-out visitors are sent to sign in, and only GET reads it.

The pages that take an object (a case, a consultation) test the same for themselves beside their own tests.
"""

import pytest
from django.urls import reverse

# Each page with a user allowed to read it, so that 405 is the method's answer, not a refusal of the reader.
PAGES = {
    "case-list": "head",
    "consultations": "consulted_head",
    "submissions": "city_office",
    "report-consultations": "inspector",
    "report-deadlines": "inspector",
    "overdue-desk": "head",
    "notifications": "head",
    "report-departments": "head",
    "staff-report": "home_affairs",
    "oversight": "inspector",
    "inspections": "inspector",
    "violations": "inspector",
    "commendations": "home_affairs",
}


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_is_sent_to_login(signed_in, page):
    response = signed_in("anonymous").get(reverse(page))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
@pytest.mark.parametrize("page", PAGES)
def test_only_get_reads_the_page(signed_in, page, method):
    client = signed_in(PAGES[page])
    assert client.get(reverse(page)).status_code == 200
    assert getattr(client, method)(reverse(page)).status_code == 405
