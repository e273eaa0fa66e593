import pytest

from departments.models import Department, DepartmentKind
from tests.support.api import NON_ADMINS, ROLES

URL = "/api/v1/departments/"
FIELDS = {"code", "name", "kind", "parent", "active", "national_id", "valid_from", "valid_to"}
NEW_WARD = {"code": "p-hong-bang", "name": "Phường Hồng Bàng", "kind": "commune", "parent": "ubnd"}


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_role_lists_departments(api, role):
    response = api(role).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == Department.objects.count()


def test_department_fields_name_the_parent_by_code(api):
    response = api("specialist").get(f"{URL}sxd/")

    assert response.status_code == 200
    assert response.json() == {"code": "sxd", "name": "Sở Xây dựng", "kind": "department", "parent": "ubnd",
                               "active": True, "national_id": "SXD", "valid_from": None, "valid_to": None}


def test_unknown_department_is_404(api):
    assert api("admin").get(f"{URL}khong-co/").status_code == 404


def test_filter_by_kind(api):
    response = api("head").get(URL, {"kind": "commune"})

    assert sorted(row["code"] for row in response.json()["results"]) == ["p-le-chan", "x-an-duong"]


def test_page_size_and_links(api):
    response = api("head").get(URL, {"page_size": 2})

    body = response.json()
    assert len(body["results"]) == 2
    assert body["previous"] is None
    assert "page=2" in body["next"]
    assert set(body["results"][0]) == FIELDS


def test_page_size_is_capped_at_500(api, city):
    Department.objects.bulk_create(
        Department(code=f"xa-{n}", name=f"Xã {n}", kind=DepartmentKind.COMMUNE) for n in range(500))

    body = api("head").get(URL, {"page_size": 1000}).json()

    assert body["count"] == 509
    assert len(body["results"]) == 500
    assert body["next"] is not None


def test_admin_creates_a_department(api):
    response = api("admin").post(URL, {**NEW_WARD, "valid_from": "2025-07-01"}, format="json")

    assert response.status_code == 201
    assert response.json() == {**NEW_WARD, "active": True, "national_id": "", "valid_from": "2025-07-01",
                               "valid_to": None}
    assert Department.objects.get(code="p-hong-bang").parent.code == "ubnd"


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admin_creates(api, role):
    before = Department.objects.count()

    response = api(role).post(URL, NEW_WARD, format="json")

    assert response.status_code == 403
    assert Department.objects.count() == before


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admin_updates(api, city, role):
    response = api(role).patch(f"{URL}sxd/", {"name": "Đổi tên"}, format="json")

    assert response.status_code == 403
    city.owner.refresh_from_db()
    assert city.owner.name == "Sở Xây dựng"


def test_admin_renames_with_patch_and_put(api, city):
    admin = api("admin")
    assert admin.patch(f"{URL}sxd/", {"name": "Sở Xây dựng Hải Phòng"}, format="json").status_code == 200

    put = admin.put(f"{URL}stc/", {"code": "stc", "name": "Sở Tài chính HP", "kind": "department",
                                   "parent": None, "active": False}, format="json")

    assert put.status_code == 200
    city.owner.refresh_from_db()
    city.outsider.refresh_from_db()
    assert city.owner.name == "Sở Xây dựng Hải Phòng"
    assert (city.outsider.name, city.outsider.parent, city.outsider.active) == ("Sở Tài chính HP", None, False)


def test_code_cannot_change(api, city):
    response = api("admin").patch(f"{URL}sxd/", {"code": "sxd-moi"}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()
    assert Department.objects.filter(code="sxd").exists()


def test_duplicate_code_is_a_field_error(api):
    response = api("admin").post(URL, {**NEW_WARD, "code": "sxd"}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()


def test_unit_cannot_sit_under_its_own_descendant(api, city):
    response = api("admin").patch(f"{URL}ubnd/", {"parent": "sxd"}, format="json")

    assert response.status_code == 400
    assert "parent" in response.json()
    city.city_committee.refresh_from_db()
    assert city.city_committee.parent is None


@pytest.mark.parametrize(("body", "field"), [
    ({"valid_from": "2025-07-01", "valid_to": "2025-06-30"}, "valid_to"),
    ({"parent": "khong-co"}, "parent"),
    ({"kind": "ministry"}, "kind"),
    ({"code": "có dấu"}, "code"),
])
def test_bad_department_input(api, body, field):
    before = Department.objects.count()

    response = api("admin").post(URL, {**NEW_WARD, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Department.objects.count() == before


def test_validity_checked_against_stored_start_on_patch(api, city):
    api("admin").patch(f"{URL}sxd/", {"valid_from": "2025-07-01"}, format="json")

    response = api("admin").patch(f"{URL}sxd/", {"valid_to": "2025-01-01"}, format="json")

    assert response.status_code == 400
    assert "valid_to" in response.json()


def test_departments_are_not_deleted_over_the_api(api):
    assert api("admin").delete(f"{URL}stc/").status_code == 405
    assert Department.objects.filter(code="stc").exists()


def test_department_writes_go_through_the_service(api, monkeypatch):
    from departments import services

    calls = []
    real = services.department_save
    monkeypatch.setattr(services, "department_save", lambda **kwargs: calls.append(kwargs["department"]) or real(
        **kwargs))
    admin = api("admin")

    admin.post(URL, NEW_WARD, format="json")
    admin.patch(f"{URL}p-hong-bang/", {"name": "Phường Hồng Bàng mới"}, format="json")

    assert [getattr(department, "code", None) for department in calls] == [None, "p-hong-bang"]
    assert Department.objects.get(code="p-hong-bang").name == "Phường Hồng Bàng mới"
