"""Who sees and answers which consultation, for every role of the shared city (DESIGN.md §2 rule 4).

A consulted unit reads the case and answers its own request, but acts on the case like any other
non-owner: refused with `not_owner`. A unit that is neither owner nor consulted sees nothing (404).
"""

import pytest

from cases.services import consultation_respond
from tests.support.api import CONSULTATIONS, ROLES, WHY, Consults, case_url, consult_footprint, consultation_url, post

CASES = "/api/v1/cases/"
OVERSEERS = {"city_office", "inspector", "home_affairs", "admin"}
SXD = {"head", "deputy", "specialist", "clerk"}
SNNMT = {"consulted_head", "consulted_specialist"}
STC = {"outsider_head", "outsider_specialist"}


@pytest.fixture
def consults(city, log_case):
    return Consults(city, log_case)


@pytest.fixture
def world(consults):
    """A permit of sxd asking snnmt; a land case of snnmt asking sxd and stc (the rule requires both)."""
    [permit_snnmt] = consults.ask(consults.permit(), "snnmt")
    land = {c.department.code: c for c in consults.ask(consults.land(), "sxd", "stc")}
    return {"permit_snnmt": permit_snnmt, "land_sxd": land["sxd"], "land_stc": land["stc"]}


# Each unit sees the requests addressed to it and those on its own cases; never another unit's request
# on a case it was only consulted on.
SEEN_BY = {
    **{role: {"permit_snnmt", "land_sxd"} for role in SXD},
    **{role: {"permit_snnmt", "land_sxd", "land_stc"} for role in SNNMT},
    **{role: {"land_stc"} for role in STC},
    **{role: {"permit_snnmt", "land_sxd", "land_stc"} for role in OVERSEERS},
    # The Chairman's unit is neither consulted nor an owner here.
    "committee_head": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_list_shows_what_the_role_may_see(api, world, role):
    response = api(role).get(CONSULTATIONS)

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {world[name].pk for name in SEEN_BY[role]}


@pytest.mark.parametrize("role", ROLES)
def test_retrieve_answers_404_for_what_the_role_may_not_see(api, world, role):
    client = api(role)

    for name, consultation in world.items():
        expected = 200 if name in SEEN_BY[role] else 404
        assert client.get(f"{CONSULTATIONS}{consultation.pk}/").status_code == expected, name


@pytest.mark.parametrize("role", ROLES)
def test_the_consulted_unit_reads_the_case_and_an_outsider_does_not(api, world, role):
    case = world["permit_snnmt"].case

    response = api(role).get(f"{CASES}{case.reference}/")

    assert response.status_code == (404 if role in STC | {"nobody", "committee_head"} else 200)
    if response.status_code == 200:
        assert [c["id"] for c in response.json()["consultations"]] == [world["permit_snnmt"].pk]


def expected_answer(role, answering: set) -> int:
    """A request not addressed to the user's unit does not exist for a move on it, whoever sees its case: 404,
    and nothing is recorded (the page answers the same)."""
    return 200 if role in answering else 404


@pytest.mark.parametrize("role", ROLES)
def test_only_the_consulted_unit_answers(api, city, world, role):
    consultation = world["permit_snnmt"]
    before = consult_footprint(consultation.case)

    response = post(api(role), consultation_url(consultation, "respond"),
                    {"position": "disagree", "comment": "Vi phạm hành lang thủy lợi"})

    status = expected_answer(role, answering=SNNMT)
    assert response.status_code == status, response.content
    consultation.refresh_from_db()
    if status == 200:
        assert (consultation.status, consultation.answered_by) == ("answered", city.user(role))
        return
    assert consultation.status == "open"
    assert consult_footprint(consultation.case) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_consulted_units_head_assigns(api, city, world, role):
    consultation = world["permit_snnmt"]
    before = consult_footprint(consultation.case)

    response = post(api(role), consultation_url(consultation, "assign"), {"assignee": "consulted_specialist"})

    status = 403 if role == "consulted_specialist" else expected_answer(role, answering={"consulted_head"})
    assert response.status_code == status, response.content
    consultation.refresh_from_db()
    assert (consultation.assignee == city.user("consulted_specialist")) == (status == 200)
    if status in (403, 404):
        assert consult_footprint(consultation.case) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_consults(api, city, world, role):
    case = world["permit_snnmt"].case
    before = consult_footprint(case)

    response = post(api(role), case_url(case, "consult"),
                    {"departments": ["stc"], "question": "Ý kiến về nguồn vốn", "justification": WHY})

    if role in {"head", "deputy", "specialist"}:
        status = 201
    elif role == "clerk":
        status = 403  # of the owner, but the intake desk does not handle cases
    elif role in STC | {"nobody", "committee_head"}:
        status = 404
    else:
        status = 409  # the consulted unit and the overseers see the case but do not own it
    assert response.status_code == status, response.content
    if status == 409:
        assert response.json()["code"] == "not_owner"
    if status in (403, 404):
        assert consult_footprint(case) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owners_head_or_deputy_reconciles(api, city, consults, role):
    case, asked = consults.land_disagreement()
    before = consult_footprint(case)

    response = post(api(role), case_url(case, "reconcile"),
                    {"consultation": asked["stc"].pk, "note": "Đã thống nhất tại cuộc họp"})

    if role in {"consulted_head"}:
        status = 200
    elif role == "consulted_specialist":
        status = 403
    elif role in ("nobody", "committee_head"):
        status = 404
    else:
        status = 409  # sxd and stc were consulted on it, the overseers see everything: none owns it
    assert response.status_code == status, response.content
    if status == 409:
        assert response.json()["code"] == "not_owner"
    if status in (403, 404):
        assert consult_footprint(case) == before


@pytest.mark.parametrize("action", ["accept", "propose", "resolve", "return", "submit", "request-supplement"])
def test_a_consulted_unit_does_not_act_on_the_case(api, city, world, action):
    consultation = world["permit_snnmt"]
    consultation_respond(consultation=consultation, actor=city.user("consulted_specialist"), position="agree")
    case = consultation.case
    case_row, events, *rest = consult_footprint(case)

    response = post(api("consulted_head"), case_url(case, action),
                    {"note": "x", "reason": "x", "summary": "x", "items": "x"})

    assert response.status_code == 409
    assert response.json()["code"] == "not_owner"
    assert consult_footprint(case) == (case_row, events + 1, *rest)
