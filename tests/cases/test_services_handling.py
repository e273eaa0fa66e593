"""The owner's handling of a case: accept, assign, propose, resolve, the version check, attachments.

DESIGN.md §2 rules 4 and 8, §4; attachments through Django storage (§7).
"""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError

from cases.models import Attachment, CaseEvent, EventAction, Notification, Status
from cases.services import (
    attachment_add,
    case_accept,
    case_assign,
    case_propose,
    case_resolve,
    consultation_assign,
)
from tests.support.cases import (
    ACTIONS,
    PDF_BYTES,
    assert_denied,
    assert_refused,
    docx_bytes,
    last_event_id,
    pdf_upload,
    png_bytes,
    stored_files,
)
from tests.support.world import local_datetime

# accept, assign, propose, resolve ------------------------------------------------------------------------


def test_a_handler_accepts_and_becomes_the_named_assignee(city, stages):
    case = stages.routed()
    specialist = city.user("specialist")
    accepted = case_accept(case=case, actor=specialist, expected_version=case.version)
    case.refresh_from_db()
    assert (case.status, case.assignee, case.version) == (Status.IN_PROGRESS, specialist, accepted.version)
    assert case.accepted_at is not None
    event = case.events.get(action=EventAction.ACCEPTED)
    assert (event.actor, event.from_status, event.to_status) == (specialist, Status.ROUTED, Status.IN_PROGRESS)
    assert event.payload == {"assignee": "specialist"}


def test_a_case_is_accepted_once(city, stages):
    case = stages.in_progress()
    assert_refused(case_accept, code="invalid_transition", attempted="accept", case=case, actor=city.user("deputy"))
    case.refresh_from_db()
    assert case.assignee == city.user("specialist")


def test_assigning_a_routed_case_accepts_it_for_the_assignee(city, stages):
    case = stages.routed()
    case_assign(case=case, actor=city.user("head"), assignee=city.user("specialist"))
    case.refresh_from_db()
    assert (case.status, case.assignee) == (Status.IN_PROGRESS, city.user("specialist"))
    assert case.accepted_at is not None
    event = case.events.get(action=EventAction.ASSIGNED)
    assert (event.actor, event.from_status, event.to_status) == (city.user("head"), Status.ROUTED, Status.IN_PROGRESS)
    assert event.payload == {"previous": None, "assignee": "specialist"}


def test_the_head_reassigns_and_the_event_keeps_the_previous_assignee(city, stages):
    case = stages.in_progress()
    accepted_at = case.accepted_at
    case_assign(case=case, actor=city.user("deputy"), assignee=city.user("head"))
    case.refresh_from_db()
    assert (case.status, case.assignee, case.accepted_at) == (Status.IN_PROGRESS, city.user("head"), accepted_at)
    event = case.events.get(action=EventAction.ASSIGNED)
    assert event.payload == {"previous": "specialist", "assignee": "head"}


def test_a_case_waiting_for_the_applicant_can_be_reassigned_and_keeps_waiting(city, stages):
    case = stages.awaiting_supplement()
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))
    case.refresh_from_db()
    assert (case.status, case.assignee) == (Status.AWAITING_SUPPLEMENT, city.user("deputy"))


def test_naming_the_person_already_responsible_changes_nothing_and_says_so(city, stages):
    case = stages.in_progress()  # assigned to the specialist
    before, version = last_event_id(case), case.version
    notices = Notification.objects.count()

    with pytest.raises(ValidationError) as error:
        case_assign(case=case, actor=city.user("head"), assignee=city.user("specialist"))

    assert error.value.message_dict["assignee"] == [
        f"{city.user('specialist').get_full_name()} đã là người chịu trách nhiệm; không có gì thay đổi."]
    case.refresh_from_db()
    assert (case.assignee, case.version, last_event_id(case)) == (city.user("specialist"), version, before)
    assert Notification.objects.count() == notices


