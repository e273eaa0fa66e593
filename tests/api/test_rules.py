import pytest

from departments.models import AuthorityRule
from departments.services import REASON_REQUIRED
from tests.support.api import NON_ADMINS, ROLES, issue_token, token_client

URL = "/api/v1/authority-rules/"
PREVIEW = "/api/v1/routing/preview/"
FIELDS = {"id", "case_type", "locality", "min_amount", "max_amount", "owner", "decision_level",
          "required_consultees", "processing_days", "consultation_days", "legal_basis", "valid_from", "valid_to",
          "active"}
# Land in Lê Chân ward worth 5 billion đồng or more goes to the Finance Department.
WARD_LAND = {"case_type": "land-allocation", "locality": "p-le-chan", "min_amount": "5000000000",
             "max_amount": None, "owner": "stc", "decision_level": "city_committee",
             "required_consultees": ["snnmt"], "processing_days": 25, "consultation_days": 7,
             "legal_basis": "Quyết định 12/2025/QĐ-UBND", "valid_from": "2025-07-01", "valid_to": None,
             "active": True}
# Every rule write says why (DESIGN.md §5); it is kept in the rule's history.
REASON = "Quyết định 12/2025/QĐ-UBND phân cấp giao đất"


def preview_owner(api, **body):
    return api("clerk").post(PREVIEW, {"received_at": "2025-11-24T09:00:00+07:00", **body}, format="json").json()


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_role_lists_rules(api, role):
    response = api(role).get(URL)

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_rule_fields_use_codes(api, city):
    response = api("clerk").get(f"{URL}{city.land_rule.pk}/")

    assert response.json() == {
        "id": city.land_rule.pk, "case_type": "land-allocation", "locality": None, "min_amount": None,
        "max_amount": None, "owner": "snnmt", "decision_level": "city_committee",
        "required_consultees": ["stc", "sxd"], "processing_days": None, "consultation_days": None,
        "legal_basis": "Luật Đất đai 2024, Điều 123", "valid_from": None, "valid_to": None, "active": True,
    }


def test_filter_rules_by_case_type_and_owner(api, city):
    client = api("head")

    assert [r["id"] for r in client.get(URL, {"case_type": "land-allocation"}).json()["results"]] == [
        city.land_rule.pk]
    assert [r["id"] for r in client.get(URL, {"owner": "sxd"}).json()["results"]] == [city.permit_rule.pk]


