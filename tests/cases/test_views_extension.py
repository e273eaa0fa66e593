"""The extension and the key-task flag from the case's page, and the printable apology letter with the new
date (phiếu xin lỗi và hẹn lại ngày trả kết quả; Form 04 of Circular 01/2018/TT-VPCP), always in Vietnamese.

Dates are fixed with the `clock` fixture: received Monday 2 June 2025, due Monday 23 June, extended on
Wednesday 18 June to Monday 30 June.
"""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.models import EventAction, Source, Status
from cases.services import case_extend, case_set_key_task
from tests.support.cases import footprint, last_event_id
from tests.support.world import local_datetime

RECEIVED = local_datetime(2025, 6, 2, 9)
ASKED = local_datetime(2025, 6, 18, 10)
REASON = "Chờ kết quả kiểm tra hiện trạng công trình"


def action_url(case, action):
    return reverse("case-action", args=[case.reference, action])


def detail_url(case):
    return reverse("case-detail", args=[case.reference])


def letter_url(case):
    return reverse("extension-letter", args=[case.reference])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


def offered(client, case) -> set[str]:
    return {action["slug"] for action in client.get(detail_url(case)).context["actions"]}


def extend_data(case, due_date="2025-06-30", reason=REASON):
    return {"version": case.version, "due_date": due_date, "reason": reason}


@pytest.fixture
def received(stages, clock):
    """A citizen's dossier in progress, due Monday 23 June; the clock stands on Wednesday 18 June."""
    clock.set(RECEIVED)
    case = stages.in_progress(received_at=RECEIVED, applicant_name="Đỗ Thị Mai", applicant_contact="0904 111 222")
    clock.set(ASKED)
    return case


@pytest.fixture
def extended(city, received):
    return case_extend(case=received, actor=city.user("deputy"), due_date=dt.date(2025, 6, 30), reason=REASON)


# What the page offers whom ---------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "role", "extend", "key_task"), [
    ("routed", "head", True, True),
    ("in_progress", "deputy", True, True),
    ("submitted", "head", True, True),
    ("in_progress", "specialist", False, False),
    ("in_progress", "clerk", False, False),
    ("awaiting_supplement", "head", False, True),
    ("resolved", "head", False, False),
    ("in_progress", "city_office", False, True),
    ("triage", "city_office", False, True),
    ("resolved", "city_office", False, False),
    ("in_progress", "inspector", False, False),
    ("in_progress", "admin", False, False),
])
def test_the_page_offers_the_deadline_actions_to_whom_and_when(signed_in, stages, stage, role, extend, key_task):
    case = stages(stage)
    slugs = offered(signed_in(role), case)
    assert ("extend" in slugs, "key-task" in slugs) == (extend, key_task)


def test_the_extension_is_not_offered_twice(signed_in, extended):
    assert "extend" not in offered(signed_in("head"), extended)


