"""Cases in the admin: readable, clerically correctable, never moved, added or deleted there."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases.admin import CaseEventInline
from cases.models import Case, CaseEvent, EventAction, Status
from cases.services import case_accept


@pytest.fixture
def admin_client(client, city):
    client.force_login(city.user("admin"))
    return client


@pytest.fixture
def case(log_case):
    return log_case()


def url(view, *args):
    return reverse(f"admin:cases_case_{view}", args=args)


def change_data(case, **overrides) -> dict:
    data = {"title": case.title, "description": case.description, "applicant_name": case.applicant_name,
            "applicant_contact": case.applicant_contact, "seen_version": case.version,
            "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "0"}
    data.update(overrides)
    return data


def test_superuser_reads_the_list_and_the_case(admin_client, case):
    listing = admin_client.get(url("changelist"))
    detail = admin_client.get(url("change", case.pk))

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [case]
    assert detail.status_code == 200
    assert case.reference in detail.content.decode()


def test_no_add_and_no_delete(admin_client, case):
    listing = admin_client.get(url("changelist"))

    assert admin_client.get(url("add")).status_code == 403
    assert admin_client.get(url("delete", case.pk)).status_code == 403
    assert admin_client.post(url("delete", case.pk), {"post": "yes"}).status_code == 403
    assert "delete_selected" not in listing.content.decode()
    assert Case.unscoped.filter(pk=case.pk).exists()


def test_status_owner_and_deadline_are_read_only(admin_client, city, case):
    form = admin_client.get(url("change", case.pk)).context["adminform"].form
    assert {"status", "owner", "assignee", "rule", "due_date", "key_task"}.isdisjoint(form.fields)

    response = admin_client.post(url("change", case.pk), change_data(
        case, title="Xin cấp phép xây dựng nhà ở riêng lẻ (sửa chính tả)", status=Status.RESOLVED,
        owner=city.outsider.pk, assignee=city.user("outsider_head").pk, due_date="2030-01-01", key_task="on",
    ))

    assert response.status_code == 302
    before, case = case, Case.unscoped.get(pk=case.pk)
    assert case.title == "Xin cấp phép xây dựng nhà ở riêng lẻ (sửa chính tả)"
    assert (case.status, case.owner, case.assignee, case.due_date, case.key_task) == (
        Status.ROUTED, city.owner, None, before.due_date, False)


def test_events_are_shown_read_only_and_saving_adds_none(admin_client, case):
    events = CaseEvent.objects.filter(case=case).count()
    response = admin_client.get(url("change", case.pk))
    [inline] = response.context["inline_admin_formsets"]

    assert events == 2
    assert len(inline.forms) == events
    assert not (inline.has_add_permission or inline.has_change_permission or inline.has_delete_permission)
    assert admin_client.post(url("change", case.pk), change_data(case)).status_code == 302
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.unscoped.get(pk=case.pk).version == case.version  # nothing changed, nothing to bump


def test_a_clerical_correction_is_a_move_with_its_event(admin_client, city, case):
    """Through the service: the version goes up and the trail says who changed which field from what to what."""
    response = admin_client.post(url("change", case.pk), change_data(
        case, title="Xin cấp phép xây dựng nhà ở riêng lẻ (sửa chính tả)", applicant_contact="0912 345 678"))

    assert response.status_code == 302
    corrected = Case.unscoped.get(pk=case.pk)
    assert corrected.version == case.version + 1
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.actor, event.from_status, event.to_status) == (
        EventAction.CORRECTED, city.user("admin"), Status.ROUTED, Status.ROUTED)
    assert event.payload == {"changes": {
        "title": ["Xin cấp phép xây dựng nhà ở riêng lẻ", "Xin cấp phép xây dựng nhà ở riêng lẻ (sửa chính tả)"],
        "applicant_contact": ["", "0912 345 678"]}}


def test_a_correction_on_a_stale_page_undoes_nobodys_move(admin_client, city, case):
    """The admin opened the case; meanwhile the owner accepted it. Saving the old page must not put the case
    back as it was: the correction is refused (and recorded), the move stands."""
    stale = change_data(case, title="Tiêu đề sửa trên trang cũ")
    case_accept(case=case, actor=city.user("specialist"))
    moved = Case.unscoped.filter(pk=case.pk).values().get()

    response = admin_client.post(url("change", case.pk), stale, follow=True)

    assert Case.unscoped.filter(pk=case.pk).values().get() == moved
    refusal = CaseEvent.objects.filter(case=case).latest("id")
    assert (refusal.action, refusal.actor, refusal.payload["code"], refusal.payload["attempted"]) == (
        EventAction.REFUSED, city.user("admin"), "case_changed", "correct")
    assert [message.level_tag for message in response.context["messages"]] == ["error"]


def test_event_inline_refuses_add_change_and_delete(rf, city, case):
    request = rf.get("/")
    request.user = city.user("admin")
    inline = CaseEventInline(Case, admin.site)

    assert not inline.has_add_permission(request, case)
    assert not inline.has_change_permission(request, case)
    assert not inline.has_delete_permission(request, case)


def test_search_by_reference_and_title(admin_client, log_case):
    permit = log_case(title="Cấp phép xây dựng nhà văn hóa tổ dân phố")
    other = log_case(title="Xin cấp phép sửa chữa nhà ở")

    by_reference = admin_client.get(url("changelist"), {"q": permit.reference})
    by_title = admin_client.get(url("changelist"), {"q": "sửa chữa"})

    assert list(by_reference.context["cl"].result_list) == [permit]
    assert list(by_title.context["cl"].result_list) == [other]


def test_non_superusers_are_kept_out(client, city, case):
    head = city.user("head")
    client.force_login(head)
    assert client.get(url("changelist")).status_code == 302

    head.is_staff = True
    head.save(update_fields=["is_staff"])
    assert client.get(url("changelist")).status_code == 403
    assert client.get(url("change", case.pk)).status_code == 403


def test_staff_with_view_permission_sees_only_cases_visible_to_them(client, city, case):
    outsider = city.user("outsider_head")
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    outsider.user_permissions.add(Permission.objects.get(codename="view_case"))
    client.force_login(outsider)

    listing = client.get(url("changelist"))

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == []
    # Another unit's case is not found, exactly as elsewhere (DESIGN.md §2 rule 4).
    assert client.get(url("change", case.pk)).status_code == 302


def test_list_query_count_does_not_grow_with_cases(admin_client, city, log_case):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(url("changelist")).status_code == 200
        return len(captured)

    log_case()
    few = queries()
    for _ in range(6):
        log_case(locality=city.ward, amount=100)

    assert queries() == few
