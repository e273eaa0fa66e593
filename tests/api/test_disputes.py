"""Rule disputes over the API: a unit reads its own, administrators read all and settle them."""

import pytest

from cases.models import CaseEvent, DisputeStatus, RuleDispute
from cases.services import case_dispute, dispute_settle
from tests.support.api import DISPUTE_FIELDS, ROLES, act

URL = "/api/v1/disputes/"



@pytest.fixture
def disputes(city, stages, log_case):
    """One open dispute of sxd on a permit case, one of stc on a case routed to it by hand."""
    ours = case_dispute(case=stages.routed(), actor=city.user("specialist"), reason="Quy định giao nhầm cho Sở")
    theirs = case_dispute(case=stages.unruled(to=city.outsider), actor=city.user("outsider_head"),
                          reason="Không thuộc lĩnh vực tài chính")
    return {"sxd": ours, "stc": theirs}


def ids(response):
    return sorted(row["id"] for row in response.json()["results"])


OWN_UNIT = {"head": "sxd", "deputy": "sxd", "specialist": "sxd", "clerk": "sxd", "outsider_head": "stc",
            "outsider_specialist": "stc"}


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_which_disputes(api, disputes, role):
    response = api(role).get(URL)

    assert response.status_code == 200
    if role == "admin":
        assert ids(response) == sorted(d.pk for d in disputes.values())
    elif role in OWN_UNIT:
        assert ids(response) == [disputes[OWN_UNIT[role]].pk]
    else:
        assert ids(response) == []


def test_rows_and_status_filter(api, city, disputes):
    dispute_settle(dispute=disputes["stc"], actor=city.user("admin"), status=DisputeStatus.DISMISSED,
                   note="Quy định đúng")
    client = api("admin")

    rows = client.get(URL).json()["results"]
    open_only = client.get(URL, {"status": "open"})
    dismissed = client.get(URL, {"status": "dismissed"})

    assert all(set(row) == DISPUTE_FIELDS for row in rows)
    assert ids(open_only) == [disputes["sxd"].pk]
    assert ids(dismissed) == [disputes["stc"].pk]
    assert ids(client.get(URL, {"department": "stc"})) == [disputes["stc"].pk]
    assert client.get(URL, {"status": "closed"}).status_code == 400


def settle_url(dispute):
    return f"{URL}{dispute.pk}/settle/"


def test_admin_settles_a_dispute_through_the_service(api, city, disputes):
    dispute = disputes["sxd"]

    response = api("admin").post(settle_url(dispute), {"status": "rule_changed", "note": "Đã sửa quy định #1"},
                                 format="json")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == DISPUTE_FIELDS
    assert (data["status"], data["settled_by"], data["settlement_note"]) == (
        "rule_changed", "admin", "Đã sửa quy định #1")
    assert data["settled_at"]
    event = CaseEvent.objects.filter(case=dispute.case).latest("id")
    assert (event.action, event.actor, event.note, event.payload["settlement"]) == (
        "dispute_settled", city.user("admin"), "Đã sửa quy định #1", "rule_changed")


@pytest.mark.parametrize("role", [role for role in ROLES if role != "admin"])
def test_only_administrators_settle(api, disputes, role):
    dispute = disputes["sxd"]

    response = api(role).post(settle_url(dispute), {"status": "dismissed", "note": "Giữ nguyên"}, format="json")

    assert response.status_code == 403
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN


def test_settling_twice_is_refused(api, disputes):
    client = api("admin")
    client.post(settle_url(disputes["sxd"]), {"status": "dismissed", "note": "Giữ nguyên"}, format="json")

    again = client.post(settle_url(disputes["sxd"]), {"status": "rule_changed", "note": "Đổi ý"}, format="json")

    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    disputes["sxd"].refresh_from_db()
    assert (disputes["sxd"].status, disputes["sxd"].settlement_note) == (DisputeStatus.DISMISSED, "Giữ nguyên")


@pytest.mark.parametrize(("body", "field"), [
    ({"note": "Giữ nguyên"}, "status"), ({"status": "open", "note": "Mở lại"}, "status"),
    ({"status": "dismissed"}, "note"), ({"status": "dismissed", "note": "  "}, "note"),
])
def test_bad_settlement_is_400(api, disputes, body, field):
    response = api("admin").post(settle_url(disputes["sxd"]), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert RuleDispute.objects.filter(status=DisputeStatus.OPEN).count() == 2


def test_unknown_dispute_is_404(api, city):
    assert api("admin").post(f"{URL}999/settle/", {"status": "dismissed", "note": "x"},
                             format="json").status_code == 404


def test_a_unit_files_once_and_sees_its_dispute(api, stages):
    case = stages.routed()
    client = api("head")

    filed = act(client, case, "dispute", {"reason": "Quy định giao nhầm cho Sở"})
    again = act(client, case, "dispute", {"reason": "Nhắc lại"})

    assert filed.status_code == 201
    assert again.status_code == 409
    assert again.json()["code"] == "dispute_already_open"
    assert ids(client.get(URL)) == [filed.json()["id"]]
