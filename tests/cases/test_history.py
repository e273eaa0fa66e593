"""A case's history in words (cases.history): every row names the people and units involved, in the reader's
language, from the event's codes and values; a refusal recorded while someone used English reads in
Vietnamese for a Vietnamese reader; two queries for any length of history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cases.history import history
from cases.inputs import UnitDirectory
from cases.models import EventAction
from cases.services import case_assign, case_return, case_transfer
from tests.support.cases import assert_refused


def rows_of(case, action=None):
    rows = history(case.events.order_by("id"), UnitDirectory())
    return [row for row in rows if action is None or row.event.action == action]


def test_an_assignment_says_to_whom_and_instead_of_whom(city, stages):
    case = stages.in_progress()
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))

    with translation.override("vi"):
        [accepted] = rows_of(case, EventAction.ACCEPTED)
        [assigned] = rows_of(case, EventAction.ASSIGNED)
    assert accepted.detail == "Giao cho Phạm Minh Tuấn"
    assert assigned.detail == "Giao cho Lê Thị Hoa, thay Phạm Minh Tuấn"


def test_a_transfer_and_a_return_name_both_sides(city, stages):
    back = stages.routed()
    moved = stages.misrouted("in_progress")  # the rules give both to the outsider unit from now on
    case_transfer(case=moved, actor=city.user("head"), to=city.outsider, reason="Thuộc thẩm quyền Sở Tài chính")
    case_return(case=back, actor=city.user("head"), reason="Không thuộc chức năng của Sở")

    with translation.override("vi"):
        [transfer] = rows_of(moved, EventAction.TRANSFERRED)
        [returned] = rows_of(back, EventAction.RETURNED)
    assert transfer.units == f"{city.owner.name} → {city.outsider.name}"
    assert transfer.detail.startswith("Hạn xử lý ")
    assert transfer.note == "Thuộc thẩm quyền Sở Tài chính"
    assert returned.units == f"{city.owner.name} → bộ phận tiếp nhận"


def test_an_answer_names_its_unit_without_a_dangling_arrow(city, consulting):
    case = consulting.case()
    [consultation] = consulting.ask(case)
    consulting.answer(consultation, "disagree", "Chưa đánh giá tác động môi trường")

    with translation.override("vi"):
        [asked] = rows_of(case, EventAction.CONSULTED)
        [answer] = rows_of(case, EventAction.CONSULTATION_ANSWERED)
    assert answer.units == city.consulted.name
    assert answer.detail == "Không thống nhất"
    assert answer.note == "Chưa đánh giá tác động môi trường"
    assert asked.detail.startswith(f"Xin ý kiến: {city.consulted.name} (bắt buộc); hạn trả lời ")


def test_a_refusal_made_in_english_reads_in_the_readers_language(city, stages):
    case = stages.in_progress()
    with translation.override("en"):
        assert_refused(case_transfer, code="within_own_authority", attempted="transfer", case=case,
                       actor=city.user("head"), to=city.outsider, reason="Đẩy việc")

    [refusal] = rows_of(case, EventAction.REFUSED)
    assert "authority rules" in refusal.event.note  # stored as the English reader saw it
    with translation.override("vi"):
        [refusal] = rows_of(case, EventAction.REFUSED)
    assert refusal.note == ""
    assert refusal.detail == (f"Đẩy việc thuộc thẩm quyền của mình — đã thử: Chuyển cơ quan có thẩm quyền — "
                              f"đến {city.outsider.name}")
    with translation.override("en"):
        [refusal] = rows_of(case, EventAction.REFUSED)
    assert refusal.detail.startswith("Passing on work within own authority — tried: ")


def test_the_history_costs_two_queries_however_long(city, stages):
    short = stages.in_progress()
    long = stages.in_progress()
    for name in ("deputy", "specialist", "deputy", "specialist", "deputy"):
        long = case_assign(case=long, actor=city.user("head"), assignee=city.user(name))
    units = UnitDirectory()
    counts = []
    for case in (short, long):
        events = list(case.events.all())
        with CaptureQueriesContext(connection) as queries:
            history(events, units)
        counts.append(len(queries))
    assert counts == [1, 1]  # the people the events name; the units come with the page


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_case_page_shows_the_rows_in_words(signed_in, city, stages, language):
    case = stages.in_progress()
    case_assign(case=case, actor=city.user("head"), assignee=city.user("deputy"))

    html = signed_in("head").get(reverse("case-detail", args=[case.reference]),
                                 HTTP_ACCEPT_LANGUAGE=language).content.decode()

    expected = {"vi": "Giao cho Lê Thị Hoa, thay Phạm Minh Tuấn", "en": "To Lê Thị Hoa, instead of Phạm Minh Tuấn"}
    assert expected[language] in html
