"""The admin of units, staff, case types, rules and calendar: who gets in, what it refuses, rule history."""

import datetime as dt

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from departments.models import AuthorityRule, CalendarDay, CaseType, Department, DepartmentKind, Role, Staff
from departments.routing import preview


def form_data(form, **overrides) -> dict:
    """The POST an admin would send after changing nothing but `overrides` (None removes a field)."""
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(field.widget, forms.MultiWidget):
            for index, part in enumerate(field.widget.decompress(value)):
                data[f"{name}_{index}"] = "" if part is None else str(part)
        elif isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = "" if value is None else str(value)
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def admin_client(client, city):
    client.force_login(city.user("admin"))
    return client


@pytest.fixture
def calendar_day(db):
    return CalendarDay.objects.create(date=dt.date(2026, 1, 2), kind="day_off", name="Nghỉ hoán đổi Tết Dương lịch")


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def sample(city, model, calendar_day):
    return {
        Department: city.owner,
        CaseType: city.permit,
        AuthorityRule: city.land_rule,
        CalendarDay: calendar_day,
        Staff: city.user("head").staff,
        Staff.user.field.related_model: city.user("head"),
    }[model]


MODELS = [Department, CaseType, AuthorityRule, CalendarDay, Staff, Staff.user.field.related_model]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["changelist", "add", "change"])
def test_superuser_opens_every_page(admin_client, city, calendar_day, model, view):
    args = [sample(city, model, calendar_day).pk] if view == "change" else []

    response = admin_client.get(admin_url(model, view, *args))

    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["changelist", "add", "change"])
def test_non_superusers_are_kept_out(client, city, calendar_day, model, view):
    args = [sample(city, model, calendar_day).pk] if view == "change" else []
    url = admin_url(model, view, *args)
    client.force_login(city.user("head"))

    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))

    # Admin site access without model permissions is not enough either.
    city.user("head").is_staff = True
    city.user("head").save(update_fields=["is_staff"])
    assert client.get(url).status_code == 403


def test_rule_history_is_closed_to_non_superusers(client, city):
    head = city.user("head")
    head.is_staff = True
    head.save(update_fields=["is_staff"])
    client.force_login(head)
    version = city.land_rule.history.latest()

    assert client.get(admin_url(AuthorityRule, "history", city.land_rule.pk)).status_code == 403
    assert client.get(admin_url(AuthorityRule, "simple_history", city.land_rule.pk,
                                version.history_id)).status_code == 403


def test_department_list_filters_and_search(admin_client, city):
    communes = admin_client.get(admin_url(Department, "changelist"), {"kind__exact": DepartmentKind.COMMUNE})
    found = admin_client.get(admin_url(Department, "changelist"), {"q": "sxd"})

    assert set(communes.context["cl"].result_list) == {city.ward, city.commune}
    assert list(found.context["cl"].result_list) == [city.owner]


def test_department_validity_must_not_end_before_it_starts(admin_client, city):
    url = admin_url(Department, "change", city.ward.pk)
    form = admin_client.get(url).context["adminform"].form

    response = admin_client.post(url, form_data(form, valid_from="2025-07-01", valid_to="2025-06-30"))

    assert response.status_code == 200
    assert "valid_to" in response.context["adminform"].form.errors
    city.ward.refresh_from_db()
    assert city.ward.valid_to is None


# Every rule change, revert and deletion says why; the rule's history keeps it.
REASON = "Quyết định 12/2026/QĐ-UBND phân cấp thẩm quyền"


def new_rule_data(city, **overrides) -> dict:
    data = {"case_type": city.land.pk, "locality": "", "min_amount": "", "max_amount": "", "owner": city.owner.pk,
            "decision_level": "department", "processing_days": "", "consultation_days": "",
            "legal_basis": "Luật Đất đai 2024", "valid_from": "", "valid_to": "", "active": "on", "reason": REASON}
    data.update(overrides)
    return data