def test_admin_creates_a_rule_with_history_and_routing_follows(api, city):
    response = api("admin").post(URL, {**WARD_LAND, "reason": REASON}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS
    assert {key: value for key, value in body.items() if key != "id"} == WARD_LAND
    rule = AuthorityRule.objects.get(pk=body["id"])
    assert list(rule.required_consultees.values_list("code", flat=True)) == ["snnmt"]
    assert rule.history.count() >= 1
    assert rule.history.latest().history_user == city.user("admin")
    # The creation and the consultees that follow it: every row says who and why.
    assert {(row.history_user, row.history_change_reason) for row in rule.history.all()} == {
        (city.user("admin"), REASON)}
    routed = preview_owner(api, case_type="land-allocation", locality="p-le-chan", amount=6_000_000_000)
    assert (routed["owner"], routed["rule"], routed["required_consultees"]) == ("stc", rule.pk, ["snnmt"])


def test_rule_edit_is_kept_in_history_and_reroutes_new_previews(api, city):
    rule = city.permit_rule
    before = rule.history.count()

    response = api("admin").patch(f"{URL}{rule.pk}/", {"owner": "stc", "required_consultees": ["sxd"],
                                                       "reason": REASON}, format="json")

    assert response.status_code == 200
    assert rule.history.count() > before
    assert rule.history.latest().owner_id == city.outsider.pk
    assert rule.history.latest().history_change_reason == REASON
    routed = preview_owner(api, case_type="building-permit")
    assert (routed["owner"], routed["required_consultees"]) == ("stc", ["sxd"])


def test_rule_delete_is_kept_in_history_and_leaves_a_gap(api, city):
    rule_id = city.permit_rule.pk

    response = api("admin").delete(f"{URL}{rule_id}/", {"reason": REASON}, format="json")

    assert response.status_code == 204
    assert not AuthorityRule.objects.filter(pk=rule_id).exists()
    deletion = AuthorityRule.history.get(id=rule_id, history_type="-")
    assert (deletion.history_user, deletion.history_change_reason) == (city.user("admin"), REASON)
    assert preview_owner(api, case_type="building-permit")["reason"] == "no_rule"


def test_put_replaces_the_whole_rule(api, city):
    response = api("admin").put(f"{URL}{city.land_rule.pk}/", {**WARD_LAND, "required_consultees": [],
                                                                "reason": REASON}, format="json")

    assert response.status_code == 200
    city.land_rule.refresh_from_db()
    assert city.land_rule.owner == city.outsider
    assert not city.land_rule.required_consultees.exists()


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admin_writes_rules(api, city, role):
    client = api(role)
    rule_url = f"{URL}{city.permit_rule.pk}/"
    history = AuthorityRule.history.count()

    assert client.post(URL, WARD_LAND, format="json").status_code == 403
    assert client.put(rule_url, WARD_LAND, format="json").status_code == 403
    assert client.patch(rule_url, {"owner": "stc"}, format="json").status_code == 403
    assert client.delete(rule_url).status_code == 403
    assert AuthorityRule.objects.count() == 2
    assert AuthorityRule.history.count() == history


@pytest.mark.parametrize(("body", "field"), [
    ({"min_amount": "5000", "max_amount": "5000"}, "max_amount"),
    ({"min_amount": "9000", "max_amount": "5000"}, "max_amount"),
    ({"min_amount": "-1"}, "min_amount"),
    ({"max_amount": "-1", "min_amount": None}, "max_amount"),
    ({"min_amount": "10.5"}, "min_amount"),
    ({"min_amount": "1" * 19}, "min_amount"),
    ({"valid_from": "2025-07-01", "valid_to": "2025-06-30"}, "valid_to"),
    ({"processing_days": 0}, "processing_days"),
    ({"case_type": "khong-co"}, "case_type"),
    ({"locality": "stc"}, "locality"),
    ({"owner": "ubnd"}, "owner"),
    ({"owner": "khong-co"}, "owner"),
    ({"required_consultees": ["stc"]}, "required_consultees"),
    ({"required_consultees": ["khong-co"]}, "required_consultees"),
    ({"decision_level": "minister"}, "decision_level"),
    ({"legal_basis": "x" * 501}, "legal_basis"),
])
def test_bad_rule_input_saves_nothing(api, body, field):
    history = AuthorityRule.history.count()

    response = api("admin").post(URL, {**WARD_LAND, "reason": REASON, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert AuthorityRule.objects.count() == 2
    assert AuthorityRule.history.count() == history


def test_inactive_unit_cannot_own_a_rule(api, city):
    city.outsider.active = False
    city.outsider.save(update_fields=["active"])

    response = api("admin").post(URL, {**WARD_LAND, "reason": REASON}, format="json")

    assert response.status_code == 400
    assert "owner" in response.json()


def test_partial_update_is_checked_against_the_stored_band(api, city):
    rule = AuthorityRule.objects.create(case_type=city.land, owner=city.outsider, min_amount=1000, max_amount=5000)

    response = api("admin").patch(f"{URL}{rule.pk}/", {"min_amount": "6000", "reason": REASON}, format="json")

    assert response.status_code == 400
    assert "max_amount" in response.json()
    rule.refresh_from_db()
    assert rule.min_amount == 1000


def test_owner_cannot_become_its_own_consultee_by_patch(api, city):
    response = api("admin").patch(f"{URL}{city.land_rule.pk}/", {"owner": "sxd", "reason": REASON}, format="json")

    assert response.status_code == 400
    assert "required_consultees" in response.json()


def test_unknown_rule_is_404(api):
    assert api("admin").get(f"{URL}999999/").status_code == 404
    assert api("admin").delete(f"{URL}abc/").status_code == 404


def test_history_names_the_token_user(city):
    client = token_client(issue_token(city.user("admin")))

    response = client.patch(f"{URL}{city.permit_rule.pk}/", {"legal_basis": "Luật Xây dựng 2025", "reason": REASON},
                            format="json")

    assert response.status_code == 200
    assert city.permit_rule.history.latest().history_user == city.user("admin")
    assert city.permit_rule.history.latest().legal_basis == "Luật Xây dựng 2025"


# The Finance Department claiming building permits city-wide: the same cases as the Construction Department's rule.
PERMIT_BY_FINANCE = {"case_type": "building-permit", "owner": "stc", "legal_basis": "Công văn 45/STC"}


def test_a_rule_that_ties_is_refused_and_names_the_rule_it_ties_with(api, city):
    history = AuthorityRule.history.count()

    response = api("admin").post(URL, {**PERMIT_BY_FINANCE, "reason": REASON}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ambiguous_rule"
    assert f"{city.permit.name} → {city.owner.name}" in body["detail"]
    assert AuthorityRule.objects.count() == 2
    assert AuthorityRule.history.count() == history
    assert preview_owner(api, case_type="building-permit")["owner"] == "sxd"


def test_a_tie_lists_the_conflicting_rules_by_id(api, city):
    response = api("admin").post(URL, {**PERMIT_BY_FINANCE, "reason": REASON}, format="json")

    assert response.status_code == 409
    assert response.json() == {"code": "ambiguous_rule", "detail": response.json()["detail"],
                               "conflicting_rules": [city.permit_rule.pk]}


def test_a_confirmed_tie_is_saved_and_cases_then_wait_in_triage(api, city):
    response = api("admin").post(URL, {**PERMIT_BY_FINANCE, "reason": REASON, "confirm_tie": True}, format="json")

    assert response.status_code == 201
    assert "confirm_tie" not in response.json()
    routed = preview_owner(api, case_type="building-permit")
    assert (routed["reason"], routed["conflicting_rules"]) == ("ambiguous_rule",
                                                               [city.permit_rule.pk, response.json()["id"]])


def test_an_edit_that_makes_a_tie_is_refused(api, city):
    local = AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider, locality=city.ward)

    response = api("admin").patch(f"{URL}{local.pk}/", {"locality": None, "reason": REASON}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "ambiguous_rule"
    local.refresh_from_db()
    assert local.locality == city.ward


@pytest.mark.parametrize("body", [
    # An inactive rule decides nothing.
    {"active": False},
    # The hand-over from one owner to another on a date: the windows do not meet.
    {"valid_from": "2025-07-01"},
    # More specific: the whole-city rule gives way to it in Lê Chân.
    {"locality": "p-le-chan"},
])
def test_rules_that_cannot_decide_the_same_case_equally_do_not_tie(api, city, body):
    AuthorityRule.objects.filter(pk=city.permit_rule.pk).update(valid_to="2025-06-30")

    response = api("admin").post(URL, {**PERMIT_BY_FINANCE, "reason": REASON, **body}, format="json")

    assert response.status_code == 201


@pytest.mark.parametrize("reason", ["missing", None, "", "   "])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_every_rule_write_needs_a_reason(api, city, method, reason):
    history = AuthorityRule.history.count()
    body = {} if method == "delete" else {**WARD_LAND}
    if reason != "missing":
        body["reason"] = reason
    url = URL if method == "post" else f"{URL}{city.land_rule.pk}/"

    response = getattr(api("admin"), method)(url, body, format="json")

    assert response.status_code == 400
    assert response.json()["reason"] == [REASON_REQUIRED]
    assert AuthorityRule.objects.count() == 2
    assert AuthorityRule.history.count() == history
    city.land_rule.refresh_from_db()
    assert city.land_rule.owner == city.consulted


def test_delete_takes_the_reason_as_a_query_parameter(api, city):
    rule_id = city.permit_rule.pk

    response = api("admin").delete(f"{URL}{rule_id}/?reason=Bãi+bỏ+theo+Luật+Xây+dựng+2025")

    assert response.status_code == 204
    assert AuthorityRule.history.get(id=rule_id, history_type="-").history_change_reason == (
        "Bãi bỏ theo Luật Xây dựng 2025")


def test_a_long_reason_is_kept_whole(api, city):
    reason = ("Thực hiện Quyết định số 1234/QĐ-UBND ngày 30/6/2025 của Ủy ban nhân dân thành phố về việc phân cấp, "
              "ủy quyền giải quyết thủ tục hành chính trong lĩnh vực xây dựng cho chính quyền cấp xã.")
    assert len(reason) > 100

    response = api("admin").patch(f"{URL}{city.permit_rule.pk}/", {"legal_basis": "QĐ 1234", "reason": reason},
                                  format="json")

    assert response.status_code == 200
    assert city.permit_rule.history.latest().history_change_reason == reason


def test_changing_only_the_consultees_is_one_history_row_with_the_reason(api, city):
    rule = city.land_rule
    before = rule.history.count()

    response = api("admin").patch(f"{URL}{rule.pk}/", {"required_consultees": ["stc"], "reason": REASON},
                                  format="json")

    assert response.status_code == 200
    assert response.json()["required_consultees"] == ["stc"]
    assert rule.history.count() == before + 1
    version = rule.history.latest()
    assert (version.history_user, version.history_change_reason) == (city.user("admin"), REASON)
    assert list(version.required_consultees.values_list("department__code", flat=True)) == ["stc"]


def test_a_closed_unit_cannot_be_a_required_consultee_of_an_active_rule(api, city):
    city.consulted.active = False
    city.consulted.save(update_fields=["active"])

    response = api("admin").post(URL, {**WARD_LAND, "reason": REASON}, format="json")

    assert response.status_code == 400
    assert "snnmt" in response.json()["required_consultees"][0]


def test_an_inactive_rule_may_keep_naming_units_that_closed(api, city):
    rule = AuthorityRule.objects.create(case_type=city.land, owner=city.outsider, locality=city.ward)
    rule.required_consultees.set([city.consulted])
    for unit in (city.outsider, city.consulted):
        unit.active = False
        unit.save(update_fields=["active"])
    client = api("admin")

    still_active = client.patch(f"{URL}{rule.pk}/", {"legal_basis": "Hết hiệu lực", "reason": REASON}, format="json")
    switched_off = client.patch(f"{URL}{rule.pk}/", {"active": False, "reason": REASON}, format="json")

    assert still_active.status_code == 400
    assert set(still_active.json()) == {"owner", "required_consultees"}
    assert switched_off.status_code == 200
    rule.refresh_from_db()
    assert rule.active is False
