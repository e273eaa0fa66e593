import pytest
from django.contrib.auth import get_user_model

from departments.api.serializers import StaffSerializer
from departments.models import Staff
from tests.support.api import NON_ADMINS, ROLES

URL = "/api/v1/staff/"
User = get_user_model()
NEW_CLERK = {"username": "thu.ha", "password": "Bến-Nghé-2025-xanh", "full_name": "Đỗ Thu Hà",
             "email": "thu.ha@haiphong.gov.vn", "department": "stc", "role": "clerk"}


def counts():
    return User.objects.count(), Staff.objects.count()


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_role_lists_staff(api, role):
    assert api(role).get(URL).status_code == 200


def test_staff_fields_never_show_the_password(api):
    rows = api("specialist").get(URL, {"department": "sxd", "role": "head"}).json()["results"]

    assert rows == [{"username": "head", "full_name": "Trần Văn Hùng", "email": "head@example.test",
                     "department": "sxd", "role": "head"}]


def test_retrieve_by_username(api):
    response = api("clerk").get(f"{URL}inspector/")

    assert response.status_code == 200
    assert response.json()["department"] == "ttr"
    assert api("clerk").get(f"{URL}admin/").status_code == 404


def test_admin_creates_user_and_membership(api, city):
    response = api("admin").post(URL, NEW_CLERK, format="json")

    assert response.status_code == 201
    assert response.json() == {key: value for key, value in NEW_CLERK.items() if key != "password"}
    user = User.objects.get(username="thu.ha")
    assert user.check_password(NEW_CLERK["password"])
    assert user.get_full_name() == "Đỗ Thu Hà"
    assert (user.staff.department, user.staff.role) == (city.outsider, "clerk")


def test_new_staff_member_can_get_a_token(api):
    api("admin").post(URL, NEW_CLERK, format="json")

    response = api().post("/api/v1/auth/token/", {"username": "thu.ha", "password": NEW_CLERK["password"]},
                          format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admin_creates_staff(api, role):
    before = counts()

    assert api(role).post(URL, NEW_CLERK, format="json").status_code == 403
    assert counts() == before


@pytest.mark.parametrize(("body", "field"), [
    ({"password": "12345678"}, "password"),
    ({"password": "abc"}, "password"),
    ({"password": "thu.ha2025"}, "password"),
    ({"username": "HEAD"}, "username"),
    ({"username": "có dấu cách"}, "username"),
    ({"department": "khong-co"}, "department"),
    ({"role": "chairman"}, "role"),
    ({"email": "khong-phai-email"}, "email"),
    ({"full_name": "x" * 151}, "full_name"),
])
def test_bad_staff_input_creates_nobody(api, body, field):
    before = counts()

    response = api("admin").post(URL, {**NEW_CLERK, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert counts() == before


@pytest.mark.parametrize("field", ["username", "password", "department", "role"])
def test_required_staff_fields(api, field):
    body = {key: value for key, value in NEW_CLERK.items() if key != field}

    response = api("admin").post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_user_and_membership_are_created_together_or_not_at_all(city, monkeypatch):
    form = StaffSerializer(data=NEW_CLERK)
    assert form.is_valid(), form.errors

    def broken_create(**kwargs):
        raise RuntimeError("membership failed")

    monkeypatch.setattr(Staff.objects, "create", broken_create)
    with pytest.raises(RuntimeError):
        form.save()

    assert not User.objects.filter(username="thu.ha").exists()


def test_staff_are_not_edited_over_the_api(api):
    assert api("admin").patch(f"{URL}clerk/", {"role": "head"}, format="json").status_code == 405