@pytest.mark.parametrize(("overrides", "field"), [
    ({"min_amount": "300", "max_amount": "300"}, "max_amount"),
    ({"min_amount": "500", "max_amount": "100"}, "max_amount"),
    ({"min_amount": "-1"}, "min_amount"),
    ({"valid_from": "2026-01-01", "valid_to": "2025-12-31"}, "valid_to"),
    # Only communes and districts are localities.
    ({"locality": "OWNER"}, "locality"),
])
def test_rule_form_refuses_inconsistent_rules(admin_client, city, overrides, field):
    if overrides.get("locality") == "OWNER":
        overrides = {"locality": city.owner.pk}
    count = AuthorityRule.objects.count()

    response = admin_client.post(admin_url(AuthorityRule, "add"), new_rule_data(city, **overrides))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert AuthorityRule.objects.count() == count


def test_rule_added_in_admin_routes_at_once(admin_client, city):
    response = admin_client.post(admin_url(AuthorityRule, "add"), new_rule_data(
        city, locality=city.ward.pk, max_amount="1000000000", owner=city.ward.pk, required_consultees=[city.owner.pk],
    ))

    assert response.status_code == 302
    decision = preview(case_type_id=city.land.pk, locality_id=city.ward.pk, amount=5, received_on=dt.date(2026, 3, 2))
    assert decision.rule.owner_code == city.ward.code
    assert decision.rule.consultee_codes == (city.owner.code,)


def test_rule_list_filters_by_decision_level(admin_client, city):
    response = admin_client.get(admin_url(AuthorityRule, "changelist"), {"decision_level__exact": "city_committee"})

    assert list(response.context["cl"].result_list) == [city.land_rule]
    assert city.land_rule.owner.name in response.content.decode()


def test_rule_list_query_count_does_not_grow_with_rules(admin_client, city):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(admin_url(AuthorityRule, "changelist")).status_code == 200
        return len(captured)

    few = queries()
    for number in range(8):
        rule = AuthorityRule.objects.create(case_type=city.permit, owner=city.ward, locality=city.ward,
                                            min_amount=number * 10, max_amount=number * 10 + 10)
        rule.required_consultees.set([city.owner, city.outsider])

    assert queries() == few


def test_rule_edit_is_kept_in_history_and_can_be_reverted(admin_client, city):
    rule, admin = city.land_rule, city.user("admin")
    version = rule.history.latest()
    url = admin_url(AuthorityRule, "change", rule.pk)
    form = admin_client.get(url).context["adminform"].form

    response = admin_client.post(url, form_data(
        form, legal_basis="Quyết định 12/2026/QĐ-UBND", decision_level="department", processing_days="30",
        required_consultees=[str(city.outsider.pk)], reason=REASON,
    ))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.legal_basis, rule.decision_level, rule.processing_days) == (
        "Quyết định 12/2026/QĐ-UBND", "department", 30)
    assert list(rule.required_consultees.all()) == [city.outsider]
    edits = rule.history.filter(history_date__gt=version.history_date)
    assert edits.exists()
    assert {edit.history_user for edit in edits} == {admin}
    history_page = admin_client.get(admin_url(AuthorityRule, "history", rule.pk))
    assert history_page.status_code == 200
    assert "Quyết định 12/2026/QĐ-UBND" in history_page.content.decode()

    revert_url = admin_url(AuthorityRule, "simple_history", rule.pk, version.history_id)
    revert_form = admin_client.get(revert_url).context["adminform"].form
    # The version's own consultees, not the live rule's.
    assert set(revert_form.initial["required_consultees"]) == {city.owner.pk, city.outsider.pk}
    response = admin_client.post(revert_url, form_data(revert_form, reason="Trả lại quy định cũ"))

    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.legal_basis, rule.decision_level, rule.processing_days) == (
        "Luật Đất đai 2024, Điều 123", "city_committee", None)
    assert set(rule.required_consultees.all()) == {city.owner, city.outsider}
    assert rule.history.latest().history_user == admin
    assert rule.history.latest().history_change_reason == "Trả lại quy định cũ"
    routed = preview(case_type_id=city.land.pk, locality_id=None, amount=None, received_on=dt.date(2026, 3, 2))
    assert routed.rule.decision_level == "city_committee"
    assert set(routed.rule.consultee_codes) == {city.owner.code, city.outsider.code}