def test_naming_the_person_already_preparing_an_opinion_changes_nothing(city, consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    clock.set(local_datetime(2026, 4, 29, 10))
    [asked] = consulting.ask(case)
    consultation_assign(consultation=asked, actor=city.user("consulted_head"),
                        assignee=city.user("consulted_specialist"))
    before = last_event_id(case)

    with pytest.raises(ValidationError) as error:
        consultation_assign(consultation=asked, actor=city.user("consulted_head"),
                            assignee=city.user("consulted_specialist"))

    assert "assignee" in error.value.message_dict
    assert last_event_id(case) == before


@pytest.mark.parametrize("assignee", ["clerk", "outsider_specialist", "city_office", "nobody"])
def test_only_a_handler_of_the_owner_can_be_named_assignee(city, stages, assignee):
    case = stages.routed()
    before = last_event_id(case)
    with pytest.raises(ValidationError) as error:
        case_assign(case=case, actor=city.user("head"), assignee=city.user(assignee))
    assert "assignee" in error.value.message_dict
    case.refresh_from_db()
    assert (case.status, case.assignee, case.version) == (Status.ROUTED, None, 1)
    assert last_event_id(case) == before  # a field error is not a refusal of the directive


def test_a_specialist_proposes_and_the_case_stays_with_them(city, stages):
    case = stages.in_progress()
    case_propose(case=case, actor=city.user("specialist"), note="Đủ điều kiện cấp phép")
    case.refresh_from_db()
    assert (case.status, case.assignee, case.version) == (Status.IN_PROGRESS, city.user("specialist"), 3)
    event = case.events.get(action=EventAction.PROPOSED)
    assert (event.actor, event.note) == (city.user("specialist"), "Đủ điều kiện cấp phép")


@pytest.mark.parametrize("lead", ["head", "deputy"])
def test_the_head_or_deputy_resolves_a_department_level_matter(city, stages, lead):
    case = stages.in_progress()
    case_resolve(case=case, actor=city.user(lead), note="Cấp giấy phép số 123/GPXD")
    case.refresh_from_db()
    assert (case.status, case.resolution, case.outcome) == (Status.RESOLVED, "Cấp giấy phép số 123/GPXD", "")
    assert case.resolved_at is not None
    assert case.assignee == city.user("specialist")  # the person who handled it stays on record
    event = case.events.get(action=EventAction.RESOLVED)
    assert (event.actor, event.from_status, event.to_status) == (city.user(lead), Status.IN_PROGRESS,
                                                                 Status.RESOLVED)


def test_a_specialist_cannot_resolve_but_may_propose(city, stages):
    case = stages.in_progress()
    assert_denied(case_resolve, case=case, actor=city.user("specialist"), note="Tự giải quyết")
    case_propose(case=case, actor=city.user("specialist"), note="Trình lãnh đạo ký")


# The version check: acting on an old picture of the case is refused (case_changed) ---------------------

VERSIONED = [name for name, spec in ACTIONS.items() if spec.versioned]


@pytest.mark.parametrize("action", VERSIONED)
def test_an_action_on_a_stale_version_is_refused(city, stages, action):
    spec = ACTIONS[action]
    case = spec.start(stages)
    actor = city.user("city_office" if action == "decide" else "head")
    refusal = assert_refused(spec.service, code="case_changed", attempted=action, case=case, actor=actor,
                             expected_version=case.version - 1, **spec.fields(city))
    assert refusal.payload == {"expected_version": case.version - 1, "version": case.version}
    spec.service(case=case, actor=actor, expected_version=case.version, **spec.fields(city))
    case.refresh_from_db()
    assert case.status == spec.status_after


def test_someone_elses_move_in_between_makes_the_old_view_stale(city, stages):
    case = stages.in_progress()
    seen = case.version
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))
    refusal = assert_refused(case_propose, code="case_changed", attempted="propose", case=case,
                             actor=city.user("specialist"), note="Theo hồ sơ cũ", expected_version=seen)
    assert refusal.payload["version"] == seen + 1


# Attachments -------------------------------------------------------------------------------------------

