import pytest

from departments.models import CalendarDay
from tests.support.api import NON_ADMINS, ROLES

URL = "/api/v1/calendar/days/"
PREVIEW = "/api/v1/routing/preview/"
DAY_OFF = {"date": "2025-12-01", "kind": "day_off", "name": "Nghỉ bù theo Quyết định của Thủ tướng"}


def permit_due_date(api):
    body = {"case_type": "building-permit", "received_at": "2025-11-24T09:00:00+07:00"}
    return api("clerk").post(PREVIEW, body, format="json").json()["due_date"]


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_role_lists_calendar_days(api, role):
    CalendarDay.objects.create(**DAY_OFF)

    response = api(role).get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [DAY_OFF]


def test_admin_adds_a_day_off_and_deadlines_move(api):
    assert permit_due_date(api) == "2025-12-15"

    response = api("admin").post(URL, DAY_OFF, format="json")

    assert response.status_code == 201
    assert response.json() == DAY_OFF
    assert permit_due_date(api) == "2025-12-16"


def test_admin_adds_a_working_saturday_and_deadlines_move(api):
    response = api("admin").post(URL, {"date": "2025-11-29", "kind": "working_day", "name": "Làm bù"}, format="json")

    assert response.status_code == 201
    assert permit_due_date(api) == "2025-12-12"


def test_admin_deletes_a_day_by_date(api):
    CalendarDay.objects.create(**DAY_OFF)
    assert permit_due_date(api) == "2025-12-16"

    response = api("admin").delete(f"{URL}2025-12-01/")

    assert response.status_code == 204
    assert not CalendarDay.objects.exists()
    assert permit_due_date(api) == "2025-12-15"


def test_retrieve_by_date(api):
    CalendarDay.objects.create(**DAY_OFF)

    assert api("specialist").get(f"{URL}2025-12-01/").json() == DAY_OFF
    assert api("specialist").get(f"{URL}2025-12-02/").status_code == 404
    assert api("specialist").get(f"{URL}2025-02-30/").status_code == 404
    assert api("specialist").get(f"{URL}hom-nay/").status_code == 404


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admin_edits_the_calendar(api, role):
    CalendarDay.objects.create(**DAY_OFF)
    client = api(role)

    assert client.post(URL, {**DAY_OFF, "date": "2025-12-02"}, format="json").status_code == 403
    assert client.delete(f"{URL}2025-12-01/").status_code == 403
    assert [day.isoformat() for day in CalendarDay.objects.values_list("date", flat=True)] == ["2025-12-01"]


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "holiday"}, "kind"),
    ({"date": "2025-02-30"}, "date"),
    ({"date": "01/12/2025"}, "date"),
    ({"name": "x" * 201}, "name"),
])
def test_bad_calendar_input(api, body, field):
    response = api("admin").post(URL, {**DAY_OFF, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not CalendarDay.objects.exists()


def test_one_override_per_date(api):
    CalendarDay.objects.create(**DAY_OFF)

    response = api("admin").post(URL, {**DAY_OFF, "kind": "working_day"}, format="json")

    assert response.status_code == 400
    assert "date" in response.json()
    assert CalendarDay.objects.get().kind == "day_off"


def test_calendar_days_are_not_edited_in_place(api):
    CalendarDay.objects.create(**DAY_OFF)

    assert api("admin").patch(f"{URL}2025-12-01/", {"name": "x"}, format="json").status_code == 405


def test_calendar_writes_go_through_the_services(api, monkeypatch):
    from departments import services

    calls = []
    for name in ("calendar_day_save", "calendar_day_delete"):
        real = getattr(services, name)
        monkeypatch.setattr(services, name, lambda real=real, name=name, **kwargs: calls.append(name) or real(**kwargs))
    admin = api("admin")

    assert admin.post(URL, DAY_OFF, format="json").status_code == 201
    assert admin.delete(f"{URL}2025-12-01/").status_code == 204

    assert calls == ["calendar_day_save", "calendar_day_delete"]
