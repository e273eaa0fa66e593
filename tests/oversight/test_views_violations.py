"""The violation pages: the list with its filters and deadline badges, the form (its choices, what a link
fills in, related cases by reference), the page of one violation, and the three moves of its handling.

Today is Wednesday 25 November 2026; the shared violation (of the specialist, found by the surprise inspection
of Sở Xây dựng on 2 November) is due by Monday 1 February 2027.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments.models import Role
from oversight.models import ActionTaken, InspectionKind, Violation, ViolationSource, ViolationStatus
from oversight.services import (
    inspection_record,
    violation_act,
    violation_dismiss,
    violation_extend,
    violation_record,
)
from tests.support.world import local_datetime, make_user

OVERSEERS = ["inspector", "home_affairs", "admin"]
OTHERS = ["head", "specialist", "city_office", "clerk"]
DUE = dt.date(2027, 2, 1)


@pytest.fixture(autouse=True)
def today(clock):
    clock.set(local_datetime(2026, 11, 25, 10))


def complaint(city, choices, person="clerk", *, due=None, kind=None, **fields):
    violation = violation_record(actor=city.user("inspector"), person=city.user(person),
                                 discovered_on=fields.pop("discovered_on", dt.date(2026, 11, 2)),
                                 source=ViolationSource.COMPLAINT, kind=kind or choices.delay,
                                 severity=choices.serious, description="Chậm trả kết quả.", **fields)
    if due is not None:
        Violation.objects.filter(pk=violation.pk).update(due_date=due)
    return violation


def detail_url(violation):
    return reverse("violation-detail", args=[violation.pk])


def action_url(violation, action):
    return reverse("violation-action", args=[violation.pk, action])


def footprint(violation):
    return (Violation.objects.filter(pk=violation.pk).values().get(),
            list(ActionTaken.objects.filter(violation=violation).values()))


def new_violation_data(**overrides):
    return {"person": "specialist", "discovered_on": "2026-11-24", "source": ViolationSource.COMPLAINT,
            "kind": "harassment", "severity": "serious", "description": "Gây khó dễ cho người nộp hồ sơ.",
            "cases": "", "handler": "inspector", **overrides}


# --- Who may use them ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", OVERSEERS)
def test_overseers_read_every_page(signed_in, violation, role):
    client = signed_in(role)
    for url in (reverse("violations"), reverse("violation-new"), detail_url(violation)):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", OTHERS)
def test_other_staff_are_refused(signed_in, choices, violation, role):
    client = signed_in(role)
    before = footprint(violation)
    for url in (reverse("violations"), reverse("violation-new"), detail_url(violation)):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("violation-new"), new_violation_data()).status_code == 403
    for action, data in [("extend", {"reason": "Gia hạn"}), ("dismiss", {"reason": "Đóng"}),
                         ("act", {"kind": "reprimand", "decided_on": "2026-11-25", "ends_handling": "on"})]:
        assert client.post(action_url(violation, action), data).status_code == 403
    assert Violation.objects.count() == 1
    assert footprint(violation) == before


def test_visitors_are_sent_to_sign_in(signed_in, violation):
    client = signed_in("anonymous")
    for method, url in [("get", reverse("violations")), ("get", reverse("violation-new")),
                        ("get", detail_url(violation)), ("post", action_url(violation, "dismiss"))]:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(("method", "url"), [
    ("post", lambda violation: reverse("violations")),
    ("post", detail_url),
    ("put", lambda violation: reverse("violation-new")),
    ("get", lambda violation: action_url(violation, "dismiss")),
    ("get", lambda violation: action_url(violation, "extend")),
])
def test_wrong_methods_are_refused(signed_in, violation, method, url):
    assert getattr(signed_in("inspector"), method)(url(violation)).status_code == 405


# --- The list ---------------------------------------------------------------------------------------------------


def listed(client, **query):
    return [violation.pk for violation in client.get(reverse("violations"), query).context["page"]]


def test_the_list_filters_by_status_deadline_unit_kind_and_person(signed_in, city, choices, violation):
    late = complaint(city, choices, "clerk", due=dt.date(2026, 11, 24))
    soon = complaint(city, choices, "deputy", due=dt.date(2026, 11, 26))
    elsewhere = complaint(city, choices, "outsider_specialist", kind=choices.kind)
    ended = complaint(city, choices, "head", due=dt.date(2026, 11, 20))
    violation_dismiss(violation=ended, actor=city.user("inspector"), reason="Không đủ căn cứ.")
    client = signed_in("home_affairs")

    assert set(listed(client)) == {violation.pk, late.pk, soon.pk, elsewhere.pk, ended.pk}
    assert set(listed(client, status="open")) == {violation.pk, late.pk, soon.pk, elsewhere.pk}
    assert listed(client, status="dismissed") == [ended.pk]
    # An ended violation is never late: its handling is over.
    assert listed(client, deadline="overdue") == [late.pk]
    assert listed(client, deadline="due_soon") == [soon.pk]
    assert set(listed(client, department="stc")) == {elsewhere.pk}
    assert set(listed(client, kind="harassment")) == {violation.pk, elsewhere.pk}
    # The person's full name (first and last name together), or the username.
    assert listed(client, q="Phạm Minh") == [violation.pk]
    assert listed(client, q="outsider_spec") == [elsewhere.pk]
    # Nguyễn Thị Lan (the clerk) and Lê Thị Hoa (the deputy), among the open delays of Sở Xây dựng.
    assert set(listed(client, q="Thị", status="open", kind="unjustified-delay", department="sxd")) == {late.pk,
                                                                                                      soon.pk}


def test_each_row_shows_the_handling_due_date_and_its_state(signed_in, city, choices, violation):
    late = complaint(city, choices, "clerk", due=dt.date(2026, 11, 24))
    soon = complaint(city, choices, "deputy", due=dt.date(2026, 11, 25))
    html = signed_in("inspector").get(reverse("violations")).content.decode()

    def row(item):
        start = html.index(f'data-violation="{item.pk}"')
        return html[start:html.index("</tr>", start)]

    assert "24/11/2026" in row(late) and 'data-test="overdue-badge"' in row(late)
    assert 'data-test="due-soon-badge"' in row(soon) and 'data-test="overdue-badge"' not in row(soon)
    assert "01/02/2027" in row(violation)
    assert "badge" not in row(violation).split('data-test="handling-due-date"')[1]


def test_the_list_is_paged(signed_in, city, choices):
    for number in range(27):
        complaint(city, choices, ["clerk", "deputy", "head"][number % 3])
    client = signed_in("inspector")
    assert len(listed(client)) == 25
    assert len(listed(client, page=2)) == 2


def test_the_lists_query_count_does_not_grow(signed_in, city, choices):
    client = signed_in("inspector")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("violations"), {"status": "open", "q": "a"}).status_code == 200
        return len(captured)

    complaint(city, choices, "clerk")
    few = queries()
    for person in ["deputy", "head", "specialist", "outsider_specialist", "consulted_specialist"] * 2:
        complaint(city, choices, person, kind=choices.kind)
    assert queries() == few


# --- The form ---------------------------------------------------------------------------------------------------


def test_the_form_offers_staff_members_with_their_unit_and_role(signed_in, city):
    # In English, so that the role's label is known whatever the translations say.
    form = signed_in("inspector").get(reverse("violation-new"), HTTP_ACCEPT_LANGUAGE="en").context["form"]
    people = dict((str(value), label) for value, label in form.fields["person"].choices if value)
    assert people["specialist"] == "Phạm Minh Tuấn — Sở Xây dựng (Specialist)"
    assert {"clerk", "deputy", "head", "consulted_head", "outsider_specialist"} <= set(people)
    # Only the staff who handle cases: not the overseers, the city office, admins or users without a unit.
    assert not {"inspector", "home_affairs", "city_office", "admin", "nobody"} & set(people)


def test_the_form_offers_active_choices_in_the_admins_order(signed_in, choices):
    choices.less_serious.position = 9
    choices.less_serious.save(update_fields=["position"])
    choices.delay.active = False
    choices.delay.save(update_fields=["active"])
    form = signed_in("inspector").get(reverse("violation-new")).context["form"]
    assert [str(value) for value, _label in form.fields["severity"].choices if value] == [
        "serious", "very-serious", "less-serious"]
    kinds = [str(value) for value, _label in form.fields["kind"].choices if value]
    assert "unjustified-delay" not in kinds and kinds[0] == "harassment"


def test_the_responsible_official_defaults_to_the_recorder_among_overseers(signed_in, city):
    form = signed_in("home_affairs").get(reverse("violation-new")).context["form"]
    assert form["handler"].value() == "home_affairs"
    assert {str(value) for value, _label in form.fields["handler"].choices} == {"inspector", "home_affairs", "admin"}


def test_the_form_offers_inspections_most_recent_first(signed_in, city, inspection):
    later = inspection_record(actor=city.user("inspector"), department=city.ward, kind=InspectionKind.SCHEDULED,
                              inspected_on=dt.date(2026, 11, 20), team=[city.user("inspector")])
    form = signed_in("inspector").get(reverse("violation-new")).context["form"]
    assert [value for value, _label in form.fields["inspection"].choices][1:] == [later.pk, inspection.pk]


def test_a_link_from_an_inspection_fills_in_its_source_and_date(signed_in, inspection):
    form = signed_in("inspector").get(reverse("violation-new"), {"inspection": inspection.pk}).context["form"]
    assert form["inspection"].value() == inspection.pk
    assert form["source"].value() == ViolationSource.SURPRISE_INSPECTION
    assert form["discovered_on"].value() == dt.date(2026, 11, 2)


def test_a_link_from_the_staff_report_fills_in_the_person_source_and_case(signed_in, log_case):
    case = log_case()
    form = signed_in("inspector").get(reverse("violation-new"), {
        "person": "specialist", "source": "system_alert", "case": case.reference}).context["form"]
    assert (form["person"].value(), form["source"].value(), form["cases"].value()) == (
        "specialist", "system_alert", case.reference)
    assert form["inspection"].value() is None


@pytest.mark.parametrize("query", [{"inspection": "999"}, {"inspection": "x"}, {"source": "rumour"}])
def test_a_link_with_unknown_values_opens_a_blank_form(signed_in, query):
    form = signed_in("inspector").get(reverse("violation-new"), query).context["form"]
    assert (form["inspection"].value(), form["source"].value()) == (None, None)


def test_a_violation_is_recorded_with_its_related_cases(signed_in, city, log_case):
    first, second, third = log_case(), log_case(), log_case()
    text = f"{first.reference}, {second.reference.lower()}\n{third.reference}  {first.reference}"
    response = signed_in("inspector").post(reverse("violation-new"), new_violation_data(
        cases=text, handler="home_affairs"))
    violation = Violation.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(violation)
    assert set(violation.cases.all()) == {first, second, third}
    assert (violation.person, violation.department, violation.handler, violation.recorded_by) == (
        city.user("specialist"), city.owner, city.user("home_affairs"), city.user("inspector"))
    # 90 days after Tuesday 24 November 2026 is Monday 22 February 2027.
    assert (violation.discovered_on, violation.due_date) == (dt.date(2026, 11, 24), dt.date(2027, 2, 22))


def test_unknown_case_references_are_named(signed_in, log_case):
    case = log_case()
    response = signed_in("inspector").post(reverse("violation-new"), new_violation_data(
        cases=f"{case.reference}, SXD-000000-9999;XX-1"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["cases"] == ["No cases have the references SXD-000000-9999, XX-1."]
    assert not Violation.objects.exists()


def test_a_violation_found_by_an_inspection_is_recorded_from_its_link(signed_in, city, inspection):
    response = signed_in("inspector").post(reverse("violation-new"), new_violation_data(
        source=ViolationSource.SURPRISE_INSPECTION, inspection=inspection.pk, discovered_on="2026-11-02"))
    assert response.status_code == 302
    assert Violation.objects.get().inspection == inspection


@pytest.mark.parametrize(("overrides", "field"), [
    ({"source": ViolationSource.SURPRISE_INSPECTION}, "inspection"),  # the service: which inspection?
    ({"discovered_on": "2026-11-26"}, "discovered_on"),  # the service: not in the future
    ({"person": "inspector"}, "person"),  # not a choice
    ({"kind": "unknown"}, "kind"),
    ({"description": ""}, "description"),
    ({"handler": "head"}, "handler"),
])
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(signed_in, overrides, field):
    response = signed_in("inspector").post(reverse("violation-new"), new_violation_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Violation.objects.exists()


def test_a_complaint_naming_an_inspection_is_refused_on_the_inspection_field(signed_in, inspection):
    response = signed_in("inspector").post(reverse("violation-new"), new_violation_data(inspection=inspection.pk),
                                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["form"].errors["inspection"] == ["Only a violation found by an inspection names one."]


# --- Its page -----------------------------------------------------------------------------------------------------


def test_the_page_shows_the_facts_cases_inspection_and_deadline(signed_in, city, choices, inspection, log_case):
    case = log_case()
    violation = violation_record(actor=city.user("inspector"), person=city.user("specialist"),
                                 discovered_on=dt.date(2026, 11, 2), source=ViolationSource.SURPRISE_INSPECTION,
                                 inspection=inspection, kind=choices.kind, severity=choices.less_serious,
                                 description="Yêu cầu bản sao công chứng sổ hộ khẩu.", cases=[case])
    html = signed_in("inspector").get(detail_url(violation)).content.decode()
    assert reverse("case-detail", args=[case.reference]) in html
    assert reverse("inspection-detail", args=[inspection.pk]) in html
    assert "Yêu cầu bản sao công chứng sổ hộ khẩu." in html
    assert "01/02/2027" in html
    for action in ("extend", "act", "dismiss"):
        assert f'data-test="action-{action}"' in html


def test_the_page_tells_an_overdue_handling(signed_in, city, choices):
    late = complaint(city, choices, due=dt.date(2026, 11, 24))
    html = signed_in("inspector").get(detail_url(late)).content.decode()
    assert 'data-test="overdue-badge"' in html


def test_an_extended_deadline_says_from_when_and_offers_no_second_extension(signed_in, city, violation):
    violation_extend(violation=violation, actor=city.user("home_affairs"), reason="Chờ kết luận xác minh.")
    html = signed_in("inspector").get(detail_url(violation)).content.decode()
    assert "01/04/2027" in html and "01/02/2027" in html
    assert "Chờ kết luận xác minh." in html
    assert 'data-test="action-extend"' not in html
    assert 'data-test="action-act"' in html


def test_an_ended_handling_offers_nothing_more(signed_in, city, choices, violation):
    violation_act(violation=violation, actor=city.user("inspector"), kind=choices.reprimand,
                  decided_on=dt.date(2026, 11, 20), decision_number="45/QĐ", note="Khiển trách.", ends_handling=True)
    html = signed_in("inspector").get(detail_url(violation)).content.decode()
    assert 'data-test="no-actions"' in html
    assert 'data-test="action-taken" data-kind="reprimand"' in html
    assert "45/QĐ" in html


def test_an_unknown_violation_is_not_found(signed_in):
    assert signed_in("inspector").get(reverse("violation-detail", args=[999])).status_code == 404
    assert signed_in("inspector").post(reverse("violation-action", args=[999, "dismiss"]),
                                       {"reason": "x"}).status_code == 404


def test_the_pages_query_count_does_not_grow_with_cases_and_actions(signed_in, city, choices, violation, log_case):
    client = signed_in("inspector")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(detail_url(violation)).status_code == 200
        return len(captured)

    violation.cases.add(log_case())
    violation_act(violation=violation, actor=city.user("inspector"), kind=choices.review_meeting,
                  decided_on=dt.date(2026, 11, 10))
    few = queries()
    violation.cases.add(log_case(), log_case(case_type=city.land), log_case())
    for day in (11, 12, 13):
        violation_act(violation=violation, actor=city.user("home_affairs"), kind=choices.review_meeting,
                      decided_on=dt.date(2026, 11, day))
    assert queries() == few


# --- The moves of its handling ----------------------------------------------------------------------------------


def test_an_unknown_move_is_not_found(signed_in, violation):
    before = footprint(violation)
    assert signed_in("inspector").post(action_url(violation, "close"), {"reason": "x"}).status_code == 404
    assert footprint(violation) == before


def test_the_deadline_is_extended_from_the_page(signed_in, city, violation):
    response = signed_in("home_affairs").post(action_url(violation, "extend"), {"reason": "Chờ xác minh."},
                                              follow=True)
    assert response.redirect_chain[-1][0] == detail_url(violation)
    assert "01/04/2027" in response.content.decode()
    stored = Violation.objects.get(pk=violation.pk)
    assert (stored.due_date, stored.extended_by) == (dt.date(2027, 4, 1), city.user("home_affairs"))


def test_a_refused_move_is_told_and_changes_nothing(signed_in, city, violation):
    violation_extend(violation=violation, actor=city.user("inspector"), reason="Chờ xác minh.")
    before = footprint(violation)
    response = signed_in("inspector").post(action_url(violation, "extend"), {"reason": "Lần nữa."}, follow=True,
                                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[-1][0] == detail_url(violation)
    assert b'data-refusal="true"' in response.content
    assert "already been extended" in response.content.decode()
    assert footprint(violation) == before


def test_an_action_that_ends_the_handling_closes_it(signed_in, city, choices, violation):
    response = signed_in("inspector").post(action_url(violation, "act"), {
        "kind": "reprimand", "decided_on": "2026-11-25", "decision_number": "45/QĐ-TTr", "note": "Khiển trách.",
        "ends_handling": "on"})
    assert response.status_code == 302
    action = ActionTaken.objects.get(violation=violation)
    assert (action.kind, action.decision_number, action.recorded_by) == (choices.reprimand, "45/QĐ-TTr",
                                                                         city.user("inspector"))
    assert Violation.objects.get(pk=violation.pk).status == ViolationStatus.HANDLED


def test_an_action_that_does_not_end_the_handling_leaves_it_open(signed_in, violation):
    signed_in("inspector").post(action_url(violation, "act"), {"kind": "review-meeting", "decided_on": "2026-11-20"})
    assert ActionTaken.objects.filter(violation=violation).count() == 1
    assert Violation.objects.get(pk=violation.pk).status == ViolationStatus.OPEN


def test_the_services_field_error_is_shown_on_the_form_and_nothing_is_saved(signed_in, violation):
    before = footprint(violation)
    response = signed_in("inspector").post(action_url(violation, "act"), {
        "kind": "reprimand", "decided_on": "2026-11-01", "note": "Trước khi phát hiện?", "ends_handling": "on"})
    assert response.status_code == 400
    act = next(action["form"] for action in response.context["action_forms"] if action["slug"] == "act")
    assert "decided_on" in act.errors
    assert act["note"].value() == "Trước khi phát hiện?"  # the reader's input is kept
    assert b'id="action-act" class="accordion-collapse collapse show"' in response.content
    assert footprint(violation) == before


@pytest.mark.parametrize(("action", "data", "field"), [
    ("extend", {"reason": ""}, "reason"), ("dismiss", {}, "reason"),
    ("act", {"kind": "warning-letter", "decided_on": "2026-11-20"}, "kind"),
    ("act", {"kind": "reprimand", "decided_on": "20/13/2026"}, "decided_on"),
])
def test_bad_input_shows_the_page_again_with_the_errors(signed_in, violation, action, data, field):
    before = footprint(violation)
    response = signed_in("inspector").post(action_url(violation, action), data)
    assert response.status_code == 400
    form = next(item["form"] for item in response.context["action_forms"] if item["slug"] == action)
    assert field in form.errors
    assert footprint(violation) == before


def test_a_dismissal_closes_it_as_not_confirmed(signed_in, city, violation):
    response = signed_in("home_affairs").post(action_url(violation, "dismiss"), {"reason": "Không đủ căn cứ."},
                                              follow=True)
    assert b'data-test="message-success"' in response.content
    stored = Violation.objects.get(pk=violation.pk)
    assert (stored.status, stored.closing_note, stored.closed_by) == (ViolationStatus.DISMISSED, "Không đủ căn cứ.",
                                                                      city.user("home_affairs"))


def test_no_move_after_the_handling_has_ended(signed_in, city, violation):
    violation_dismiss(violation=violation, actor=city.user("inspector"), reason="Không đủ căn cứ.")
    before = footprint(violation)
    client = signed_in("inspector")
    for action, data in [("extend", {"reason": "Gia hạn"}), ("dismiss", {"reason": "Lại"}),
                         ("act", {"kind": "reprimand", "decided_on": "2026-11-25"})]:
        response = client.post(action_url(violation, action), data, follow=True)
        assert b'data-refusal="true"' in response.content, action
    assert footprint(violation) == before


def test_an_admin_acts_too(signed_in, violation):
    assert signed_in("admin").post(action_url(violation, "dismiss"), {"reason": "Trùng lặp."}).status_code == 302
    assert Violation.objects.get(pk=violation.pk).closed_by.username == "admin"


def test_a_city_office_official_is_not_on_the_person_list(signed_in, city):
    extra = make_user("office_clerk", department=city.city_office, role=Role.CLERK, full_name="Vũ Thị Mai")
    form = signed_in("inspector").get(reverse("violation-new")).context["form"]
    people = {str(value) for value, _label in form.fields["person"].choices}
    # A clerk of the city office handles cases like any clerk; the role decides, not the unit.
    assert extra.username in people and "city_office" not in people