def test_calendar_list_shows_the_package_holidays_of_the_year(admin_client, calendar_day):
    response = admin_client.get(admin_url(CalendarDay, "changelist"), {"date__year": "2026"})

    content = response.content.decode()
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [calendar_day]
    assert "Tết Nguyên Đán" in content
    # Saturday 22 August 2026 is a swapped working day in the package.
    assert dt.date(2026, 8, 22) in response.context["weekend_workdays"]
    assert (dt.date(2026, 9, 2), "Quốc khánh") in response.context["public_holidays"]


def test_user_admin_places_a_user_in_a_department(admin_client, city):
    nobody = city.user("nobody")
    url = admin_url(Staff.user.field.related_model, "change", nobody.pk)
    form = admin_client.get(url).context["adminform"].form
    data = form_data(form, **{
        "staff-TOTAL_FORMS": "1", "staff-INITIAL_FORMS": "0", "staff-MIN_NUM_FORMS": "0", "staff-MAX_NUM_FORMS": "1",
        "staff-0-department": str(city.outsider.pk), "staff-0-role": Role.SPECIALIST, "staff-0-user": str(nobody.pk),
    })

    response = admin_client.post(url, data)

    assert response.status_code == 302
    staff = Staff.objects.get(user=nobody)
    assert (staff.department, staff.role) == (city.outsider, Role.SPECIALIST)


def test_staff_list_filters_by_role_and_department(admin_client, city):
    heads = admin_client.get(admin_url(Staff, "changelist"), {"role__exact": Role.HEAD})
    owner_staff = admin_client.get(admin_url(Staff, "changelist"), {"department__id__exact": city.owner.pk})

    assert {staff.user.username for staff in heads.context["cl"].result_list} == {
        "committee_head", "head", "consulted_head", "outsider_head"}
    assert {staff.user.username for staff in owner_staff.context["cl"].result_list} == {
        "head", "deputy", "specialist", "clerk"}


def rule_form(response):
    return response.context["adminform"].form


@pytest.mark.parametrize(("case", "field"), [
    # The City Committee decides; it does not take cases.
    ("city_committee", "owner"),
    ("inactive_owner", "owner"),
    ("own_consultee", "required_consultees"),
])
def test_rule_form_refuses_an_owner_that_cannot_take_the_cases(admin_client, city, case, field):
    owner = {"city_committee": city.city_committee, "inactive_owner": city.outsider, "own_consultee": city.owner}[case]
    if case == "inactive_owner":
        Department.objects.filter(pk=city.outsider.pk).update(active=False)
    count, history = AuthorityRule.objects.count(), AuthorityRule.history.count()

    response = admin_client.post(admin_url(AuthorityRule, "add"), new_rule_data(
        city, owner=owner.pk, required_consultees=[city.owner.pk]))

    assert response.status_code == 200
    assert field in rule_form(response).errors
    assert (AuthorityRule.objects.count(), AuthorityRule.history.count()) == (count, history)


def test_rule_form_refuses_to_hand_an_existing_rule_to_the_city_committee(admin_client, city):
    url = admin_url(AuthorityRule, "change", city.permit_rule.pk)
    form = admin_client.get(url).context["adminform"].form

    response = admin_client.post(url, form_data(form, owner=str(city.city_committee.pk), reason=REASON))

    assert response.status_code == 200
    assert "owner" in rule_form(response).errors
    city.permit_rule.refresh_from_db()
    assert city.permit_rule.owner == city.owner


def test_rule_form_warns_of_a_tie_and_saves_it_once_confirmed(admin_client, city):
    # The Finance Department claiming building permits city-wide, as the Construction Department's rule does.
    data = new_rule_data(city, case_type=city.permit.pk, owner=city.outsider.pk)

    refused = admin_client.post(admin_url(AuthorityRule, "add"), data)

    assert refused.status_code == 200
    form = rule_form(refused)
    [error] = form.non_field_errors()
    assert f"{city.permit.name} → {city.owner.name}" in error
    assert str(form.fields["confirm_tie"].label) in error
    assert AuthorityRule.objects.count() == 2

    confirmed = admin_client.post(admin_url(AuthorityRule, "add"), {**data, "confirm_tie": "on"})

    assert confirmed.status_code == 302
    rule = AuthorityRule.objects.get(case_type=city.permit, owner=city.outsider)
    assert rule.history.get().history_change_reason == REASON
    routed = preview(case_type_id=city.permit.pk, locality_id=None, amount=None, received_on=dt.date(2026, 3, 2))
    assert routed.decision.reason == "ambiguous_rule"


