import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from departments.models import AuthorityRule
from tests.support.api import NON_ADMINS, ROLES

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
    response = api("admin").post(URL, WARD_LAND, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS
    assert {key: value for key, value in body.items() if key != "id"} == WARD_LAND
    rule = AuthorityRule.objects.get(pk=body["id"])
    assert list(rule.required_consultees.values_list("code", flat=True)) == ["snnmt"]
    assert rule.history.count() >= 1
    assert rule.history.latest().history_user == city.user("admin")
    routed = preview_owner(api, case_type="land-allocation", locality="p-le-chan", amount=6_000_000_000)
    assert (routed["owner"], routed["rule"], routed["required_consultees"]) == ("stc", rule.pk, ["snnmt"])


def test_rule_edit_is_kept_in_history_and_reroutes_new_previews(api, city):
    rule = city.permit_rule
    before = rule.history.count()

    response = api("admin").patch(f"{URL}{rule.pk}/", {"owner": "stc", "required_consultees": ["sxd"]},
                                  format="json")

    assert response.status_code == 200
    assert rule.history.count() > before
    assert rule.history.latest().owner_id == city.outsider.pk
    routed = preview_owner(api, case_type="building-permit")
    assert (routed["owner"], routed["required_consultees"]) == ("stc", ["sxd"])


def test_rule_delete_is_kept_in_history_and_leaves_a_gap(api, city):
    rule_id = city.permit_rule.pk

    response = api("admin").delete(f"{URL}{rule_id}/")

    assert response.status_code == 204
    assert not AuthorityRule.objects.filter(pk=rule_id).exists()
    assert AuthorityRule.history.filter(id=rule_id, history_type="-").count() == 1
    assert preview_owner(api, case_type="building-permit")["reason"] == "no_rule"


def test_put_replaces_the_whole_rule(api, city):
    response = api("admin").put(f"{URL}{city.land_rule.pk}/", {**WARD_LAND, "required_consultees": []},
                                format="json")

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

    response = api("admin").post(URL, {**WARD_LAND, **body}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert AuthorityRule.objects.count() == 2
    assert AuthorityRule.history.count() == history


def test_inactive_unit_cannot_own_a_rule(api, city):
    city.outsider.active = False
    city.outsider.save(update_fields=["active"])

    response = api("admin").post(URL, WARD_LAND, format="json")

    assert response.status_code == 400
    assert "owner" in response.json()


def test_partial_update_is_checked_against_the_stored_band(api, city):
    rule = AuthorityRule.objects.create(case_type=city.land, owner=city.outsider, min_amount=1000, max_amount=5000)

    response = api("admin").patch(f"{URL}{rule.pk}/", {"min_amount": "6000"}, format="json")

    assert response.status_code == 400
    assert "max_amount" in response.json()
    rule.refresh_from_db()
    assert rule.min_amount == 1000


def test_owner_cannot_become_its_own_consultee_by_patch(api, city):
    response = api("admin").patch(f"{URL}{city.land_rule.pk}/", {"owner": "sxd"}, format="json")

    assert response.status_code == 400
    assert "required_consultees" in response.json()


def test_unknown_rule_is_404(api):
    assert api("admin").get(f"{URL}999999/").status_code == 404
    assert api("admin").delete(f"{URL}abc/").status_code == 404


def test_history_names_the_token_user(city):
    token = Token.objects.create(user=city.user("admin"))
    client = APIClient(headers={"Authorization": f"Token {token.key}"})

    response = client.patch(f"{URL}{city.permit_rule.pk}/", {"legal_basis": "Luật Xây dựng 2025"}, format="json")

    assert response.status_code == 200
    assert city.permit_rule.history.latest().history_user == city.user("admin")
    assert city.permit_rule.history.latest().legal_basis == "Luật Xây dựng 2025"
