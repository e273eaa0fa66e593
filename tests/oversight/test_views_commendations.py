"""The commendation pages: who may use them, the list and its paging, and the form that commends a person or a
unit, exactly one of them, at a level still offered."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oversight.models import Commendation
from oversight.services import commendation_record
from tests.support.world import local_datetime

OVERSEERS = ["inspector", "home_affairs", "admin"]
OTHERS = ["head", "specialist", "city_office", "clerk"]
LIST, NEW = reverse("commendations"), reverse("commendation-new")


@pytest.fixture(autouse=True)
def today(clock):
    clock.set(local_datetime(2026, 11, 25, 10))


def commend(city, choices, **whom):
    return commendation_record(actor=city.user("home_affairs"), level=choices.unit_certificate,
                               reason="Giải quyết dứt điểm hồ sơ tồn đọng.", awarded_on=dt.date(2026, 11, 20), **whom)


def form_data(**overrides):
    return {"person": "", "department": "", "level": "city-certificate", "reason": "Dám nghĩ, dám làm.",
            "awarded_on": "2026-11-24", "decision_number": "15/QĐ-UBND", **overrides}


@pytest.mark.parametrize("role", OVERSEERS)
def test_overseers_read_both_pages(signed_in, commendation, role):
    client = signed_in(role)
    assert client.get(LIST).status_code == 200
    assert client.get(NEW).status_code == 200


@pytest.mark.parametrize("role", OTHERS)
def test_other_staff_are_refused(signed_in, commendation, role):
    client = signed_in(role)
    assert client.get(LIST).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data(department="sxd")).status_code == 403
    assert Commendation.objects.count() == 1


def test_visitors_are_sent_to_sign_in(signed_in):
    for url in (LIST, NEW):
        response = signed_in("anonymous").get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("method", "url"), [("post", LIST), ("delete", LIST), ("put", NEW), ("delete", NEW)])
def test_wrong_methods_are_refused(signed_in, method, url):
    assert getattr(signed_in("inspector"), method)(url).status_code == 405


def test_the_list_names_people_and_units_latest_first(signed_in, city, choices, commendation):
    unit = commend(city, choices, department=city.ward)
    response = signed_in("inspector").get(LIST)
    assert [row.pk for row in response.context["page"]] == [unit.pk, commendation.pk]
    html = response.content.decode()
    assert "Lê Thị Hoa" in html and "Phường Lê Chân" in html


def test_the_list_is_paged(signed_in, city, choices):
    for _number in range(26):
        commend(city, choices, department=city.owner)
    client = signed_in("inspector")
    assert len(client.get(LIST).context["page"]) == 25
    assert len(client.get(LIST, {"page": 2}).context["page"]) == 1


def test_the_lists_query_count_does_not_grow(signed_in, city, choices):
    client = signed_in("inspector")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    commend(city, choices, person=city.user("deputy"))
    few = queries()
    for person in ("head", "specialist", "clerk", "consulted_head"):
        commend(city, choices, person=city.user(person))
        commend(city, choices, department=city.commune)
    assert queries() == few


def test_a_person_is_commended(signed_in, city, choices):
    response = signed_in("home_affairs").post(NEW, form_data(person="specialist"))
    assert response.status_code == 302
    assert response.url == LIST
    commendation = Commendation.objects.get()
    assert (commendation.person, commendation.department, commendation.level.code, commendation.decision_number,
            commendation.awarded_on, commendation.recorded_by) == (
        city.user("specialist"), None, "city-certificate", "15/QĐ-UBND", dt.date(2026, 11, 24),
        city.user("home_affairs"))


def test_a_unit_is_commended(signed_in, city):
    assert signed_in("inspector").post(NEW, form_data(department="p-le-chan")).status_code == 302
    assert Commendation.objects.get().department == city.ward


@pytest.mark.parametrize("whom", [{}, {"person": "specialist", "department": "sxd"}])
def test_exactly_one_of_a_person_and_a_unit(signed_in, whom):
    response = signed_in("inspector").post(NEW, form_data(**whom))
    assert response.status_code == 200
    assert "person" in response.context["form"].errors
    assert not Commendation.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("awarded_on", "2026-11-26"), ("reason", ""), ("level", "medal"),
                                              ("person", "no-such-user")])
def test_bad_input_is_shown_on_its_field(signed_in, field, value):
    data = form_data(department="" if field == "person" else "sxd", **{field: value})
    response = signed_in("inspector").post(NEW, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Commendation.objects.exists()


def test_only_active_levels_and_units_are_offered(signed_in, city, choices):
    choices.unit_certificate.active = False
    choices.unit_certificate.save(update_fields=["active"])
    city.commune.active = False
    city.commune.save(update_fields=["active"])
    form = signed_in("inspector").get(NEW).context["form"]
    assert [str(value) for value, _label in form.fields["level"].choices if value] == ["city-certificate",
                                                                                     "emulation-fighter"]
    assert "x-an-duong" not in {str(value) for value, _label in form.fields["department"].choices}
    response = signed_in("inspector").post(NEW, form_data(department="sxd", level="unit-certificate"))
    assert "level" in response.context["form"].errors
