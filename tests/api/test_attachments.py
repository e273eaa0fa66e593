"""A case's files over the API: added by the owner and the intake desk, read by whoever sees the case."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Attachment, CaseEvent
from cases.services import attachment_add
from tests.support.api import ROLES, URL, act
from tests.support.cases import PDF_BYTES

ATTACHMENT_FIELDS = {"id", "name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at", "url"}
SEES = {"head", "deputy", "specialist", "clerk", "city_office", "inspector", "home_affairs", "admin"}
MAY_ATTACH = {"head", "deputy", "specialist", "clerk"}
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"



@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def case(log_case):
    return log_case()


def files_url(case):
    return f"{URL}{case.reference}/attachments/"


def pdf(name="Biên bản kiểm tra.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def upload(client, case, file):
    return client.post(files_url(case), {"file": file}, format="multipart")


def stored(root):
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_specialist_attaches_a_pdf(api, case, media_root):
    response = upload(api("specialist"), case, pdf())

    assert response.status_code == 201
    data = response.json()
    assert set(data) == ATTACHMENT_FIELDS
    attachment = Attachment.objects.get()
    assert {key: data[key] for key in ("id", "name", "content_type", "size", "sha256", "uploaded_by")} == {
        "id": attachment.pk, "name": "Biên_bản_kiểm_tra.pdf", "content_type": "application/pdf",
        "size": len(PDF_BYTES), "sha256": attachment.sha256, "uploaded_by": "specialist"}
    assert data["url"] == f"http://testserver{files_url(case)}{attachment.pk}/download/"
    assert len(stored(media_root)) == 1
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.actor.username) == ("attachment_added", "specialist")


def test_the_list_and_the_case_detail_show_the_files(api, city, case):
    attachment_add(case=case, actor=city.user("clerk"), upload=pdf("don-de-nghi.pdf"))
    client = api("inspector")

    listed = client.get(files_url(case)).json()
    detail = client.get(f"{URL}{case.reference}/").json()

    assert set(listed) == {"count", "next", "previous", "results"}
    assert [row["name"] for row in listed["results"]] == ["don-de-nghi.pdf"]
    assert detail["attachments"] == listed["results"]


@pytest.mark.parametrize("role", ROLES)
def test_who_may_list_and_add_files(api, case, role, media_root):
    client = api(role)

    listed = client.get(files_url(case))
    added = upload(client, case, pdf())

    if role not in SEES:
        assert (listed.status_code, added.status_code) == (404, 404)
    else:
        assert listed.status_code == 200
        assert added.status_code == (201 if role in MAY_ATTACH else 403)
    assert Attachment.objects.count() == len(stored(media_root)) == (1 if role in MAY_ATTACH else 0)


def test_an_overseer_is_refused_before_the_input_is_judged(api, case):
    response = api("inspector").post(files_url(case), {}, format="multipart")

    assert response.status_code == 403


@pytest.mark.parametrize(("file", "why"), [
    (SimpleUploadedFile("ghi-chu.txt", b"chi la van ban", content_type="text/plain"), "not a listed type"),
    (SimpleUploadedFile("anh.png", PDF_BYTES, content_type="image/png"), "name and content disagree"),
    (SimpleUploadedFile("macro.pdf", b"MZ\x90\x00" + b"\x00" * 60, content_type="application/pdf"), "executable"),
    (SimpleUploadedFile("rong.pdf", b"", content_type="application/pdf"), "empty"),
])
def test_refused_types_are_400_on_file(api, case, media_root, file, why):
    response = upload(api("specialist"), case, file)

    assert response.status_code == 400, why
    assert "file" in response.json()
    assert not Attachment.objects.exists()
    assert stored(media_root) == []


def test_too_large_is_400_on_file(api, case, settings, media_root):
    settings.ATTACHMENT_MAX_BYTES = 100

    response = upload(api("specialist"), case, pdf())

    assert response.status_code == 400
    assert "MB" in response.json()["file"][0]
    assert stored(media_root) == []


def test_missing_file_or_json_body(api, case):
    client = api("specialist")

    assert client.post(files_url(case), {}, format="multipart").json().keys() == {"file"}
    assert client.post(files_url(case), {"file": "x"}, format="json").status_code == 415
    assert not Attachment.objects.exists()


def test_png_is_accepted(api, case):
    response = upload(api("clerk"), case, SimpleUploadedFile("ban-ve.PNG", PNG_BYTES, content_type="image/png"))

    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"


def download(client, case, attachment_id):
    return client.get(f"{files_url(case)}{attachment_id}/download/")


@pytest.mark.parametrize("role", ROLES)
def test_download_only_to_those_who_see_the_case(api, city, case, role):
    attachment = attachment_add(case=case, actor=city.user("specialist"), upload=pdf())

    response = download(api(role), case, attachment.pk)

    if role in SEES:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "Bi%C3%AAn_b%E1%BA%A3n_ki%E1%BB%83m_tra.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
    else:
        assert response.status_code == 404


def test_download_of_an_unknown_or_other_cases_file_is_404(api, city, case, log_case):
    other = log_case()
    theirs = attachment_add(case=other, actor=city.user("specialist"), upload=pdf())
    client = api("head")

    assert download(client, case, theirs.pk).status_code == 404
    assert download(client, case, theirs.pk + 1000).status_code == 404
    assert download(client, other, theirs.pk).status_code == 200


def test_a_missing_stored_file_is_404_not_500(api, city, case):
    attachment = attachment_add(case=case, actor=city.user("specialist"), upload=pdf())
    attachment.file.storage.delete(attachment.file.name)

    assert download(api("head"), case, attachment.pk).status_code == 404


def test_files_outlive_a_return_and_stay_readable_to_overseers(api, city, stages):
    case = stages.misrouted()
    attachment_add(case=case, actor=city.user("clerk"), upload=pdf())

    act(api("specialist"), case, "return", {"reason": "Không thuộc thẩm quyền"})

    assert api("specialist").get(files_url(case)).status_code == 404
    assert api("inspector").get(files_url(case)).json()["count"] == 1
