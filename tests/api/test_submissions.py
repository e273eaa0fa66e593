"""The city office's queue of matters waiting for the City Committee."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.services import case_decide
from tests.support.api import ROLES, act

URL = "/api/v1/submissions/"
ROW_FIELDS = {"id", "case", "case_title", "case_version", "decision_level", "department", "summary", "submitted_by",
              "submitted_at", "outcome", "decided_by", "decided_at", "decision_note"}
MAY_READ = {"city_office", "admin"}


def cases_of(response):
    return [row["case"] for row in response.json()["results"]]


@pytest.mark.parametrize("role", ROLES)
def test_only_the_city_office_and_admins_read_the_queue(api, stages, role):
    submitted = stages.submitted()

    response = api(role).get(URL)

    if role in MAY_READ:
        assert response.status_code == 200
        assert cases_of(response) == [submitted.reference]
    else:
        assert response.status_code == 403


def test_anonymous_is_told_to_sign_in(api, city):
    assert api().get(URL).status_code == 401


def test_a_row_says_what_was_sent_up_by_whom(api, stages):
    case = stages.submitted(title="Điều chỉnh quy hoạch khu dân cư Vĩnh Niệm")

    [row] = api("city_office").get(URL).json()["results"]

    assert set(row) == ROW_FIELDS
    assert {key: row[key] for key in ("case", "case_title", "case_version", "decision_level", "department",
                                      "summary", "submitted_by", "outcome", "decided_by")} == {
        "case": case.reference, "case_title": "Điều chỉnh quy hoạch khu dân cư Vĩnh Niệm",
        "case_version": case.version, "decision_level": "city_committee", "department": "sxd",
        "summary": "Tờ trình điều chỉnh quy hoạch", "submitted_by": "head", "outcome": "",
        "decided_by": None}
    assert row["submitted_at"]


def test_the_queue_shows_pending_matters_oldest_first_and_decided_ones_on_request(api, city, stages):
    first, second, decided = stages.submitted(), stages.submitted(), stages.submitted()
    case_decide(case=decided, actor=city.user("city_office"), outcome="approved", note="Đồng ý")
    client = api("city_office")

    assert cases_of(client.get(URL)) == [first.reference, second.reference]
    assert cases_of(client.get(URL, {"outcome": "pending"})) == [first.reference, second.reference]
    assert cases_of(client.get(URL, {"outcome": "approved"})) == [decided.reference]
    assert cases_of(client.get(URL, {"outcome": "rework"})) == []
    assert cases_of(client.get(URL, {"outcome": "all"})) == [first.reference, second.reference, decided.reference]


def test_a_decision_through_the_api_takes_the_matter_off_the_queue(api, stages):
    case = stages.submitted()
    client = api("city_office")
    [row] = client.get(URL).json()["results"]

    decided = act(client, case, "decide", {"outcome": "rework", "note": "Bổ sung ý kiến Sở Tài chính",
                                          "version": row["case_version"]})

    assert decided.status_code == 200
    assert cases_of(client.get(URL)) == []
    [reworked] = client.get(URL, {"outcome": "rework"}).json()["results"]
    assert (reworked["decided_by"], reworked["decision_note"]) == ("city_office", "Bổ sung ý kiến Sở Tài chính")


def test_bad_outcome_filter_is_400(api, city):
    response = api("city_office").get(URL, {"outcome": "maybe"})

    assert response.status_code == 400
    assert "outcome" in response.json()


def test_the_queue_is_read_only(api, stages):
    stages.submitted()

    assert api("admin").post(URL, {}, format="json").status_code == 405


def queue_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"outcome": "all"})
    assert response.status_code == 200
    return len(queries)


def test_queue_queries_do_not_grow_with_rows(api, city, stages):
    client = api("city_office")
    stages.submitted()
    few = queue_queries(client)
    for n in range(4):
        case = stages.submitted()
        if n % 2:
            case_decide(case=case, actor=city.user("admin"), outcome="rejected", note="Không đồng ý")

    assert queue_queries(client) == few
