"""A case's files from its page: uploaded by the owner and the intake desk, judged by the service (size and
type by content), listed on the case and handed back only to those who see the case."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Attachment, EventAction
from tests.support.cases import PDF_BYTES, docx_bytes, last_event_id, png_bytes, stored_files


def upload_url(case):
    return reverse("case-action", args=[case.reference, "attachments"])


def download_url(case, attachment):
    return reverse("attachment-download", args=[case.reference, attachment.pk])


def upload(name="bien-ban-kiem-tra.pdf", content=PDF_BYTES, declared="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=declared)


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


@pytest.fixture
def case(stages, media_root):
    return stages.routed()


@pytest.mark.parametrize("role", ["specialist", "head", "clerk"])
def test_the_owner_and_the_intake_desk_add_files(signed_in, city, case, role, media_root):
    response = signed_in(role).post(upload_url(case), {"file": upload()})
    assert response.status_code == 302
    assert response.url == reverse("case-detail", args=[case.reference])
    attachment = Attachment.objects.get(case=case)
    assert (attachment.original_name, attachment.content_type, attachment.size, attachment.uploaded_by) == (
        "bien-ban-kiem-tra.pdf", "application/pdf", len(PDF_BYTES), city.user(role))
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert case.events.order_by("-id").first().action == EventAction.ATTACHMENT_ADDED
    assert len(stored_files(media_root)) == 1
    assert [level for level, _text in messages_of(response)] == ["success"]


def test_the_case_lists_its_files(signed_in, city, case):
    client = signed_in("specialist")
    client.post(upload_url(case), {"file": upload("Biên bản kiểm tra hiện trạng.pdf")})
    client.post(upload_url(case), {"file": upload("ban-ve.png", png_bytes(), "image/png")})
    html = client.get(reverse("case-detail", args=[case.reference]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    pdf, png = Attachment.objects.filter(case=case).order_by("id")
    for text in ["Biên_bản_kiểm_tra_hiện_trạng.pdf", "ban-ve.png", "application/pdf", "image/png",
                 f">{pdf.sha256[:12]}</code>", f'title="{pdf.sha256}"', "Phạm Minh Tuấn",
                 f'href="{download_url(case, pdf)}"', f'href="{download_url(case, png)}"', f"{len(PDF_BYTES)}"]:
        assert text in html, text
    assert html.count('data-test="attachment"') == 2


@pytest.mark.parametrize("role", ["inspector", "city_office", "home_affairs", "admin"])
def test_overseers_read_files_but_may_not_add_them(signed_in, case, role, media_root):
    last = last_event_id(case)
    client = signed_in(role)
    assert client.post(upload_url(case), {"file": upload()}).status_code == 403
    # Before the input is even read: an empty post is the same "may not".
    assert client.post(upload_url(case), {}).status_code == 403
    assert not Attachment.objects.filter(case=case).exists()
    assert stored_files(media_root) == []
    assert last_event_id(case) == last


def test_an_outsider_gets_404(signed_in, case, media_root):
    assert signed_in("outsider_head").post(upload_url(case), {"file": upload()}).status_code == 404
    assert stored_files(media_root) == []


def test_anonymous_is_sent_to_login(signed_in, case, media_root):
    response = signed_in("anonymous").post(upload_url(case), {"file": upload()})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert stored_files(media_root) == []


def test_upload_wrong_method(signed_in, case):
    assert signed_in("specialist").get(upload_url(case)).status_code == 405


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("bien-ban.pdf", b"Just some text, not a PDF at all.\n", "Only PDF, JPEG, PNG"),
    ("ban-ve.pdf", png_bytes(), "its content is image/png"),
    ("to-trinh.exe", PDF_BYTES, "its content is application/pdf"),
    ("to-trinh.docx", docx_bytes()[:40], "Only PDF, JPEG, PNG"),
])
def test_a_file_whose_content_is_not_an_accepted_type_is_refused(signed_in, case, media_root, name, content,
                                                                  expected):
    last = last_event_id(case)
    response = signed_in("specialist").post(upload_url(case), {"file": upload(name, content)},
                                            HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Add a file was not done: File: ")
    assert expected in text
    assert not Attachment.objects.filter(case=case).exists()
    assert stored_files(media_root) == []
    assert last_event_id(case) == last


def test_a_file_over_the_size_limit_is_refused(signed_in, case, media_root, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    response = signed_in("specialist").post(upload_url(case), {"file": upload()}, HTTP_ACCEPT_LANGUAGE="en")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "the limit is" in text
    assert not Attachment.objects.filter(case=case).exists()
    assert stored_files(media_root) == []


@pytest.mark.parametrize("data", [{}, {"file": SimpleUploadedFile("leer.pdf", b"")}])
def test_no_file_or_an_empty_one_is_refused(signed_in, case, media_root, data):
    response = signed_in("specialist").post(upload_url(case), data, HTTP_ACCEPT_LANGUAGE="en")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "File: " in text
    assert not Attachment.objects.filter(case=case).exists()


def test_the_form_hints_at_the_accepted_types_and_posts_multipart(signed_in, case):
    html = signed_in("specialist").get(reverse("case-detail", args=[case.reference])).content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'accept=".docx,.jpeg,.jpg,.ods,.odt,.pdf,.png,.xlsx"' in html


# Download -------------------------------------------------------------------------------------------------


@pytest.fixture
def attachment(signed_in, case):
    signed_in("specialist").post(upload_url(case), {"file": upload("Biên bản kiểm tra.pdf")})
    return Attachment.objects.get(case=case)


@pytest.mark.parametrize("role", ["specialist", "head", "clerk", "inspector", "city_office", "admin"])
def test_those_who_see_the_case_download_its_file(signed_in, case, attachment, role):
    response = signed_in(role).get(download_url(case, attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert "filename*=utf-8''Bi%C3%AAn_b%E1%BA%A3n_ki%E1%BB%83m_tra.pdf" in disposition


@pytest.mark.parametrize("role", ["outsider_head", "outsider_specialist", "nobody"])
def test_anyone_else_gets_404(signed_in, case, attachment, role):
    assert signed_in(role).get(download_url(case, attachment)).status_code == 404


def test_a_file_is_found_only_through_its_own_case(signed_in, stages, case, attachment):
    other = stages.routed(title="Hồ sơ khác")
    assert signed_in("specialist").get(download_url(other, attachment)).status_code == 404


def test_a_file_missing_from_storage_is_404_not_500(signed_in, case, attachment):
    attachment.file.storage.delete(attachment.file.name)
    assert signed_in("specialist").get(download_url(case, attachment)).status_code == 404


def test_download_anonymous_is_sent_to_login(signed_in, case, attachment):
    response = signed_in("anonymous").get(download_url(case, attachment))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_download_wrong_method(signed_in, case, attachment, method):
    assert getattr(signed_in("specialist"), method)(download_url(case, attachment)).status_code == 405
    assert Attachment.objects.filter(pk=attachment.pk).exists()