def test_a_tie_found_only_at_saving_is_reported_not_a_server_error(admin_client, city, monkeypatch):
    # As if another admin's tying rule had committed between the form's check and the save.
    from departments.admin import AuthorityRuleForm

    monkeypatch.setattr(AuthorityRuleForm, "clean", forms.ModelForm.clean)
    url = admin_url(AuthorityRule, "add")

    response = admin_client.post(url, new_rule_data(city, case_type=city.permit.pk, owner=city.outsider.pk))

    assert response.status_code == 302
    assert response.url == url
    assert AuthorityRule.objects.count() == 2
    [message] = list(admin_client.get(url).context["messages"])
    assert f"{city.permit.name} → {city.owner.name}" in str(message)


@pytest.mark.parametrize("view", ["add", "change", "revert"])
@pytest.mark.parametrize("reason", ["", "   "])
def test_every_rule_change_in_admin_needs_a_reason(admin_client, city, view, reason):
    from departments.services import REASON_REQUIRED

    rule = city.land_rule
    url = {"add": admin_url(AuthorityRule, "add"), "change": admin_url(AuthorityRule, "change", rule.pk),
           "revert": admin_url(AuthorityRule, "simple_history", rule.pk, rule.history.latest().history_id)}[view]
    data = (new_rule_data(city, reason=reason) if view == "add"
            else form_data(rule_form(admin_client.get(url)), legal_basis="Quyết định 99", reason=reason))
    history = AuthorityRule.history.count()

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert rule_form(response).errors["reason"] == [REASON_REQUIRED]
    assert AuthorityRule.history.count() == history
    rule.refresh_from_db()
    assert rule.legal_basis == "Luật Đất đai 2024, Điều 123"


def test_changing_only_the_consultees_in_admin_is_one_history_row_with_the_reason(admin_client, city):
    rule, url = city.land_rule, admin_url(AuthorityRule, "change", city.land_rule.pk)
    before = rule.history.count()

    response = admin_client.post(url, form_data(rule_form(admin_client.get(url)),
                                                required_consultees=[str(city.owner.pk)], reason=REASON))

    assert response.status_code == 302
    assert rule.history.count() == before + 1
    version = rule.history.latest()
    assert (version.history_user, version.history_change_reason) == (city.user("admin"), REASON)
    assert list(version.required_consultees.values_list("department_id", flat=True)) == [city.owner.pk]


def test_deleting_a_rule_asks_for_the_reason_and_keeps_it(admin_client, city):
    rule_id, url = city.permit_rule.pk, admin_url(AuthorityRule, "delete", city.permit_rule.pk)

    page = admin_client.get(url)
    unexplained = admin_client.post(url, {"post": "yes", "reason": " "})

    assert 'name="reason"' in page.content.decode()
    assert unexplained.status_code == 200
    assert unexplained.context["form"].errors["reason"]
    assert 'class="errorlist' in unexplained.content.decode()
    assert AuthorityRule.objects.filter(pk=rule_id).exists()

    deleted = admin_client.post(url, {"post": "yes", "reason": "Bãi bỏ theo Luật Xây dựng 2025"})

    assert deleted.status_code == 302
    assert not AuthorityRule.objects.filter(pk=rule_id).exists()
    deletion = AuthorityRule.history.get(id=rule_id, history_type="-")
    assert (deletion.history_user, deletion.history_change_reason) == (city.user("admin"),
                                                                       "Bãi bỏ theo Luật Xây dựng 2025")


def test_rules_are_not_deleted_in_bulk_without_their_reasons(admin_client, city):
    url = admin_url(AuthorityRule, "changelist")

    listing = admin_client.get(url)
    attempt = admin_client.post(url, {"action": "delete_selected", "post": "yes", "reason": REASON,
                                      "_selected_action": [city.permit_rule.pk, city.land_rule.pk]})

    assert 'value="delete_selected"' not in listing.content.decode()
    assert attempt.status_code in {200, 302}
    assert AuthorityRule.objects.count() == 2


