"""Asking the applicant to complete the dossier from the case's page, and the printable request letter
(phiếu yêu cầu bổ sung, hoàn thiện hồ sơ; Form 02 of Circular 01/2018/TT-VPCP), always in Vietnamese.

Dates are fixed with the `clock` fixture: received Monday 2 June 2025, asked Wednesday 4 June 2025.
"""

import re

import pytest
from django.urls import reverse

from cases.models import Status
from cases.services import case_complete_supplement, case_request_supplement
from tests.support.cases import footprint
from tests.support.world import local_datetime

RECEIVED = local_datetime(2025, 6, 2, 9)
ASKED = local_datetime(2025, 6, 4, 10)
ITEMS = "- Bản vẽ mặt bằng có chữ ký của chủ đầu tư\n\n• Giấy chứng nhận quyền sử dụng đất (bản sao chứng thực)\n"


def action_url(case, action):
    return reverse("case-action", args=[case.reference, action])


def letter_url(case):
    return reverse("supplement-letter", args=[case.reference])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


@pytest.fixture
def received(stages, clock):
    clock.set(RECEIVED)
    return stages.in_progress(received_at=RECEIVED, applicant_name="Đỗ Thị Mai", applicant_contact="0904 111 222")


@pytest.fixture
def asked(city, clock, received):
    clock.set(ASKED)
    return case_request_supplement(case=received, actor=city.user("head"), items=ITEMS)


def test_the_handler_asks_and_then_marks_the_dossier_complete(signed_in, clock, received):
    case = received
    clock.set(ASKED)
    client = signed_in("specialist")
    response = client.post(action_url(case, "request-supplement"), {"version": case.version, "items": ITEMS})
    assert [level for level, _text in messages_of(response)] == ["success"]
    case.refresh_from_db()
    assert (case.status, case.supplement_items) == (Status.AWAITING_SUPPLEMENT, ITEMS.strip())
    html = client.get(reverse("case-detail", args=[case.reference])).content.decode()
    for text in ['data-test="supplement"', "04/06/2025 10:00", "Bản vẽ mặt bằng có chữ ký của chủ đầu tư",
                 f'href="{letter_url(case)}"', 'data-test="action-complete-supplement"']:
        assert text in html, text
    # The department's queue finds it by its status.
    queue = client.get(reverse("case-list"), {"status": Status.AWAITING_SUPPLEMENT})
    assert [row.reference for row in queue.context["page"]] == [case.reference]

    clock.set(local_datetime(2025, 6, 9, 14))
    client = signed_in("specialist")  # five days later: the morning's session has ended
    client.post(action_url(case, "complete-supplement"), {"version": case.version, "note": "Công dân đã nộp đủ"})
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
    html = client.get(reverse("case-detail", args=[case.reference])).content.decode()
    assert "09/06/2025 14:00" in html
    assert 'data-test="action-request-supplement"' not in html  # once only


def test_asking_too_late_is_refused_and_recorded(signed_in, clock, received):
    case = received
    clock.set(local_datetime(2025, 6, 9, 9))  # five working days after receipt
    before = footprint(case)
    response = signed_in("specialist").post(action_url(case, "request-supplement"),
                                            {"version": case.version, "items": ITEMS}, HTTP_ACCEPT_LANGUAGE="en")
    assert footprint(case) == before
    assert case.events.order_by("-id").first().payload["code"] == "supplement_too_late"
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "within 3 working days of receipt" in text


# The letter ---------------------------------------------------------------------------------------------


def test_the_letter_names_the_dossier_the_applicant_and_everything_missing(signed_in, asked):
    response = signed_in("specialist").get(letter_url(asked))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [f'data-test="letter-reference">{asked.reference}<', 'data-test="letter-applicant">Đỗ Thị Mai<',
                 "0904 111 222", "Xin cấp phép xây dựng nhà ở riêng lẻ", "Cấp giấy phép xây dựng",
                 'data-test="letter-received-on">02/06/2025<', "UBND THÀNH PHỐ",
                 'data-test="letter-receiving-unit">SỞ XÂY DỰNG<', 'data-test="letter-owner">Sở Xây dựng<',
                 "04/06/2025", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 # The one who asked signs, though the specialist is the assignee.
                 'data-test="letter-handler">Trần Văn Hùng<']:
        assert text in html, text
    items = re.findall(r"<li>(.*?)</li>", html.split('data-test="letter-items"')[1].split("</ol>")[0])
    assert items == ["Bản vẽ mặt bằng có chữ ký của chủ đầu tư",
                     "Giấy chứng nhận quyền sử dụng đất (bản sao chứng thực)"]


def test_the_letter_is_in_vietnamese_whatever_the_readers_language(signed_in, asked):
    response = signed_in("specialist").get(letter_url(asked), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response["Content-Language"] == "vi"
    assert '<html lang="vi">' in html
    for label in ["Mã hồ sơ", "Loại công việc", "Thời điểm tiếp nhận", "Đơn vị tiếp nhận", "Thông tin liên hệ"]:
        assert label in html, label
    # The reader's own pages stay in their language.
    detail = signed_in("specialist").get(reverse("case-detail", args=[asked.reference]), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in detail.content.decode()


def test_the_letter_prints_without_inline_script(signed_in, asked):
    html = signed_in("specialist").get(letter_url(asked)).content.decode()
    assert 'data-print data-test="print"' in html
    assert re.search(r'<script src="/static/js/print\.js" defer></script>', html)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "navbar-cityops d-print-none" in html


@pytest.mark.parametrize("role", ["specialist", "head", "clerk", "inspector", "city_office", "home_affairs", "admin"])
def test_those_who_see_the_case_open_the_letter(signed_in, asked, role):
    assert signed_in(role).get(letter_url(asked)).status_code == 200


@pytest.mark.parametrize("role", ["outsider_head", "consulted_head", "nobody"])
def test_anyone_else_gets_404(signed_in, asked, role):
    assert signed_in(role).get(letter_url(asked)).status_code == 404


def test_no_letter_before_a_supplement_was_asked(signed_in, received):
    assert signed_in("specialist").get(letter_url(received)).status_code == 404


def test_the_letter_outlives_the_completion(signed_in, city, clock, asked):
    case_complete_supplement(case=asked, actor=city.user("specialist"))
    assert signed_in("specialist").get(letter_url(asked)).status_code == 200


def test_anonymous_is_sent_to_login(signed_in, asked):
    response = signed_in("anonymous").get(letter_url(asked))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method(signed_in, asked, method):
    assert getattr(signed_in("specialist"), method)(letter_url(asked)).status_code == 405