ACCEPTED_FILES = [
    ("Biên bản kiểm tra.pdf", PDF_BYTES, "application/pdf"),
    ("Ảnh hiện trạng.png", png_bytes(), "image/png"),
    ("Tờ trình.docx", docx_bytes(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
]


@pytest.mark.parametrize(("name", "content", "mime"), ACCEPTED_FILES, ids=["pdf", "png", "docx"])
def test_a_real_file_is_stored_with_its_fingerprint(city, stages, media_root, name, content, mime):
    case = stages.routed()
    clerk = city.user("clerk")
    attachment = attachment_add(case=case, actor=clerk, upload=SimpleUploadedFile(name, content))
    attachment.refresh_from_db()
    assert (attachment.content_type, attachment.size) == (mime, len(content))
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.original_name == name.replace(" ", "_")
    assert attachment.uploaded_by == clerk
    [stored] = stored_files(media_root)
    assert stored.read_bytes() == content
    assert stored.is_relative_to(media_root / "cases" / str(case.pk))
    assert stored.suffix == "." + name.rsplit(".", 1)[1]
    event = case.events.get(action=EventAction.ATTACHMENT_ADDED)
    assert event.actor == clerk
    assert event.payload == {"attachment": attachment.pk, "sha256": attachment.sha256, "size": len(content)}


def _zip_bytes():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ghi-chu.txt", "không phải văn bản Word")
    return buffer.getvalue()


REFUSED_FILES = {
    "exe-named-pdf": ("to-trinh.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64),
    "text-named-pdf": ("to-trinh.pdf", "Đây chỉ là văn bản thường".encode()),
    "html-named-pdf": ("to-trinh.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
    "zip-named-docx": ("to-trinh.docx", _zip_bytes()),
    "png-named-pdf": ("anh.pdf", png_bytes()),
    "pdf-named-png": ("anh.png", PDF_BYTES),
    "pdf-without-suffix": ("to-trinh", PDF_BYTES),
}


@pytest.mark.parametrize("kind", REFUSED_FILES)
def test_a_file_is_typed_by_its_content_not_its_name(city, stages, media_root, kind):
    name, content = REFUSED_FILES[kind]
    case = stages.routed()
    before = last_event_id(case)
    with pytest.raises(ValidationError) as error:
        attachment_add(case=case, actor=city.user("specialist"), upload=SimpleUploadedFile(name, content))
    assert list(error.value.message_dict) == ["file"]
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []
    assert last_event_id(case) == before


def test_the_size_limit_is_inclusive(city, stages, media_root, settings):
    case = stages.routed()
    settings.ATTACHMENT_MAX_BYTES = len(PDF_BYTES) - 1
    with pytest.raises(ValidationError) as error:
        attachment_add(case=case, actor=city.user("clerk"), upload=pdf_upload())
    assert "file" in error.value.message_dict
    assert stored_files(media_root) == []
    settings.ATTACHMENT_MAX_BYTES = len(PDF_BYTES)
    assert attachment_add(case=case, actor=city.user("clerk"), upload=pdf_upload()).size == len(PDF_BYTES)


LONG_NAME = "Biên bản " + "đ" * 291 + ".pdf"  # 304 characters


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("a\\b.pdf", "b.pdf"),
    ("..\\..\\Windows\\win.ini.pdf", "win.ini.pdf"),
    ("/var/www/index.pdf", "index.pdf"),
    ("Biên bản\x00\n\x1b\x7f.pdf", "Biên_bản.pdf"),
], ids=["dot-dot", "backslash", "windows-dot-dot", "absolute", "control-chars"])
def test_the_applicants_file_name_is_cleaned(city, stages, media_root, given, kept):
    case = stages.routed()
    attachment = attachment_add(case=case, actor=city.user("specialist"), upload=ContentFile(PDF_BYTES, name=given))
    assert attachment.original_name == kept
    [stored] = stored_files(media_root)
    assert stored.is_relative_to(media_root / "cases" / str(case.pk))
    assert stored.name != kept  # the name on disk is ours, never the applicant's


def test_an_overlong_file_name_is_shortened_and_keeps_its_type(city, stages, media_root):
    case = stages.routed()
    attachment = attachment_add(case=case, actor=city.user("specialist"),
                                upload=ContentFile(PDF_BYTES, name=LONG_NAME))
    assert len(attachment.original_name) == 200
    assert attachment.original_name.startswith("Biên_bản_đđ")
    assert attachment.original_name.endswith(".pdf")
    assert Attachment.objects.get().original_name == attachment.original_name


def test_a_failure_after_the_file_was_stored_removes_the_file(city, stages, media_root, monkeypatch):
    case = stages.routed()
    before = last_event_id(case)

    def broken_record(*args, **kwargs):
        assert len(stored_files(media_root)) == 1  # the file was written before the failure
        raise DatabaseError("connection lost")

    monkeypatch.setattr("cases.services.attachments.record", broken_record)
    with pytest.raises(DatabaseError):
        attachment_add(case=case, actor=city.user("specialist"), upload=pdf_upload())
    assert not Attachment.objects.exists()
    assert stored_files(media_root) == []
    assert not CaseEvent.objects.filter(case=case, id__gt=before).exists()


@pytest.mark.parametrize("role", ["inspector", "outsider_specialist", "consulted_head", "home_affairs"])
def test_overseers_and_other_units_cannot_attach(city, stages, media_root, role):
    case = stages.in_progress()
    assert_denied(attachment_add, case=case, actor=city.user(role), upload=pdf_upload())
    assert stored_files(media_root) == []