@pytest.mark.parametrize("model", [Department, CaseType])
def test_units_and_case_types_are_closed_never_deleted(admin_client, city, model):
    record = city.ward if model is Department else city.permit

    assert admin_client.get(admin_url(model, "delete", record.pk)).status_code == 403
    assert admin_client.post(admin_url(model, "delete", record.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=record.pk).exists()


def test_rule_history_lists_the_reasons(admin_client, city):
    url = admin_url(AuthorityRule, "change", city.permit_rule.pk)
    admin_client.post(url, form_data(rule_form(admin_client.get(url)), legal_basis="Luật Xây dựng 2025",
                                     reason=REASON))

    page = admin_client.get(admin_url(AuthorityRule, "history", city.permit_rule.pk))

    assert REASON in page.content.decode()


@pytest.mark.parametrize("model", [Department, CaseType])
def test_codes_cannot_be_changed_in_admin(admin_client, city, model):
    url = admin_url(model, "change", sample(city, model, None).pk)

    form = admin_client.get(url).context["adminform"].form

    assert "code" not in form.fields


def test_unit_cannot_be_placed_under_its_own_descendant_in_admin(admin_client, city):
    url = admin_url(Department, "change", city.city_committee.pk)
    form = admin_client.get(url).context["adminform"].form

    response = admin_client.post(url, form_data(form, parent=str(city.owner.pk)))

    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    city.city_committee.refresh_from_db()
    assert city.city_committee.parent is None


@pytest.mark.parametrize("days", ["0", "1001"])
def test_case_type_days_are_checked_in_admin(admin_client, days):
    data = {"code": "business-registration", "name": "Đăng ký kinh doanh", "processing_days": days,
            "consultation_days": "", "active": "on"}

    response = admin_client.post(admin_url(CaseType, "add"), data)

    assert response.status_code == 200
    assert "processing_days" in response.context["adminform"].form.errors
    assert not CaseType.objects.filter(code="business-registration").exists()


def test_reference_data_added_in_admin_is_written_by_the_services(admin_client, city, monkeypatch):
    from departments import services

    calls = []
    for name in ("department_save", "case_type_save", "rule_save", "calendar_day_save"):
        real = getattr(services, name)
        monkeypatch.setattr(services, name, lambda real=real, name=name, **kwargs: calls.append(name) or real(**kwargs))
    posts = [
        (Department, {"code": "p-hong-bang", "name": "Phường Hồng Bàng", "kind": "commune", "active": "on"}),
        (CaseType, {"code": "business-registration", "name": "Đăng ký kinh doanh", "processing_days": "3",
                    "active": "on"}),
        (AuthorityRule, new_rule_data(city, locality=city.ward.pk, owner=city.ward.pk)),
        (CalendarDay, {"date": "2026-01-02", "kind": "day_off", "name": "Nghỉ bù"}),
    ]

    for model, data in posts:
        assert admin_client.post(admin_url(model, "add"), data).status_code == 302, model

    assert calls == ["department_save", "case_type_save", "rule_save", "calendar_day_save"]
    assert CalendarDay.objects.get().name == "Nghỉ bù"


def test_calendar_days_are_deleted_through_the_service(admin_client, calendar_day):
    from departments import generations

    before = generations.current(generations.CALENDAR)

    response = admin_client.post(admin_url(CalendarDay, "delete", calendar_day.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert generations.current(generations.CALENDAR) != before


def test_model_permissions_without_superuser_do_not_edit_reference_data(client, city):
    from django.contrib.auth.models import Permission

    head = city.user("head")
    head.is_staff = True
    head.save(update_fields=["is_staff"])
    head.user_permissions.set(Permission.objects.filter(content_type__app_label="departments"))
    client.force_login(head)

    assert client.get(admin_url(Department, "add")).status_code == 403
    assert client.post(admin_url(CalendarDay, "add"), {"date": "2026-01-02", "kind": "day_off"}).status_code == 403
    assert not CalendarDay.objects.exists()