def test_the_extend_form_has_a_date_picker_and_a_reason(signed_in, received):
    html = signed_in("head").get(detail_url(received), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    form = html.split('data-test="action-extend"')[1].split("</form>")[0]
    assert re.search(r'<input type="text" name="due_date"[^>]* min="2025-06-24"', form), form
    assert 'name="reason"' in form
    assert "23/06/2025" in form  # the help text names the current due date
    assert 'data-test="action-toggle-extend"' in html


def test_the_key_task_button_says_what_it_will_do(signed_in, city, received):
    client = signed_in("head")
    html = client.get(detail_url(received), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    form = html.split('data-test="action-key-task"')[1].split("</form>")[0]
    assert 'name="key_task" value="True"' in form
    assert "Mark as key task" in form
    assert 'data-test="key-task-badge"' not in html
    case_set_key_task(case=received, actor=city.user("head"), key_task=True)
    html = client.get(detail_url(received), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    form = html.split('data-test="action-key-task"')[1].split("</form>")[0]
    assert 'name="key_task" value="False"' in form
    assert "No longer a key task" in form
    assert 'data-test="key-task-badge"' in html


# Extending through the page --------------------------------------------------------------------------


def test_the_head_extends_and_the_page_shows_the_extension(signed_in, city, received):
    client = signed_in("head")
    response = client.post(action_url(received, "extend"), extend_data(received), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response.url == detail_url(received)
    assert messages_of(response) == [("success", f"The due date of case {received.reference} is now 30/06/2025.")]
    received.refresh_from_db()
    assert (received.due_date, received.due_date_before_extension, received.extended_by) == (
        dt.date(2025, 6, 30), dt.date(2025, 6, 23), city.user("head"))
    html = client.get(detail_url(received), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for text in ['data-test="extension-previous-due">23/06/2025<', 'data-test="extension-new-due">30/06/2025<',
                 f'data-test="extension-reason">{REASON}<', 'data-test="extension-by">Trần Văn Hùng<',
                 'data-test="extension-at">18/06/2025 10:00<', f'href="{letter_url(received)}"',
                 'data-action="extended"']:
        assert text in html, text


def test_an_agency_request_is_extended_without_an_apology_letter(signed_in, city, stages, clock):
    clock.set(RECEIVED)
    case = stages.in_progress(received_at=RECEIVED, source=Source.AGENCY)
    clock.set(ASKED)
    case_extend(case=case, actor=city.user("head"), due_date=dt.date(2025, 6, 30), reason=REASON)
    html = signed_in("head").get(detail_url(case)).content.decode()
    assert 'data-test="extension"' in html
    assert 'data-test="extension-letter-link"' not in html


def test_asking_on_the_due_day_is_refused_recorded_and_told(signed_in, city, clock, received):
    clock.set(local_datetime(2025, 6, 23, 9))
    before = footprint(received)
    response = signed_in("head").post(action_url(received, "extend"), extend_data(received), follow=True,
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert footprint(received) == before
    refusal = received.events.order_by("-id").first()
    assert (refusal.action, refusal.actor, refusal.payload["code"]) == (
        EventAction.REFUSED, city.user("head"), "extension_too_late")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Extend the deadline was refused" in text
    assert "only until one working day before it falls; this one falls on 23/06/2025" in text
    assert 'data-refusal="true"' in response.content.decode()


def test_a_second_extension_posted_anyway_is_refused(signed_in, extended):
    response = signed_in("head").post(action_url(extended, "extend"), extend_data(extended, "2025-07-07"),
                                      HTTP_ACCEPT_LANGUAGE="en")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "already moved once, on 18/06/2025, to 30/06/2025" in text
    extended.refresh_from_db()
    assert extended.due_date == dt.date(2025, 6, 30)


@pytest.mark.parametrize(("due_date", "told"), [
    ("2025-06-28", "New due date: 28/06/2025 is not a working day."),
    ("2025-06-20", "New due date: The new date must come after the current due date, 23/06/2025."),
    ("20/06/2025", "New due date: The new date must come after the current due date, 23/06/2025."),
    ("06/30/2025", "New due date: Enter a valid date."),
    ("", "New due date: This field is required."),
])
def test_a_bad_new_date_is_told_on_its_field_and_changes_nothing(signed_in, received, due_date, told):
    before, last = footprint(received), last_event_id(received)
    response = signed_in("head").post(action_url(received, "extend"), extend_data(received, due_date),
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert (footprint(received), last_event_id(received)) == (before, last)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text == f"Extend the deadline was not done: {told}"


def test_a_date_written_by_hand_the_vietnamese_way_is_read_day_first(signed_in, received):
    signed_in("head").post(action_url(received, "extend"), extend_data(received, "01/07/2025"))
    received.refresh_from_db()
    assert received.due_date == dt.date(2025, 7, 1)


def test_a_reason_is_required(signed_in, received):
    response = signed_in("deputy").post(action_url(received, "extend"), extend_data(received, reason="  "),
                                        HTTP_ACCEPT_LANGUAGE="en")
    [(level, text)] = messages_of(response)
    assert (level, text) == ("error", "Extend the deadline was not done: Reason for the delay: This field is "
                                      "required.")


@pytest.mark.parametrize(("role", "status"), [("specialist", 403), ("clerk", 403), ("outsider_head", 404)])
def test_others_get_403_or_404_and_nothing_is_recorded(signed_in, received, role, status):
    before, last = footprint(received), last_event_id(received)
    assert signed_in(role).post(action_url(received, "extend"), extend_data(received)).status_code == status
    assert (footprint(received), last_event_id(received)) == (before, last)


def test_an_overseer_is_refused_as_not_the_owner(signed_in, city, received):
    signed_in("inspector").post(action_url(received, "extend"), extend_data(received))
    refusal = received.events.order_by("-id").first()
    assert (refusal.actor, refusal.payload["code"], refusal.payload["attempted"]) == (
        city.user("inspector"), "not_owner", "extend")


# The key-task flag through the page ------------------------------------------------------------------


def test_the_city_office_marks_and_the_head_unmarks_a_key_task(signed_in, city, received):
    response = signed_in("city_office").post(action_url(received, "key-task"),
                                             {"version": received.version, "key_task": "True"},
                                             HTTP_ACCEPT_LANGUAGE="en")
    assert messages_of(response) == [("success", f"Case {received.reference} is marked as a key task.")]
    received.refresh_from_db()
    assert received.key_task
    response = signed_in("head").post(action_url(received, "key-task"),
                                      {"version": received.version, "key_task": "False"}, HTTP_ACCEPT_LANGUAGE="en")
    # The first message was never shown (no page was read in between): the new one comes last.
    assert messages_of(response)[-1] == ("success", f"Case {received.reference} is no longer a key task.")
    received.refresh_from_db()
    assert not received.key_task
    assert [event.actor.username for event in received.events.filter(
        action__in=[EventAction.KEY_TASK_SET, EventAction.KEY_TASK_CLEARED]).order_by("id")] == [
        "city_office", "head"]


def test_a_marked_key_task_leads_the_units_queue(signed_in, city, stages):
    first, second = stages.in_progress(), stages.in_progress()
    client = signed_in("head")
    client.post(action_url(second, "key-task"), {"version": second.version, "key_task": "True"})
    page = client.get(reverse("case-list")).context["page"]
    assert [case.reference for case in page][:2] == [second.reference, first.reference]


@pytest.mark.parametrize("role", ["specialist", "inspector", "consulted_head", "admin"])
def test_those_who_may_not_mark_get_403_and_nothing_is_recorded(signed_in, consulting, role):
    case = consulting.case()
    consulting.ask(case)  # the consulted unit sees the case, read-only
    case.refresh_from_db()
    before, last = footprint(case), last_event_id(case)
    response = signed_in(role).post(action_url(case, "key-task"), {"version": case.version, "key_task": "True"})
    assert response.status_code == 403
    assert (footprint(case), last_event_id(case)) == (before, last)


@pytest.mark.parametrize("value", ["", "perhaps"])
def test_a_key_task_post_that_does_not_say_changes_nothing(signed_in, received, value):
    before, last = footprint(received), last_event_id(received)
    data = {"version": received.version, **({"key_task": value} if value else {})}
    response = signed_in("head").post(action_url(received, "key-task"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert (footprint(received), last_event_id(received)) == (before, last)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "reload it" in text


def test_a_resolved_case_is_refused_and_recorded(signed_in, stages):
    case = stages.resolved()
    response = signed_in("head").post(action_url(case, "key-task"), {"version": case.version, "key_task": "True"})
    assert [level for level, _text in messages_of(response)] == ["error"]
    assert case.events.order_by("-id").first().payload["code"] == "invalid_transition"


@pytest.mark.parametrize("action", ["extend", "key-task"])
def test_wrong_method_and_anonymous(signed_in, received, action):
    assert signed_in("head").get(action_url(received, action)).status_code == 405
    response = signed_in("anonymous").post(action_url(received, action), {"version": received.version})
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# The letter ------------------------------------------------------------------------------------------


def test_the_letter_apologises_with_the_reason_and_the_new_date(signed_in, extended):
    response = signed_in("specialist").get(letter_url(extended))
    assert response.status_code == 200
    html = response.content.decode()
    for text in [f'data-test="letter-reference">{extended.reference}<', 'data-test="letter-applicant">Đỗ Thị Mai<',
                 'data-test="letter-received-on">02/06/2025<', 'data-test="letter-previous-due">23/06/2025<',
                 'data-test="letter-new-due">30/06/2025<', f'data-test="letter-reason">{REASON}<',
                 "Xin cấp phép xây dựng nhà ở riêng lẻ", "UBND THÀNH PHỐ", 'data-test="letter-unit">SỞ XÂY DỰNG<',
                 'data-test="letter-owner">Sở Xây dựng<', "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", 'data-test="letter-signer">Lê Thị Hoa<']:
        assert text in html, text
    # Dated the day of the extension, and the apology itself names the new date.
    assert "Ngày 18 tháng 06 năm 2025" in html.split('data-test="letter-date"')[1].split("</div>")[0]
    assert "30/06/2025" in html.split('data-test="letter-apology"')[1].split("</p>")[0]


def test_the_letter_is_in_vietnamese_whatever_the_readers_language(signed_in, extended):
    response = signed_in("head").get(letter_url(extended), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response["Content-Language"] == "vi"
    assert '<html lang="vi">' in html
    for label in ["Mã hồ sơ", "Kính gửi", "Loại công việc", "Thời điểm tiếp nhận", "Lý do", "In phiếu"]:
        assert label in html, label
    detail = signed_in("head").get(detail_url(extended), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en">' in detail.content.decode()


def test_the_letter_prints_without_inline_script(signed_in, extended):
    html = signed_in("head").get(letter_url(extended)).content.decode()
    assert 'data-print data-test="print"' in html
    assert re.search(r'<script src="/static/js/print\.js" defer></script>', html)
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_the_letter_reads_a_fixed_number_of_rows(signed_in, extended, django_assert_max_num_queries):
    client = signed_in("head")
    client.get(letter_url(extended))  # warm the per-process caches
    # The session, the user, the membership with its unit, the case with its units and the one who extended
    # it, and the navigation bar's two counts (unread notices, open consultations).
    with django_assert_max_num_queries(6):
        assert client.get(letter_url(extended)).status_code == 200


@pytest.mark.parametrize("role", ["specialist", "head", "clerk", "inspector", "city_office", "home_affairs", "admin"])
def test_those_who_see_the_case_open_the_letter(signed_in, extended, role):
    assert signed_in(role).get(letter_url(extended)).status_code == 200


@pytest.mark.parametrize("role", ["outsider_head", "consulted_head", "nobody"])
def test_anyone_else_gets_404(signed_in, extended, role):
    assert signed_in(role).get(letter_url(extended)).status_code == 404


def test_no_letter_before_an_extension(signed_in, received):
    assert signed_in("head").get(letter_url(received)).status_code == 404


@pytest.mark.parametrize("source", [Source.AGENCY, Source.CITY_ASSIGNMENT])
def test_no_letter_for_a_dossier_that_is_not_a_citizens(signed_in, city, stages, clock, source):
    clock.set(RECEIVED)
    case = stages.in_progress(received_at=RECEIVED, source=source)
    clock.set(ASKED)
    case_extend(case=case, actor=city.user("head"), due_date=dt.date(2025, 6, 30), reason=REASON)
    assert signed_in("head").get(letter_url(case)).status_code == 404


def test_the_letter_outlives_the_resolution(signed_in, city, extended):
    from cases.services import case_resolve

    case_resolve(case=extended, actor=city.user("head"), note="Đã cấp giấy phép")
    extended.refresh_from_db()
    assert extended.status == Status.RESOLVED
    assert signed_in("specialist").get(letter_url(extended)).status_code == 200


def test_anonymous_is_sent_to_login(signed_in, extended):
    response = signed_in("anonymous").get(letter_url(extended))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method(signed_in, extended, method):
    assert getattr(signed_in("head"), method)(letter_url(extended)).status_code == 405


# The detail page's cost ------------------------------------------------------------------------------


def test_the_extension_block_costs_at_most_one_more_query(signed_in, city, stages, clock):
    """The one extra read is the person who extended, whom the detail page does not select with the case."""
    clock.set(RECEIVED)
    plain = stages.in_progress(received_at=RECEIVED)
    moved = stages.in_progress(received_at=RECEIVED)
    clock.set(ASKED)
    case_extend(case=moved, actor=city.user("head"), due_date=dt.date(2025, 6, 30), reason=REASON)
    client = signed_in("head")
    counts = {}
    for case in (plain, moved):
        client.get(detail_url(case))  # warm the routing index and the calendar
        with CaptureQueriesContext(connection) as queries:
            client.get(detail_url(case))
        counts[case.pk] = len(queries)
    assert counts[moved.pk] - counts[plain.pk] <= 1, counts
