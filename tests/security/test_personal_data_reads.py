"""Who read personal data (Law 91/2025/QH15 on Personal Data Protection, in force since 1 January 2026): every read
of a case's page, file or letter by someone outside its owner and consulted units, and every export, is a row that
names who, when and what; the units that work on the case read without a trace, as their work needs."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from cases.services import attachment_add
from core.models import PersonalDataRead, ReadKind
from tests.support.api import issue_token
from tests.support.cases import pdf_upload

pytestmark = pytest.mark.django_db

OUTSIDE = ["inspector", "home_affairs", "city_office", "admin"]
INSIDE = ["head", "specialist", "consulted_specialist"]


@pytest.fixture
def consulted_case(consulting):
    case = consulting.case()
    consulting.ask(case)
    return case


def reads():
    return list(PersonalDataRead.objects.order_by("id").values_list("reader__username", "kind", "subject", "item"))


@pytest.mark.parametrize("role", OUTSIDE)
def test_a_read_of_the_page_from_outside_is_recorded_with_who_and_what(signed_in, consulted_case, role):
    response = signed_in(role).get(reverse("case-detail", args=[consulted_case.reference]),
                                   REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 200
    assert reads() == [(role, ReadKind.CASE_DETAIL, consulted_case.reference, "")]
    assert PersonalDataRead.objects.get().address == "10.0.0.7"


@pytest.mark.parametrize("role", INSIDE)
def test_the_owner_and_the_consulted_unit_read_without_a_record(signed_in, consulted_case, role):
    assert signed_in(role).get(reverse("case-detail", args=[consulted_case.reference])).status_code == 200
    assert reads() == []


def test_a_file_and_a_letter_read_from_outside_are_recorded(signed_in, city, stages, media_root):
    case = stages.awaiting_supplement()
    attachment = attachment_add(case=case, actor=city.user("specialist"), upload=pdf_upload("ho-so.pdf"))
    inspector = signed_in("inspector")
    assert inspector.get(reverse("attachment-download", args=[case.reference, attachment.pk])).status_code == 200
    assert inspector.get(reverse("supplement-letter", args=[case.reference])).status_code == 200
    assert reads() == [("inspector", ReadKind.ATTACHMENT, case.reference, "ho-so.pdf"),
                       ("inspector", ReadKind.LETTER, case.reference, "supplement_letter")]
    # The owner's handler downloads the same file and prints the same letter for the applicant: no record.
    specialist = signed_in("specialist")
    specialist.get(reverse("attachment-download", args=[case.reference, attachment.pk]))
    specialist.get(reverse("supplement-letter", args=[case.reference]))
    assert len(reads()) == 2


def test_a_refused_or_missing_read_records_nothing(signed_in, stages):
    case = stages.in_progress()
    # Outside the case's units and not an overseer: the case is 404 to them, and nothing was read.
    assert signed_in("outsider_specialist").get(reverse("case-detail", args=[case.reference])).status_code == 404
    assert signed_in("inspector").get(reverse("case-detail", args=["HS-NONE"])).status_code == 404
    assert reads() == []


def test_the_api_records_as_the_page_does(city, consulted_case, media_root):
    attachment = attachment_add(case=consulted_case, actor=city.user("specialist"), upload=pdf_upload("don.pdf"))
    for role in ("inspector", "specialist", "consulted_specialist"):
        client = Client(HTTP_AUTHORIZATION=f"Token {issue_token(city.user(role))}")
        assert client.get(f"/api/v1/cases/{consulted_case.reference}/").status_code == 200
        download = f"/api/v1/cases/{consulted_case.reference}/attachments/{attachment.pk}/download/"
        assert client.get(download).status_code == 200
    assert reads() == [("inspector", ReadKind.CASE_DETAIL, consulted_case.reference, ""),
                       ("inspector", ReadKind.ATTACHMENT, consulted_case.reference, "don.pdf")]
    # A list shows no one's contact details: it is not a read of personal data.
    Client(HTTP_AUTHORIZATION=f"Token {issue_token(city.user('inspector'))}").get("/api/v1/cases/")
    assert len(reads()) == 2


def test_every_export_is_recorded_whoever_asks(signed_in, stages):
    stages.in_progress()
    head = signed_in("head")
    response = head.get(reverse("overdue-desk-export", args=["csv"]), {"q": "xây dựng"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    home_affairs = signed_in("home_affairs")
    assert home_affairs.get(reverse("report-departments-export", args=["xlsx"])).status_code == 200
    assert [(reader, kind) for reader, kind, _subject, _item in reads()] == [
        ("head", ReadKind.EXPORT), ("home_affairs", ReadKind.EXPORT)]
    first = PersonalDataRead.objects.order_by("id").first()
    assert first.subject == reverse("overdue-desk-export", args=["csv"])
    assert "q=" in first.query
    # A file that is not handed out (an unknown format) is not an export.
    assert head.get(reverse("overdue-desk-export", args=["pdf"])).status_code == 404
    assert len(reads()) == 2


def test_the_record_is_listed_for_admins_only_and_cannot_be_changed(signed_in, consulted_case):
    signed_in("inspector").get(reverse("case-detail", args=[consulted_case.reference]))
    listing = reverse("admin:core_personaldataread_changelist")
    page = signed_in("admin").get(listing)
    assert page.status_code == 200
    assert consulted_case.reference in page.content.decode()
    row = PersonalDataRead.objects.get()
    assert signed_in("admin").post(reverse("admin:core_personaldataread_delete", args=[row.pk]),
                                   {"post": "yes"}).status_code == 403
    assert PersonalDataRead.objects.count() == 1
    # An inspector, who reads from outside, does not see who else read.
    assert signed_in("inspector").get(listing).status_code in (302, 403)
