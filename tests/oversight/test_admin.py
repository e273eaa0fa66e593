"""Oversight in the admin: the four lists and the staff report's thresholds are edited with history; a choice
in use cannot be deleted; the records themselves are shown and never added, changed or deleted there."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oversight.models import (
    ActionKind,
    ActionTaken,
    Commendation,
    CommendationLevel,
    Inspection,
    InspectionKind,
    ReviewThresholds,
    Severity,
    Violation,
    ViolationKind,
    ViolationSource,
)
from oversight.services import commendation_record, inspection_record, violation_act, violation_record
from tests.support.world import local_datetime

CHOICE_TABLES = [ViolationKind, Severity, ActionKind, CommendationLevel]
RECORDS = [Inspection, Violation, ActionTaken, Commendation]


@pytest.fixture(autouse=True)
def today(clock):
    clock.set(local_datetime(2026, 11, 25, 10))


@pytest.fixture
def admin_client(client, city):
    client.force_login(city.user("admin"))
    return client


@pytest.fixture
def acted(city, choices, violation):
    return violation_act(violation=violation, actor=city.user("inspector"), kind=choices.review_meeting,
                         decided_on=dt.date(2026, 11, 10), decision_number="3/BB", note="Kiểm điểm.")


def url(model, view, *args):
    return reverse(f"admin:oversight_{model._meta.model_name}_{view}", args=args)


def choice_data(**overrides):
    return {"code": "late-reply", "name": "Trả lời chậm", "legal_basis": "Nghị định 118/2025/NĐ-CP",
            "position": "8", "active": "on", **overrides}


# --- The lists the law sets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("model", CHOICE_TABLES)
def test_each_list_is_shown_searchable_with_its_columns(admin_client, choices, model):
    response = admin_client.get(url(model, "changelist"))
    assert response.status_code == 200
    assert {"code", "name", "position", "active", "legal_basis"} <= set(response.context["cl"].list_display)
    first = model.objects.order_by("position").first()
    found = admin_client.get(url(model, "changelist"), {"q": first.code}).context["cl"].result_list
    assert first in list(found)


@pytest.mark.parametrize("model", CHOICE_TABLES)
def test_a_choice_is_added_and_edited_with_history(admin_client, city, model):
    response = admin_client.post(url(model, "add"), choice_data())
    assert response.status_code == 302
    choice = model.objects.get(code="late-reply")
    response = admin_client.post(url(model, "change", choice.pk), choice_data(code="renamed", name="Trả lời quá hạn",
                                                                              active=""))
    assert response.status_code == 302
    choice.refresh_from_db()
    # The code stays as it was made: exports name the choice by it.
    assert (choice.code, choice.name, choice.active) == ("late-reply", "Trả lời quá hạn", False)
    versions = list(choice.history.order_by("history_date").values_list("name", "active", "history_user"))
    assert versions == [("Trả lời chậm", True, city.user("admin").pk), ("Trả lời quá hạn", False,
                                                                         city.user("admin").pk)]
    assert admin_client.get(url(model, "history", choice.pk)).status_code == 200


def test_switching_off_from_the_list_is_kept_in_history(admin_client, choices):
    kind = choices.delay
    kinds = list(ViolationKind.objects.order_by("position", "name"))
    data = {"form-TOTAL_FORMS": str(len(kinds)), "form-INITIAL_FORMS": str(len(kinds)), "_save": "Save"}
    for index, item in enumerate(kinds):
        data.update({f"form-{index}-id": str(item.pk), f"form-{index}-position": str(item.position)})
        if item != kind:
            data[f"form-{index}-active"] = "on"
    assert admin_client.post(url(ViolationKind, "changelist"), data).status_code == 302
    kind.refresh_from_db()
    assert kind.active is False
    assert kind.history.latest().active is False


def test_the_disciplinary_flag_is_shown_and_filtered(admin_client, choices):
    response = admin_client.get(url(ActionKind, "changelist"), {"disciplinary__exact": "1"})
    assert "disciplinary" in response.context["cl"].list_display
    codes = {kind.code for kind in response.context["cl"].result_list}
    assert "reprimand" in codes and "review-meeting" not in codes


def test_a_choice_not_in_use_may_be_deleted(admin_client):
    level = CommendationLevel.objects.create(code="typo", name="Nhầm")
    assert admin_client.post(url(CommendationLevel, "delete", level.pk), {"post": "yes"}).status_code == 302
    assert not CommendationLevel.objects.filter(pk=level.pk).exists()


@pytest.mark.parametrize("model", [ViolationKind, Severity, ActionKind, CommendationLevel])
def test_a_choice_in_use_is_never_deleted(admin_client, choices, violation, acted, commendation, model):
    in_use = {ViolationKind: choices.kind, Severity: choices.less_serious, ActionKind: choices.review_meeting,
              CommendationLevel: choices.unit_certificate}[model]
    page = admin_client.get(url(model, "delete", in_use.pk))
    assert page.status_code == 200
    assert page.context["protected"]  # the page names the records that keep it
    admin_client.post(url(model, "delete", in_use.pk), {"post": "yes"})
    assert model.objects.filter(pk=in_use.pk).exists()


# --- The staff report's thresholds --------------------------------------------------------------------------


def test_the_thresholds_list_opens_the_one_row(admin_client):
    response = admin_client.get(url(ReviewThresholds, "changelist"))
    assert response.status_code == 302
    assert response.url == url(ReviewThresholds, "change", 1)
    assert admin_client.get(response.url).status_code == 200


def test_the_thresholds_are_edited_with_history(admin_client, city):
    thresholds = ReviewThresholds.current()
    data = {field.name: getattr(thresholds, field.name) for field in ReviewThresholds._meta.concrete_fields
            if field.name != "id"}
    data.update(review_on_time_below=60, commend_cases_at_least=12)
    assert admin_client.post(url(ReviewThresholds, "change", 1), data).status_code == 302
    thresholds.refresh_from_db()
    assert (thresholds.review_on_time_below, thresholds.commend_cases_at_least) == (60, 12)
    latest = thresholds.history.latest()
    assert (latest.review_on_time_below, latest.history_user) == (60, city.user("admin"))


def test_a_percentage_over_a_hundred_is_refused(admin_client):
    thresholds = ReviewThresholds.current()
    data = {field.name: getattr(thresholds, field.name) for field in ReviewThresholds._meta.concrete_fields
            if field.name != "id"}
    data["commend_on_time_at_least"] = 101
    response = admin_client.post(url(ReviewThresholds, "change", 1), data)
    assert response.status_code == 200
    thresholds.refresh_from_db()
    assert thresholds.commend_on_time_at_least == 95


def test_the_thresholds_are_never_added_twice_nor_deleted(admin_client):
    ReviewThresholds.current()
    assert admin_client.get(url(ReviewThresholds, "add")).status_code == 403
    assert admin_client.post(url(ReviewThresholds, "delete", 1), {"post": "yes"}).status_code == 403
    assert ReviewThresholds.objects.count() == 1


# --- The records, read-only -----------------------------------------------------------------------------------


@pytest.fixture
def records(city, choices, inspection, violation, acted, commendation):
    return {Inspection: inspection, Violation: violation, ActionTaken: acted, Commendation: commendation}


@pytest.mark.parametrize("model", RECORDS)
def test_records_are_shown_to_admins(admin_client, records, model):
    listing = admin_client.get(url(model, "changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [records[model]]
    assert admin_client.get(url(model, "change", records[model].pk)).status_code == 200


@pytest.mark.parametrize("model", RECORDS)
def test_records_are_never_added_changed_or_deleted_here(admin_client, records, model):
    record = records[model]
    before = model.objects.filter(pk=record.pk).values().get()
    assert admin_client.get(url(model, "add")).status_code == 403
    assert admin_client.post(url(model, "change", record.pk), {}).status_code == 403
    assert admin_client.post(url(model, "delete", record.pk), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in admin_client.get(url(model, "changelist")).content.decode()
    assert model.objects.filter(pk=record.pk).values().get() == before


def test_a_violation_shows_its_actions(admin_client, violation, acted):
    page = admin_client.get(url(Violation, "change", violation.pk)).content.decode()
    assert "3/BB" in page and "Kiểm điểm." in page


@pytest.mark.parametrize("role", ["inspector", "home_affairs", "head"])
def test_only_admins_enter_the_admin(client, city, role):
    client.force_login(city.user(role))
    response = client.get(url(Violation, "changelist"))
    assert response.status_code == 302
    assert "login" in response.url


@pytest.mark.parametrize("model", RECORDS)
def test_the_lists_query_count_does_not_grow(admin_client, city, choices, records, model):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url(model, "changelist")).status_code == 200
        return len(captured)

    few = queries()
    for person in ("clerk", "deputy", "head"):
        more = violation_record(actor=city.user("home_affairs"), person=city.user(person),
                                discovered_on=dt.date(2026, 11, 3), source=ViolationSource.COMPLAINT,
                                kind=choices.delay, severity=choices.serious, description="Chậm.")
        violation_act(violation=more, actor=city.user("home_affairs"), kind=choices.reprimand,
                      decided_on=dt.date(2026, 11, 20))
        commendation_record(actor=city.user("inspector"), department=city.ward, level=choices.unit_certificate,
                            reason="Khen.", awarded_on=dt.date(2026, 11, 20))
        inspection_record(actor=city.user("inspector"), department=city.ward, kind=InspectionKind.SCHEDULED,
                          inspected_on=dt.date(2026, 11, 4), team=[city.user("inspector")])
    assert queries() == few
