"""Every rule of the oversight services (oversight/services.py): who may record, dates, the inspection a
source needs, the handling deadline and its one extension, the moves of an open violation, commendations of
a person or a unit, choices switched off by the admins, and that a refused or bad input leaves nothing behind,
neither a row nor a stored file.

Today is Wednesday 25 November 2026 (the clock is set); the shared violation was discovered on Monday
2 November 2026 by a surprise inspection of Sở Xây dựng the same day.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.refusals import Refused
from oversight import services
from oversight.models import (
    ActionTaken,
    Commendation,
    Inspection,
    InspectionAttachment,
    InspectionKind,
    Violation,
    ViolationSource,
    ViolationStatus,
)
from oversight.services import (
    commendation_record,
    inspection_attach,
    inspection_record,
    violation_act,
    violation_dismiss,
    violation_extend,
    violation_record,
)
from tests.support.cases import PDF_BYTES, pdf_upload, png_bytes, stored_files
from tests.support.world import local_datetime, make_user

TODAY = dt.date(2026, 11, 25)
NOT_OVERSEERS = ["head", "deputy", "specialist", "clerk", "city_office", "nobody"]


@pytest.fixture(autouse=True)
def today(clock):
    clock.set(local_datetime(2026, 11, 25, 10))
    return clock


def png_upload(name="anh-hien-truong.png"):
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def fake_pdf(name="bien-ban.pdf"):
    """A file named as a PDF whose content is plain text: refused by its content, not its name."""
    return SimpleUploadedFile(name, b"not really a pdf, only text", content_type="application/pdf")


def record_inspection(city, **overrides):
    fields = {"actor": city.user("inspector"), "department": city.owner, "kind": InspectionKind.SURPRISE,
              "inspected_on": dt.date(2026, 11, 2), "team": [city.user("inspector")], "findings": "Biên bản."}
    return inspection_record(**{**fields, **overrides})


def record_violation(city, choices, **overrides):
    fields = {"actor": city.user("inspector"), "person": city.user("clerk"), "discovered_on": dt.date(2026, 11, 2),
              "source": ViolationSource.COMPLAINT, "kind": choices.kind, "severity": choices.serious,
              "description": "Hẹn trả kết quả nhiều lần không có lý do."}
    return violation_record(**{**fields, **overrides})


def field_error(call, field):
    with pytest.raises(ValidationError) as error:
        call()
    assert field in error.value.message_dict, error.value.message_dict
    return error.value.message_dict[field]


def switch_off(choice):
    choice.active = False
    choice.save(update_fields=["active"])
    return choice


def violation_footprint(violation):
    return (Violation.objects.filter(pk=violation.pk).values().get(),
            list(ActionTaken.objects.filter(violation=violation).values()))


# --- Inspections ---------------------------------------------------------------------------------------------


def test_an_inspection_is_recorded_with_its_team_and_files(city, media_root):
    team = [city.user("inspector"), city.user("home_affairs")]
    inspection = record_inspection(city, team=team, uploads=[pdf_upload(), png_upload()])
    assert (inspection.department, inspection.kind, inspection.recorded_by) == (
        city.owner, InspectionKind.SURPRISE, city.user("inspector"))
    assert set(inspection.team.all()) == set(team)
    files = list(inspection.attachments.order_by("id"))
    assert [(f.original_name, f.content_type, f.size) for f in files] == [
        ("bien-ban-kiem-tra.pdf", "application/pdf", len(PDF_BYTES)),
        ("anh-hien-truong.png", "image/png", len(png_bytes()))]
    assert all(len(f.sha256) == 64 and f.uploaded_by == city.user("inspector") for f in files)
    # Stored under a random name in the inspection's folder, never under the uploaded one.
    assert len(stored_files(media_root)) == 2
    assert all(f.file.name.startswith(f"oversight/inspections/{inspection.pk}/") for f in files)
    assert all("bien-ban" not in f.file.name for f in files)


@pytest.mark.parametrize("role", ["inspector", "home_affairs", "admin"])
def test_overseers_record_inspections(city, role):
    assert record_inspection(city, actor=city.user(role)).recorded_by == city.user(role)


@pytest.mark.parametrize("role", NOT_OVERSEERS)
def test_no_one_else_records_an_inspection(city, role, media_root):
    with pytest.raises(PermissionDenied):
        record_inspection(city, actor=city.user(role), uploads=[pdf_upload()])
    assert not Inspection.objects.exists()
    assert stored_files(media_root) == []


def test_an_inspection_has_a_known_kind(city):
    field_error(lambda: record_inspection(city, kind="announced"), "kind")


def test_an_inspection_cannot_be_dated_in_the_future(city):
    assert record_inspection(city, inspected_on=TODAY).inspected_on == TODAY
    field_error(lambda: record_inspection(city, inspected_on=TODAY + dt.timedelta(days=1)), "inspected_on")


def test_an_inspection_names_its_team(city):
    field_error(lambda: record_inspection(city, team=[]), "team")
    assert not Inspection.objects.exists()


def test_one_bad_file_leaves_no_inspection_and_no_stored_file(city, media_root):
    field_error(lambda: record_inspection(city, uploads=[pdf_upload(), fake_pdf()]), "file")
    assert not Inspection.objects.exists()
    assert not InspectionAttachment.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_whose_name_lies_about_its_content_is_refused(city, media_root):
    renamed = SimpleUploadedFile("anh.pdf", png_bytes(), content_type="application/pdf")
    field_error(lambda: record_inspection(city, uploads=[renamed]), "file")
    assert not Inspection.objects.exists()


def test_a_failure_while_storing_removes_the_files_already_stored(city, media_root, monkeypatch):
    """The second file fails after the first is on disk: the rows roll back and the first file goes too."""
    real_store, calls = services._store, []

    def store_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(services, "_store", store_then_fail)
    with pytest.raises(OSError):
        record_inspection(city, uploads=[pdf_upload(), png_upload()])
    assert not Inspection.objects.exists()
    assert not InspectionAttachment.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_is_added_to_an_inspection(city, inspection, media_root):
    attachment = inspection_attach(inspection=inspection, actor=city.user("home_affairs"), upload=pdf_upload())
    assert (attachment.inspection, attachment.uploaded_by, attachment.original_name) == (
        inspection, city.user("home_affairs"), "bien-ban-kiem-tra.pdf")
    assert len(stored_files(media_root)) == 1


def test_a_bad_added_file_stores_nothing(city, inspection, media_root):
    field_error(lambda: inspection_attach(inspection=inspection, actor=city.user("inspector"), upload=fake_pdf()),
                "file")
    assert not inspection.attachments.exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize("role", NOT_OVERSEERS)
def test_no_one_else_adds_a_file(city, inspection, media_root, role):
    with pytest.raises(PermissionDenied):
        inspection_attach(inspection=inspection, actor=city.user(role), upload=pdf_upload())
    assert not inspection.attachments.exists()
    assert stored_files(media_root) == []


# --- Recording a violation -----------------------------------------------------------------------------------


def test_a_violation_from_a_complaint_is_of_the_persons_own_unit(city, choices, log_case):
    cases = [log_case(), log_case(title="Xin cấp phép sửa chữa nhà")]
    violation = record_violation(city, choices, cases=cases)
    assert (violation.department, violation.inspection, violation.status) == (city.owner, None, ViolationStatus.OPEN)
    assert (violation.handler, violation.recorded_by) == (city.user("inspector"), city.user("inspector"))
    assert set(violation.cases.all()) == set(cases)


def test_a_violation_an_inspection_found_belongs_to_the_inspected_unit(city, choices, inspection):
    # The person works at the consulted department but was found at fault during the owner's inspection.
    violation = record_violation(city, choices, person=city.user("consulted_specialist"), inspection=inspection,
                                 source=ViolationSource.SURPRISE_INSPECTION)
    assert (violation.department, violation.inspection) == (city.owner, inspection)


def test_the_responsible_official_may_be_another_overseer(city, choices):
    violation = record_violation(city, choices, handler=city.user("home_affairs"))
    assert (violation.handler, violation.recorded_by) == (city.user("home_affairs"), city.user("inspector"))


@pytest.mark.parametrize("role", ["head", "city_office", "specialist"])
def test_the_responsible_official_must_be_an_overseer(city, choices, role):
    field_error(lambda: record_violation(city, choices, handler=city.user(role)), "handler")
    assert not Violation.objects.exists()


@pytest.mark.parametrize("role", NOT_OVERSEERS)
def test_no_one_else_records_a_violation(city, choices, role):
    with pytest.raises(PermissionDenied):
        record_violation(city, choices, actor=city.user(role))
    assert not Violation.objects.exists()


def test_the_person_must_be_on_the_staff_of_a_unit(city, choices):
    field_error(lambda: record_violation(city, choices, person=city.user("nobody")), "person")


def test_a_violation_cannot_be_discovered_in_the_future(city, choices):
    field_error(lambda: record_violation(city, choices, discovered_on=TODAY + dt.timedelta(days=1)), "discovered_on")


def test_a_violation_says_what_happened(city, choices):
    field_error(lambda: record_violation(city, choices, description="   "), "description")


def test_a_violation_has_a_known_source(city, choices):
    field_error(lambda: record_violation(city, choices, source="rumour"), "source")


def test_switched_off_kinds_and_severities_are_not_offered(city, choices):
    switch_off(choices.serious)
    field_error(lambda: record_violation(city, choices), "severity")
    switch_off(choices.kind)
    field_error(lambda: record_violation(city, choices, severity=choices.less_serious), "kind")
    assert not Violation.objects.exists()


def test_a_complaint_or_alert_names_no_inspection(city, choices, inspection):
    for source in (ViolationSource.COMPLAINT, ViolationSource.SYSTEM_ALERT):
        field_error(lambda source=source: record_violation(city, choices, source=source, inspection=inspection),
                    "inspection")


def test_an_inspection_source_names_its_inspection(city, choices):
    field_error(lambda: record_violation(city, choices, source=ViolationSource.SURPRISE_INSPECTION), "inspection")
    field_error(lambda: record_violation(city, choices, source=ViolationSource.PERIODIC_INSPECTION), "inspection")


def test_the_inspection_must_be_of_the_sources_kind(city, choices, inspection):
    scheduled = record_inspection(city, kind=InspectionKind.SCHEDULED)
    field_error(lambda: record_violation(city, choices, source=ViolationSource.PERIODIC_INSPECTION,
                                         inspection=inspection), "inspection")
    field_error(lambda: record_violation(city, choices, source=ViolationSource.SURPRISE_INSPECTION,
                                         inspection=scheduled), "inspection")
    found = record_violation(city, choices, source=ViolationSource.PERIODIC_INSPECTION, inspection=scheduled)
    assert found.inspection == scheduled


def test_an_inspection_finds_nothing_before_it_took_place(city, choices, inspection):
    field_error(lambda: record_violation(city, choices, source=ViolationSource.SURPRISE_INSPECTION,
                                         inspection=inspection, discovered_on=dt.date(2026, 11, 1)), "discovered_on")
    later = record_violation(city, choices, source=ViolationSource.SURPRISE_INSPECTION, inspection=inspection,
                             discovered_on=dt.date(2026, 11, 4))
    assert later.discovered_on == dt.date(2026, 11, 4)


# --- The handling deadline -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("discovered", "due"), [
    # 90 days after Tuesday 3 November 2026 is Monday 1 February 2027, a working day.
    (dt.date(2026, 11, 3), dt.date(2027, 2, 1)),
    # 90 days after Monday 2 November is Sunday 31 January: the period ends on the next working day.
    (dt.date(2026, 11, 2), dt.date(2027, 2, 1)),
    # 90 days after Friday 6 November is Thursday 4 February 2027, the 29th of Tết: the holiday runs to
    # Wednesday the 10th, so the period ends on Thursday 11 February.
    (dt.date(2026, 11, 6), dt.date(2027, 2, 11)),
])
def test_handling_is_due_ninety_days_after_discovery_on_a_working_day(city, choices, discovered, due):
    assert record_violation(city, choices, discovered_on=discovered).due_date == due


def test_the_deadline_is_extended_once_to_a_hundred_and_fifty_days(city, choices, violation):
    extended = violation_extend(violation=violation, actor=city.user("home_affairs"), reason=" Chờ xác minh. ")
    # 150 days after 2 November 2026 is Thursday 1 April 2027.
    assert (extended.due_date, extended.due_date_before_extension) == (dt.date(2027, 4, 1), dt.date(2027, 2, 1))
    assert (extended.extended_by, extended.extension_reason) == (city.user("home_affairs"), "Chờ xác minh.")
    stored = Violation.objects.get(pk=violation.pk)
    assert (stored.due_date, stored.extended_at) == (dt.date(2027, 4, 1), extended.extended_at)


def test_the_deadline_is_not_extended_twice(city, choices, violation):
    violation_extend(violation=violation, actor=city.user("inspector"), reason="Chờ xác minh.")
    before = violation_footprint(violation)
    with pytest.raises(Refused) as refusal:
        violation_extend(violation=violation, actor=city.user("inspector"), reason="Lần nữa.")
    assert refusal.value.code == "already_extended"
    assert violation_footprint(violation) == before


def test_the_deadline_may_be_extended_on_its_last_day_but_not_after(city, choices, violation, clock):
    clock.set(local_datetime(2027, 2, 2, 8))
    before = violation_footprint(violation)
    with pytest.raises(Refused) as refusal:
        violation_extend(violation=violation, actor=city.user("inspector"), reason="Quá hạn mới xin.")
    assert refusal.value.code == "extension_too_late"
    assert violation_footprint(violation) == before

    clock.set(local_datetime(2027, 2, 1, 23, 30))
    assert violation_extend(violation=violation, actor=city.user("inspector"),
                           reason="Xin gia hạn trong ngày cuối.").due_date == dt.date(2027, 4, 1)


def test_no_extension_when_the_longest_period_ends_no_later(city, choices, violation, settings):
    settings.VIOLATION_HANDLING_MAX_DAYS = settings.VIOLATION_HANDLING_DAYS
    with pytest.raises(Refused) as refusal:
        violation_extend(violation=violation, actor=city.user("inspector"), reason="Chờ xác minh.")
    assert refusal.value.code == "extension_too_late"
    assert Violation.objects.get(pk=violation.pk).extended_at is None


def test_an_extension_gives_its_reason(city, violation):
    field_error(lambda: violation_extend(violation=violation, actor=city.user("inspector"), reason=" "), "reason")
    assert Violation.objects.get(pk=violation.pk).extended_at is None


# --- Acting on a violation -----------------------------------------------------------------------------------


def test_an_action_is_recorded_and_the_handling_stays_open(city, choices, violation):
    action = violation_act(violation=violation, actor=city.user("home_affairs"), kind=choices.review_meeting,
                           decided_on=dt.date(2026, 11, 20), decision_number=" 12/BB ", note="Kiểm điểm tại đơn vị.")
    assert (action.violation, action.kind, action.decision_number, action.recorded_by) == (
        violation, choices.review_meeting, "12/BB", city.user("home_affairs"))
    assert Violation.objects.get(pk=violation.pk).status == ViolationStatus.OPEN


def test_an_action_that_ends_the_handling_closes_the_violation(city, choices, violation):
    violation_act(violation=violation, actor=city.user("inspector"), kind=choices.reprimand,
                  decided_on=TODAY, note="Khiển trách theo Quyết định 45/QĐ.", ends_handling=True)
    closed = Violation.objects.get(pk=violation.pk)
    assert (closed.status, closed.closed_by, closed.closing_note) == (
        ViolationStatus.HANDLED, city.user("inspector"), "Khiển trách theo Quyết định 45/QĐ.")
    assert closed.closed_at is not None


def test_an_action_cannot_be_decided_in_the_future_or_before_discovery(city, choices, violation):
    for day, field in [(TODAY + dt.timedelta(days=1), "decided_on"), (dt.date(2026, 11, 1), "decided_on")]:
        before = violation_footprint(violation)
        field_error(lambda day=day: violation_act(violation=violation, actor=city.user("inspector"),
                                                  kind=choices.review_meeting, decided_on=day, ends_handling=True),
                    field)
        assert violation_footprint(violation) == before


def test_a_switched_off_action_is_not_offered(city, choices, violation):
    switch_off(choices.reprimand)
    field_error(lambda: violation_act(violation=violation, actor=city.user("inspector"), kind=choices.reprimand,
                                      decided_on=TODAY), "kind")
    assert not ActionTaken.objects.exists()


def test_a_dismissal_closes_the_violation_as_not_confirmed(city, violation):
    violation_dismiss(violation=violation, actor=city.user("home_affairs"), reason=" Không đủ căn cứ. ")
    closed = Violation.objects.get(pk=violation.pk)
    assert (closed.status, closed.closed_by, closed.closing_note) == (
        ViolationStatus.DISMISSED, city.user("home_affairs"), "Không đủ căn cứ.")


def test_a_dismissal_gives_its_reason(city, violation):
    field_error(lambda: violation_dismiss(violation=violation, actor=city.user("inspector"), reason=""), "reason")
    assert Violation.objects.get(pk=violation.pk).status == ViolationStatus.OPEN


@pytest.mark.parametrize("close", ["handled", "dismissed"])
def test_nothing_moves_once_the_handling_has_ended(city, choices, violation, close):
    if close == "handled":
        violation_act(violation=violation, actor=city.user("inspector"), kind=choices.reprimand, decided_on=TODAY,
                      ends_handling=True)
    else:
        violation_dismiss(violation=violation, actor=city.user("inspector"), reason="Không đủ căn cứ.")
    before = violation_footprint(violation)
    moves = [
        lambda: violation_extend(violation=violation, actor=city.user("inspector"), reason="Gia hạn."),
        lambda: violation_act(violation=violation, actor=city.user("inspector"), kind=choices.review_meeting,
                              decided_on=TODAY),
        lambda: violation_dismiss(violation=violation, actor=city.user("inspector"), reason="Đóng lại."),
    ]
    for move in moves:
        with pytest.raises(Refused) as refusal:
            move()
        assert refusal.value.code == "invalid_transition"
    assert violation_footprint(violation) == before


@pytest.mark.parametrize("role", NOT_OVERSEERS)
def test_no_one_else_moves_a_violation(city, choices, violation, role):
    actor, before = city.user(role), violation_footprint(violation)
    moves = [
        lambda: violation_extend(violation=violation, actor=actor, reason="Gia hạn."),
        lambda: violation_act(violation=violation, actor=actor, kind=choices.review_meeting, decided_on=TODAY,
                              ends_handling=True),
        lambda: violation_dismiss(violation=violation, actor=actor, reason="Đóng lại."),
    ]
    for move in moves:
        with pytest.raises(PermissionDenied):
            move()
    assert violation_footprint(violation) == before


# --- Commendations -------------------------------------------------------------------------------------------


def commend(city, choices, **overrides):
    fields = {"actor": city.user("home_affairs"), "level": choices.unit_certificate, "reason": "Dám nghĩ, dám làm.",
              "awarded_on": dt.date(2026, 11, 20)}
    return commendation_record(**{**fields, **overrides})


def test_a_person_or_a_unit_is_commended(city, choices):
    person = commend(city, choices, person=city.user("specialist"), decision_number=" 7/QĐ-KT ")
    unit = commend(city, choices, department=city.ward)
    assert (person.person, person.department, person.decision_number) == (city.user("specialist"), None, "7/QĐ-KT")
    assert (unit.person, unit.department, unit.recorded_by) == (None, city.ward, city.user("home_affairs"))


def test_a_commendation_names_exactly_one_of_a_person_and_a_unit(city, choices):
    field_error(lambda: commend(city, choices), "person")
    field_error(lambda: commend(city, choices, person=city.user("specialist"), department=city.owner), "person")
    assert not Commendation.objects.exists()


def test_a_commendation_says_why_is_dated_and_uses_an_offered_level(city, choices):
    field_error(lambda: commend(city, choices, person=city.user("head"), reason=" "), "reason")
    field_error(lambda: commend(city, choices, person=city.user("head"), awarded_on=TODAY + dt.timedelta(days=1)),
                "awarded_on")
    switch_off(choices.unit_certificate)
    field_error(lambda: commend(city, choices, person=city.user("head")), "level")
    assert not Commendation.objects.exists()


@pytest.mark.parametrize("role", NOT_OVERSEERS)
def test_no_one_else_records_a_commendation(city, choices, role):
    with pytest.raises(PermissionDenied):
        commend(city, choices, actor=city.user(role), person=city.user("head"))
    assert not Commendation.objects.exists()


def test_an_admin_commends_too(city, choices):
    admin = make_user("second_admin", superuser=True)
    assert commend(city, choices, actor=admin, department=city.owner).recorded_by == admin
