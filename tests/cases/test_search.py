"""One search over a case's reference, title, applicant and description, insensitive to case and to Vietnamese
diacritics (đ = d), every word required, the best match first; the PIN too, for the intake desk only. The
queue, the overdue desk, the consultation inbox's desk and the API's `?q=` all use it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import Case
from cases.services import case_correct
from core.text import words


@pytest.fixture
def three(log_case):
    return {
        "bao": log_case(title="Xin cấp phép xây dựng nhà ở tại Vĩnh Bảo", applicant_name="Đỗ Thị Hằng"),
        "dong": log_case(title="Cấp phép sửa chữa nhà số 3 Đông Khê", applicant_name="Nguyễn Văn An",
                         description="Nhà ở riêng lẻ hai tầng, giáp chợ Vĩnh Niệm"),
        "other": log_case(title="Cấp phép xây dựng công trình tạm", applicant_name="Trần Văn Bình"),
    }


def found(queryset, text, **kwargs):
    return [case.title for case in queryset.search(text, **kwargs)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Vĩnh Bảo", "bao"), ("vinh bao", "bao"), ("VINH BAO", "bao"), ("do thi hang", "bao"),
    ("Đỗ Thị Hằng", "bao"), ("dong khe", "dong"), ("  dong   KHE ", "dong"), ("cho vinh niem", "dong"),
])
def test_case_and_diacritics_do_not_matter(three, text, expected):
    assert found(Case.unscoped.all(), text) == [three[expected].title]


def test_every_word_must_be_found_somewhere_in_the_case(three):
    assert found(Case.unscoped.all(), "vinh bao hang") == [three["bao"].title]
    assert found(Case.unscoped.all(), "vinh bao binh") == []


def test_the_exact_reference_and_then_the_phrase_come_first(three, log_case):
    named = log_case(title="Kiến nghị về xây tường rào", description="Chủ nhà chưa dựng biển báo thi công")
    # Every case of this unit carries "xay dung"; the one whose title has the words together comes before the
    # one that has them apart.
    listed = found(Case.unscoped.all(), "xay dung")
    assert set(listed) == {three["bao"].title, three["other"].title, named.title}
    assert listed[-1] == named.title  # it has "xây" and "dựng", but not side by side
    assert found(Case.unscoped.all(), three["dong"].reference) == [three["dong"].title]
    assert found(Case.unscoped.all(), three["dong"].reference.lower()) == [three["dong"].title]


def test_the_pin_finds_a_case_only_when_asked_for(three):
    pin = three["dong"].pin
    assert found(Case.unscoped.all(), pin) == []
    assert found(Case.unscoped.all(), pin, pin=True) == [three["dong"].title]


def test_a_search_of_no_word_is_the_whole_list(three):
    assert Case.unscoped.search("  ").count() == Case.unscoped.search("").count() == 3


def test_a_corrected_title_is_found_under_its_new_words(city, three):
    case = three["other"]
    case_correct(case=case, actor=city.user("admin"), title="Cấp phép xây dựng trạm biến áp Hải An")

    assert found(Case.unscoped.all(), "tram bien ap") == ["Cấp phép xây dựng trạm biến áp Hải An"]
    case.refresh_from_db()
    assert case.search_text == " ".join(words(f"{case.reference} Cấp phép xây dựng trạm biến áp Hải An "
                                              f"{case.applicant_name} {case.description}"))


def test_saving_without_the_searched_fields_leaves_the_search_text(three):
    case = Case.unscoped.defer("description").get(pk=three["bao"].pk)
    case.key_task = True
    case.save(update_fields=["key_task"])
    assert Case.unscoped.get(pk=case.pk).search_text == three["bao"].search_text


# The pages and the API -------------------------------------------------------------------------------------


def listed_references(response):
    return [case.reference for case in response.context["page"]]


def test_the_queue_finds_without_diacritics(signed_in, three):
    response = signed_in("head").get(reverse("case-list"), {"q": "vinh bao"})
    assert listed_references(response) == [three["bao"].reference]


def test_the_clerk_lists_every_case_her_unit_received_and_finds_one_by_pin(signed_in, city, three, stages):
    resolved = stages.resolved(title="Cấp phép cải tạo nhà số 9 Cầu Đất")
    triage = stages.triage(title="Đơn kiến nghị về lấn chiếm vỉa hè")
    client = signed_in("clerk")

    everything = listed_references(client.get(reverse("case-list")))
    assert set(everything) >= {resolved.reference, triage.reference, *(c.reference for c in three.values())}
    assert everything[0] == triage.reference  # the latest received first
    assert listed_references(client.get(reverse("case-list"), {"q": three["dong"].pin})) == [
        three["dong"].reference]
    assert listed_references(client.get(reverse("case-list"), {"q": three["dong"].reference})) == [
        three["dong"].reference]


def test_a_head_cannot_find_a_case_by_its_pin(signed_in, three):
    response = signed_in("head").get(reverse("case-list"), {"q": three["dong"].pin})
    assert listed_references(response) == []


def test_the_queue_search_costs_the_same_for_any_number_of_words(signed_in, three):
    client = signed_in("head")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("case-list"), {"q": "nha"})
    with CaptureQueriesContext(connection) as three_words:
        client.get(reverse("case-list"), {"q": "cap phep nha"})
    assert len(one) == len(three_words)


def test_the_api_searches_the_same_way(api, three):
    response = api("head").get("/api/v1/cases/", {"q": "dong khe"})
    assert [row["reference"] for row in response.json()["results"]] == [three["dong"].reference]
    by_pin = api("clerk").get("/api/v1/cases/", {"q": three["dong"].pin})
    assert [row["reference"] for row in by_pin.json()["results"]] == [three["dong"].reference]
    assert api("head").get("/api/v1/cases/", {"q": three["dong"].pin}).json()["results"] == []


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_answers_from_the_full_text_index_the_migration_made(three):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'case_search_words'")
        [(definition,)] = cursor.fetchall()
        assert "gin (to_tsvector('simple'::regconfig, search_text))" in definition
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Case.unscoped.search("vinh bao").values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "case_search_words" in plan


def test_what_is_typed_is_never_read_as_query_syntax(three):
    for text in ("vinh & | ! bao", "bao:*", "'; DROP TABLE x; --", "(vinh) <-> bao", "\\", "_"):
        list(Case.unscoped.search(text))  # no error, whatever the database
    assert found(Case.unscoped.all(), "vinh & bao") == [three["bao"].title]
