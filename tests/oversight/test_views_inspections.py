"""The inspection pages: the list with its filters and paging, recording one with its team and several files,
its page with the violations it found, adding a file, and handing a file out to overseers only."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments.models import Role
from oversight.models import Inspection, InspectionKind, ViolationSource
from oversight.services import inspection_attach, inspection_record, violation_record
from tests.support.cases import PDF_BYTES, pdf_upload, png_bytes, stored_files
from tests.support.world import local_datetime, make_user

OVERSEERS = ["inspector", "home_affairs", "admin"]
OTHERS = ["head", "specialist", "city_office", "clerk"]


@pytest.fixture(autouse=True)
def today(clock):
    clock.set(local_datetime(2026, 11, 25, 10))


@pytest.fixture
def filed(city, inspection, media_root):
    """The shared inspection with one PDF minute."""
    return inspection_attach(inspection=inspection, actor=city.user("inspector"), upload=pdf_upload())


def inspect(city, department=None, kind=InspectionKind.SURPRISE, day=2):
    return inspection_record(actor=city.user("inspector"), department=department or city.owner, kind=kind,
                             inspected_on=dt.date(2026, 11, day), team=[city.user("inspector")])


def pages(inspection, attachment):
    """Every inspection page by name, with its address and the method that reads or writes it."""
    return {
        "inspections": ("get", reverse("inspections")),
        "inspection-new": ("get", reverse("inspection-new")),
        "inspection-detail": ("get", reverse("inspection-detail", args=[inspection.pk])),
        "inspection-file": ("get", reverse("inspection-file", args=[inspection.pk, attachment.pk])),
        "inspection-attach": ("post", reverse("inspection-attach", args=[inspection.pk])),
    }


def new_inspection_data(city, **overrides):
    return {"department": city.owner.code, "kind": InspectionKind.SURPRISE, "inspected_on": "2026-11-24",
            "team": ["inspector", "home_affairs"], "findings": "Thu thêm phí ngoài quy định.", **overrides}


# --- Who may use them ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", OVERSEERS)
@pytest.mark.parametrize("page", ["inspections", "inspection-new", "inspection-detail", "inspection-file"])
def test_overseers_read_every_page(signed_in, inspection, filed, role, page):
    method, url = pages(inspection, filed)[page]
    assert getattr(signed_in(role), method)(url).status_code == 200


@pytest.mark.parametrize("role", OTHERS)
@pytest.mark.parametrize("page", ["inspections", "inspection-new", "inspection-detail", "inspection-file",
                                  "inspection-attach"])
def test_other_staff_are_refused(signed_in, inspection, filed, role, page, media_root):
    method, url = pages(inspection, filed)[page]
    data = {"file": pdf_upload()} if method == "post" else None
    assert getattr(signed_in(role), method)(url, data).status_code == 403
    assert inspection.attachments.count() == 1


@pytest.mark.parametrize("role", OTHERS)
def test_other_staff_cannot_record_one(signed_in, city, role):
    assert signed_in(role).post(reverse("inspection-new"), new_inspection_data(city)).status_code == 403
    assert not Inspection.objects.exists()


@pytest.mark.parametrize("page", ["inspections", "inspection-new", "inspection-detail", "inspection-file",
                                  "inspection-attach"])
def test_visitors_are_sent_to_sign_in(signed_in, inspection, filed, page):
    method, url = pages(inspection, filed)[page]
    response = getattr(signed_in("anonymous"), method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("page", "wrong"), [
    ("inspections", "post"), ("inspection-detail", "post"), ("inspection-file", "post"), ("inspection-new", "put"),
    ("inspection-new", "delete"), ("inspection-attach", "get"), ("inspections", "delete")])
def test_wrong_methods_are_refused(signed_in, inspection, filed, page, wrong):
    _method, url = pages(inspection, filed)[page]
    assert getattr(signed_in("inspector"), wrong)(url).status_code == 405


# --- The list ---------------------------------------------------------------------------------------------------


def listed(response):
    return [inspection.pk for inspection in response.context["page"]]


def test_the_list_filters_by_unit_and_kind(signed_in, city):
    owner_surprise = inspect(city, day=2)
    owner_scheduled = inspect(city, kind=InspectionKind.SCHEDULED, day=3)
    ward = inspect(city, department=city.ward, day=4)
    client = signed_in("inspector")
    url = reverse("inspections")
    assert listed(client.get(url)) == [ward.pk, owner_scheduled.pk, owner_surprise.pk]  # latest first
    assert listed(client.get(url, {"department": "sxd"})) == [owner_scheduled.pk, owner_surprise.pk]
    assert listed(client.get(url, {"kind": "surprise"})) == [ward.pk, owner_surprise.pk]
    assert listed(client.get(url, {"department": "sxd", "kind": "scheduled"})) == [owner_scheduled.pk]
    # A value that is not a choice filters nothing rather than failing the page.
    assert listed(client.get(url, {"department": "no-such-unit", "kind": "?"})) == [ward.pk, owner_scheduled.pk,
                                                                                   owner_surprise.pk]


def test_the_list_counts_files_and_violations_found(signed_in, city, choices, inspection, filed):
    inspection_attach(inspection=inspection, actor=city.user("inspector"), upload=pdf_upload("phu-luc.pdf"))
    for person in ("clerk", "specialist"):
        violation_record(actor=city.user("inspector"), person=city.user(person), discovered_on=dt.date(2026, 11, 2),
                         source=ViolationSource.SURPRISE_INSPECTION, inspection=inspection, kind=choices.kind,
                         severity=choices.serious, description="Sách nhiễu.")
    row = signed_in("inspector").get(reverse("inspections")).context["page"][0]
    assert (row.file_count, row.violation_count) == (2, 2)


def test_the_list_pages_by_twenty_five(signed_in, city):
    for day in range(1, 28):
        inspect(city, day=(day % 24) + 1)
    client = signed_in("inspector")
    first = client.get(reverse("inspections"))
    assert len(first.context["page"]) == 25
    assert first.context["page"].paginator.count == 27
    assert len(client.get(reverse("inspections"), {"page": 2}).context["page"]) == 2


def test_the_lists_query_count_does_not_grow(signed_in, city, media_root):
    client = signed_in("inspector")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("inspections")).status_code == 200
        return len(captured)

    inspect(city)
    few = queries()
    for day in range(3, 12):
        inspection = inspect(city, department=[city.owner, city.ward, city.commune][day % 3], day=day)
        inspection.team.add(city.user("home_affairs"))
        inspection_attach(inspection=inspection, actor=city.user("inspector"), upload=pdf_upload())
    assert queries() == few


# --- Recording one ---------------------------------------------------------------------------------------------


def test_the_form_offers_active_units_and_only_overseers_for_the_team(signed_in, city):
    city.commune.active = False
    city.commune.save(update_fields=["active"])
    form = signed_in("inspector").get(reverse("inspection-new")).context["form"]
    units = [code for code, _label in form.fields["department"].choices if code]
    assert "sxd" in units and "x-an-duong" not in units
    team = {str(value) for value, _label in form.fields["team"].choices}
    assert team == {"inspector", "home_affairs"}
    assert form["team"].value() == ["inspector"]  # the recorder is on the team unless taken off it


def test_an_inspection_is_recorded_with_several_files(signed_in, city, media_root):
    png = SimpleUploadedFile("anh.png", png_bytes(), content_type="image/png")
    response = signed_in("home_affairs").post(reverse("inspection-new"),
                                              new_inspection_data(city, files=[pdf_upload(), png]))
    inspection = Inspection.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("inspection-detail", args=[inspection.pk])
    assert (inspection.department, inspection.kind, inspection.inspected_on, inspection.recorded_by) == (
        city.owner, InspectionKind.SURPRISE, dt.date(2026, 11, 24), city.user("home_affairs"))
    assert {user.username for user in inspection.team.all()} == {"inspector", "home_affairs"}
    assert sorted(inspection.attachments.values_list("original_name", flat=True)) == ["anh.png",
                                                                                      "bien-ban-kiem-tra.pdf"]
    assert len(stored_files(media_root)) == 2


def test_an_inspection_without_files_is_recorded(signed_in, city):
    assert signed_in("inspector").post(reverse("inspection-new"), new_inspection_data(city)).status_code == 302
    assert Inspection.objects.get().attachments.count() == 0


def test_a_bad_file_is_named_and_nothing_is_saved(signed_in, city, media_root):
    fake = SimpleUploadedFile("bao-cao.pdf", b"plain text", content_type="application/pdf")
    response = signed_in("inspector").post(reverse("inspection-new"),
                                           new_inspection_data(city, files=[pdf_upload(), fake]))
    assert response.status_code == 200
    assert "bao-cao.pdf" in " ".join(response.context["form"].errors["files"])
    assert not Inspection.objects.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize(("field", "value"), [("inspected_on", "2026-11-26"), ("team", ["head"]), ("team", []),
                                              ("department", "no-such-unit"), ("kind", "announced")])
def test_bad_input_is_shown_on_its_field(signed_in, city, field, value):
    response = signed_in("inspector").post(reverse("inspection-new"), new_inspection_data(city, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Inspection.objects.exists()


def test_a_date_in_the_future_is_the_services_refusal_shown_on_the_field(signed_in, city):
    data = new_inspection_data(city, inspected_on="2026-11-26")
    response = signed_in("inspector").post(reverse("inspection-new"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["form"].errors["inspected_on"] == ["The date cannot be in the future."]


# --- Its page, its files --------------------------------------------------------------------------------------


def test_the_page_shows_the_facts_team_files_and_violations_found(signed_in, city, choices, inspection, filed):
    found = violation_record(actor=city.user("inspector"), person=city.user("specialist"),
                             discovered_on=dt.date(2026, 11, 2), source=ViolationSource.SURPRISE_INSPECTION,
                             inspection=inspection, kind=choices.kind, severity=choices.serious,
                             description="Sách nhiễu.")
    response = signed_in("home_affairs").get(reverse("inspection-detail", args=[inspection.pk]))
    html = response.content.decode()
    assert "Sở Xây dựng" in html
    assert "Bộ phận một cửa yêu cầu thêm giấy tờ" in html
    assert 'data-username="inspector"' in html
    assert reverse("inspection-file", args=[inspection.pk, filed.pk]) in html
    assert "bien-ban-kiem-tra.pdf" in html
    assert reverse("violation-detail", args=[found.pk]) in html
    assert f'{reverse("violation-new")}?inspection={inspection.pk}' in html
    assert reverse("inspection-attach", args=[inspection.pk]) in html


def test_the_pages_query_count_does_not_grow_with_files_and_violations(signed_in, city, choices, inspection, filed):
    client = signed_in("inspector")
    url = reverse("inspection-detail", args=[inspection.pk])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for person in ("clerk", "specialist", "deputy"):
        inspection_attach(inspection=inspection, actor=city.user("home_affairs"), upload=pdf_upload())
        violation_record(actor=city.user("inspector"), person=city.user(person), discovered_on=dt.date(2026, 11, 2),
                         source=ViolationSource.SURPRISE_INSPECTION, inspection=inspection, kind=choices.kind,
                         severity=choices.serious, description="Sách nhiễu.")
    inspection.team.add(city.user("home_affairs"))
    assert queries() == few


def test_an_unknown_inspection_is_not_found(signed_in):
    assert signed_in("inspector").get(reverse("inspection-detail", args=[999])).status_code == 404


def test_a_file_is_added_from_the_page(signed_in, city, inspection, media_root):
    url = reverse("inspection-attach", args=[inspection.pk])
    response = signed_in("home_affairs").post(url, {"file": pdf_upload("bien-ban-bo-sung.pdf")}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("inspection-detail", args=[inspection.pk])
    attachment = inspection.attachments.get()
    assert (attachment.original_name, attachment.uploaded_by) == ("bien-ban-bo-sung.pdf", city.user("home_affairs"))
    assert "bien-ban-bo-sung.pdf" in response.content.decode()


@pytest.mark.parametrize("data", [{}, {"file": SimpleUploadedFile("bao-cao.pdf", b"plain text")}])
def test_a_missing_or_bad_file_is_told_and_nothing_is_stored(signed_in, inspection, media_root, data):
    response = signed_in("inspector").post(reverse("inspection-attach", args=[inspection.pk]), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("inspection-detail", args=[inspection.pk])
    assert b'data-test="message-error"' in response.content
    assert not inspection.attachments.exists()
    assert stored_files(media_root) == []


def test_a_file_is_handed_out_as_a_download_under_its_name(signed_in, inspection, filed):
    response = signed_in("home_affairs").get(reverse("inspection-file", args=[inspection.pk, filed.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="bien-ban-kiem-tra.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_file_of_another_inspection_is_not_found(signed_in, city, inspection, filed, media_root):
    other = inspect(city, department=city.ward)
    assert signed_in("inspector").get(reverse("inspection-file", args=[other.pk, filed.pk])).status_code == 404
    assert signed_in("inspector").get(reverse("inspection-file", args=[inspection.pk, filed.pk + 1])).status_code == 404


def test_a_file_lost_from_storage_is_not_found(signed_in, inspection, filed):
    filed.file.storage.delete(filed.file.name)
    assert signed_in("inspector").get(reverse("inspection-file", args=[inspection.pk, filed.pk])).status_code == 404


def test_an_inactive_inspector_is_not_offered_for_the_team(signed_in, city):
    retired = make_user("retired", department=city.inspectorate, role=Role.INSPECTOR)
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    form = signed_in("inspector").get(reverse("inspection-new")).context["form"]
    assert "retired" not in {str(value) for value, _label in form.fields["team"].choices}


def test_the_heads_of_the_inspectorate_and_home_affairs_record_and_join_teams(client, city):
    chief = make_user("chief_inspector", department=city.inspectorate, role=Role.HEAD, full_name="Đỗ Văn Chánh")
    make_user("home_affairs_director", department=city.home_affairs, role=Role.DEPUTY)
    client.force_login(chief)
    inspection_form = client.get(reverse("inspection-new")).context["form"]
    assert {"chief_inspector", "home_affairs_director", "inspector", "home_affairs"} <= set(
        inspection_form.fields["team"].queryset.values_list("username", flat=True))
    assert inspection_form.initial["team"] == ["chief_inspector"]
    assert "head" not in inspection_form.fields["team"].queryset.values_list("username", flat=True)
    violation_form = client.get(reverse("violation-new")).context["form"]
    assert {"chief_inspector", "home_affairs_director", "admin"} <= set(
        violation_form.fields["handler"].queryset.values_list("username", flat=True))
