"""Consulting other units over HTTP (DESIGN.md §2 rules 6-7, §5): `consult` answers 201 with what it opened,
`respond` and `assign` with the consultation, `reconcile` with the case; refusals are 409 and recorded, bad
input is 400 and leaves nothing behind."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.models import Case, CaseEvent, Consultation, Reconciliation, RuleDispute
from cases.services import (
    attachment_add,
    case_reconcile,
    case_submit,
    consultation_respond,
)
from departments.models import Department
from departments.workdays import local_date
from tests.support.api import (
    CASES,
    CONSULTATION_FIELDS,
    CONSULTATIONS,
    DETAIL_FIELDS,
    QUESTION,
    WHY,
    case_url,
    consult_footprint,
    consultation_due_today,
    consultation_url,
    post,
)
from tests.support.cases import PDF_BYTES
from tests.support.world import local_datetime


def test_consult_answers_201_with_the_consultations_it_opened(api, consults):
    case = consults.permit()
    seen = case.version

    response = post(api("specialist"), case_url(case, "consult"),
                    {"departments": ["snnmt", "stc"], "question": QUESTION, "justification": WHY, "version": seen})

    assert response.status_code == 201, response.json()
    opened = response.json()
    assert [set(item) for item in opened] == [CONSULTATION_FIELDS] * 2
    assert [item["department"] for item in opened] == ["snnmt", "stc"]
    assert sorted(item["id"] for item in opened) == list(
        Consultation.unscoped.filter(case=case).order_by("id").values_list("id", flat=True))
    first = opened[0]
    assert {key: value for key, value in first.items() if key not in ("id", "department", "requested_at")} == {
        "case": case.reference, "question": QUESTION, "due_date": consultation_due_today().isoformat(),
        "status": "open", "position": "", "comment": "", "round": 1, "required": False, "justification": WHY,
        "requested_by": "specialist", "assignee": None, "answered_by": None, "answered_at": None,
        "answered_late": None, "overdue": False}
    case.refresh_from_db()
    assert case.version == seen + 1
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.action, event.actor.username, event.note) == ("consulted", "specialist", QUESTION)


def test_the_units_the_rule_requires_need_no_justification(api, consults):
    case = consults.land()

    response = post(api("consulted_head"), case_url(case, "consult"),
                    {"departments": ["sxd", "stc"], "question": "Ý kiến về giá đất và quy hoạch"})

    assert response.status_code == 201, response.json()
    assert [(c["department"], c["required"], c["justification"]) for c in response.json()] == [
        ("sxd", True, ""), ("stc", True, "")]


def test_a_second_round_follows_an_answer(api, consults):
    consultation = consults.answered_permit_consultation(position="agree_with_comments", comment="Cần bổ sung")

    response = post(api("specialist"), case_url(consultation.case, "consult"),
                    {"departments": ["snnmt"], "question": "Đã bổ sung, đề nghị cho ý kiến lại", "justification": WHY})

    assert response.status_code == 201
    assert [c["round"] for c in response.json()] == [2]


def test_respond_answers_with_the_consultation(api, consults):
    consultation = consults.open_permit_consultation()

    response = post(api("consulted_specialist"), consultation_url(consultation, "respond"),
                    {"position": "agree_with_comments", "comment": "Đồng ý, đề nghị lùi công trình 2 m"})

    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == CONSULTATION_FIELDS
    assert {key: data[key] for key in ("id", "status", "position", "comment", "answered_by", "answered_late")} == {
        "id": consultation.pk, "status": "answered", "position": "agree_with_comments",
        "comment": "Đồng ý, đề nghị lùi công trình 2 m", "answered_by": "consulted_specialist",
        "answered_late": False}
    assert data["answered_at"] is not None
    assert data == api("consulted_specialist").get(f"{CONSULTATIONS}{consultation.pk}/").json()
    event = CaseEvent.objects.filter(case=consultation.case).latest("id")
    assert (event.action, event.actor.username, event.payload["position"]) == (
        "consultation_answered", "consulted_specialist", "agree_with_comments")


def test_agreement_needs_no_comment(api, consults):
    consultation = consults.open_permit_consultation()

    response = post(api("consulted_head"), consultation_url(consultation, "respond"), {"position": "agree"})

    assert response.status_code == 200
    assert (response.json()["position"], response.json()["comment"]) == ("agree", "")


def test_not_competent_opens_a_rule_dispute(api, consults):
    consultation = consults.open_permit_consultation()

    response = post(api("consulted_head"), consultation_url(consultation, "respond"),
                    {"position": "not_competent", "comment": "Không thuộc chức năng của Sở NN&MT"})

    assert response.status_code == 200
    [dispute] = RuleDispute.objects.filter(case=consultation.case)
    assert (dispute.department.code, dispute.reason) == ("snnmt", "Không thuộc chức năng của Sở NN&MT")


def test_a_late_answer_replaces_the_presumed_agreement_and_stays_late(api, consults, monkeypatch):
    asked_on = local_datetime(2025, 11, 3, 9)  # a Monday; five working days to answer
    monkeypatch.setattr("django.utils.timezone.now", lambda: asked_on)
    case = consults.land(received_at=asked_on)
    [consultation] = consults.ask(case, "sxd")
    monkeypatch.undo()
    client = api("head")
    listed = client.get(CONSULTATIONS, {"case": case.reference}).json()["results"]
    assert (listed[0]["status"], listed[0]["overdue"]) == ("open", True)
    # The submission gate deems the silent required unit agreed, then stops at the unit never asked.
    assert post(api("consulted_head"), case_url(case, "submit"), {"summary": "Tờ trình"}).json()["code"] == (
        "consultations_pending")

    response = post(client, consultation_url(consultation, "respond"),
                    {"position": "disagree", "comment": "Vị trí giao đất chồng lấn quy hoạch giao thông"})

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["position"], data["answered_late"], data["overdue"]) == (
        "answered", "disagree", True, False)


def test_silence_past_the_deadline_lets_the_submission_through(api, consults, monkeypatch):
    asked_on = local_datetime(2025, 11, 3, 9)
    monkeypatch.setattr("django.utils.timezone.now", lambda: asked_on)
    case = consults.land(received_at=asked_on)
    consults.ask(case, "sxd", "stc")
    monkeypatch.undo()

    response = post(api("consulted_head"), case_url(case, "submit"), {"summary": "Tờ trình giao đất"})

    assert response.status_code == 200, response.json()
    assert [(c["status"], c["overdue"]) for c in response.json()["consultations"]] == [("deemed_agreed", False)] * 2


def test_assign_names_who_prepares_the_answer(api, consults):
    consultation = consults.open_permit_consultation()

    response = post(api("consulted_head"), consultation_url(consultation, "assign"),
                    {"assignee": "consulted_specialist"})

    assert response.status_code == 200, response.json()
    assert set(response.json()) == CONSULTATION_FIELDS
    assert (response.json()["assignee"], response.json()["status"]) == ("consulted_specialist", "open")
    event = CaseEvent.objects.filter(case=consultation.case).latest("id")
    assert (event.action, event.payload["assignee"]) == ("consultation_assigned", "consulted_specialist")


def test_reconcile_answers_with_the_case(api, city, consults, media_root):
    case, asked = consults.land_disagreement()
    minutes = attachment_add(case=case, actor=city.user("consulted_specialist"), upload=SimpleUploadedFile(
        "bien-ban-hop.pdf", PDF_BYTES, content_type="application/pdf"))
    case.refresh_from_db()
    yesterday = local_date(timezone.now()) - dt.timedelta(days=1)

    response = post(api("consulted_head"), case_url(case, "reconcile"), {
        "consultation": asked["stc"].pk, "note": "Họp liên ngành ngày hôm qua, Sở Tài chính thống nhất",
        "settled_on": yesterday.isoformat(), "attachment": minutes.pk, "version": case.version})

    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == DETAIL_FIELDS
    assert data == api("consulted_head").get(f"{CASES}{case.reference}/").json()
    assert (data["status"], data["version"]) == ("in_progress", case.version + 1)
    reconciliations = {c["department"]: c["reconciliation"] for c in data["consultations"]}
    assert reconciliations == {
        "sxd": None,
        "stc": {"note": "Họp liên ngành ngày hôm qua, Sở Tài chính thống nhất", "settled_on": yesterday.isoformat(),
                "recorded_by": "consulted_head", "attachment": minutes.pk}}
    assert (data["events"][-1]["action"], data["events"][-1]["actor"]) == ("reconciled", "consulted_head")


def test_reconcile_settles_today_when_no_date_is_given(api, consults):
    case, asked = consults.land_disagreement()

    response = post(api("consulted_head"), case_url(case, "reconcile"),
                    {"consultation": asked["stc"].pk, "note": "Đã thống nhất qua điện thoại"})

    assert response.status_code == 200
    [settled] = [c["reconciliation"] for c in response.json()["consultations"] if c["department"] == "stc"]
    assert (settled["settled_on"], settled["attachment"]) == (local_date(timezone.now()).isoformat(), None)


def test_the_whole_path_from_consultation_to_decision(api, city):
    """Consult two units, one agrees and one disagrees, the submission waits for a reconciliation."""
    clerk, owner_specialist, owner_head = api("clerk"), api("consulted_specialist"), api("consulted_head")
    logged = post(clerk, CASES, {"title": "Giao đất xây dựng trường mầm non phường Lê Chân",
                                 "case_type": "land-allocation", "applicant_name": "UBND phường Lê Chân"})
    assert logged.status_code == 201, logged.json()
    case = Case.unscoped.get(reference=logged.json()["reference"])
    assert (logged.json()["owner"], logged.json()["status"]) == ("snnmt", "routed")
    assert post(owner_specialist, case_url(case, "accept")).status_code == 200

    opened = post(owner_specialist, case_url(case, "consult"),
                  {"departments": ["sxd", "stc"], "question": "Ý kiến về quy hoạch và giá đất"})
    assert opened.status_code == 201
    asked = {c["department"]: c["id"] for c in opened.json()}
    agreed = post(api("specialist"), f"{CONSULTATIONS}{asked['sxd']}/respond/", {"position": "agree"})
    assigned = post(api("outsider_head"), f"{CONSULTATIONS}{asked['stc']}/assign/",
                    {"assignee": "outsider_specialist"})
    disagreed = post(api("outsider_specialist"), f"{CONSULTATIONS}{asked['stc']}/respond/",
                     {"position": "disagree", "comment": "Chưa xác định nguồn vốn bồi thường"})
    assert (agreed.status_code, assigned.status_code, disagreed.status_code) == (200, 200, 200)

    refused = post(owner_head, case_url(case, "submit"), {"summary": "Tờ trình giao đất"})
    assert (refused.status_code, refused.json()["code"]) == (409, "unresolved_disagreement")
    assert "Sở Tài chính" in refused.json()["detail"]

    reconciled = post(owner_head, case_url(case, "reconcile"),
                      {"consultation": asked["stc"], "note": "Sở Tài chính thống nhất nguồn vốn ngân sách phường"})
    assert reconciled.status_code == 200, reconciled.json()
    submitted = post(owner_head, case_url(case, "submit"), {"summary": "Tờ trình giao đất",
                                                            "version": reconciled.json()["version"]})
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")

    decided = post(api("city_office"), case_url(case, "decide"), {"outcome": "approved", "note": "Đồng ý"})
    assert (decided.status_code, decided.json()["status"], decided.json()["outcome"]) == (200, "resolved", "approved")
    shown = {c["department"]: (c["status"], c["position"], bool(c["reconciliation"]))
             for c in decided.json()["consultations"]}
    assert shown == {"sxd": ("answered", "agree", False), "stc": ("answered", "disagree", True)}
    assert [e["action"] for e in decided.json()["events"]][-8:] == [
        "consulted", "consultation_answered", "consultation_assigned", "consultation_answered", "refused",
        "reconciled", "submitted", "decided"]


# --- refusals --------------------------------------------------------------------------------------------------


def permit_asked_without_justification(consults):
    case = consults.permit()
    return case, case_url(case, "consult"), {"departments": ["snnmt"], "question": QUESTION}


def permit_asked_twice(consults):
    consultation = consults.open_permit_consultation()
    return consultation.case, case_url(consultation.case, "consult"), {
        "departments": ["stc", "snnmt"], "question": QUESTION, "justification": WHY}


def permit_asked_too_often(consults):
    consultation = consults.answered_permit_consultation()
    case = consultation.case
    [second] = consults.ask(case, "snnmt")
    consultation_respond(consultation=second, actor=consults.user("consulted_head"), position="agree")
    return case, case_url(case, "consult"), {"departments": ["snnmt"], "question": QUESTION, "justification": WHY}


def consulted_unit_consults(consults):
    case = consults.open_permit_consultation().case
    return case, case_url(case, "consult"), {"departments": ["stc"], "question": QUESTION, "justification": WHY}


def consulted_unit_accepts(consults):
    case = consults.open_permit_consultation().case
    return case, case_url(case, "propose"), {"note": "Đề nghị cấp phép"}


def consulted_unit_reconciles(consults):
    case, asked = consults.land_disagreement()
    return case, case_url(case, "reconcile"), {"consultation": asked["stc"].pk, "note": "Tự hòa giải"}


def consulted_unit_submits(consults):
    case, _ = consults.land_disagreement()
    return case, case_url(case, "submit"), {"summary": "Tờ trình"}


def submitted_before_anyone_was_asked(consults):
    case = consults.land()
    return case, case_url(case, "submit"), {"summary": "Tờ trình giao đất"}


def submitted_while_a_required_unit_thinks(consults):
    case = consults.land()
    consults.ask(case, "sxd", "stc")
    return case, case_url(case, "submit"), {"summary": "Tờ trình giao đất"}


def submitted_over_a_disagreement(consults):
    case, _ = consults.land_disagreement()
    return case, case_url(case, "submit"), {"summary": "Tờ trình giao đất"}


def consulted_before_accepting(consults):
    case = consults.log_case()
    return case, case_url(case, "consult"), {"departments": ["snnmt"], "question": QUESTION, "justification": WHY}


def reconciled_after_submission(consults):
    case, asked = consults.land_disagreement()
    case_reconcile(case=case, actor=consults.user("consulted_head"), consultation=asked["stc"], note="Đã thống nhất")
    case = case_submit(case=case, actor=consults.user("consulted_head"), summary="Tờ trình")
    return case, case_url(case, "reconcile"), {"consultation": asked["sxd"].pk, "note": "Muộn"}


def answered_twice(consults):
    consultation = consults.answered_permit_consultation()
    return consultation.case, consultation_url(consultation, "respond"), {"position": "agree"}


def assigned_after_the_answer(consults):
    consultation = consults.answered_permit_consultation()
    return consultation.case, consultation_url(consultation, "assign"), {"assignee": "consulted_specialist"}


def consulted_with_a_stale_version(consults):
    case = consults.permit()
    return case, case_url(case, "consult"), {"departments": ["snnmt"], "question": QUESTION, "justification": WHY,
                                              "version": case.version - 1}


# (how to get there, actor, refusal code, attempted)
REFUSALS = [
    (permit_asked_without_justification, "specialist", "justification_required", "consult"),
    (permit_asked_twice, "deputy", "consultation_open", "consult"),
    (permit_asked_too_often, "head", "max_rounds_exceeded", "consult"),
    (consulted_unit_consults, "consulted_head", "not_owner", "consult"),
    (consulted_unit_accepts, "consulted_specialist", "not_owner", "propose"),
    (consulted_unit_reconciles, "head", "not_owner", "reconcile"),
    (consulted_unit_submits, "outsider_head", "not_owner", "submit"),
    (submitted_before_anyone_was_asked, "consulted_head", "consultations_pending", "submit"),
    (submitted_while_a_required_unit_thinks, "consulted_head", "consultations_pending", "submit"),
    (submitted_over_a_disagreement, "consulted_head", "unresolved_disagreement", "submit"),
    (consulted_before_accepting, "specialist", "invalid_transition", "consult"),
    (reconciled_after_submission, "consulted_head", "invalid_transition", "reconcile"),
    (answered_twice, "consulted_specialist", "invalid_transition", "respond"),
    (assigned_after_the_answer, "consulted_head", "invalid_transition", "assign_consultation"),
    (consulted_with_a_stale_version, "specialist", "case_changed", "consult"),
]


@pytest.mark.parametrize(("prepare", "actor", "code", "attempted"), REFUSALS,
                         ids=[f"{row[0].__name__}-{row[2]}" for row in REFUSALS])
def test_refusals_are_409_with_code_and_recorded(api, city, consults, prepare, actor, code, attempted):
    case, path, body = prepare(consults)
    case_row, events, *rest = consult_footprint(case)

    response = post(api(actor), path, body)

    assert response.status_code == 409, response.json()
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == code
    assert consult_footprint(case) == (case_row, events + 1, *rest)
    refusal = CaseEvent.objects.filter(case=case).latest("id")
    assert (refusal.action, refusal.actor, refusal.payload["code"], refusal.payload["attempted"]) == (
        "refused", city.user(actor), code, attempted)
    assert refusal.note == response.json()["detail"]


def test_a_refused_consultation_names_the_units_at_fault(api, consults):
    case, path, body = permit_asked_without_justification(consults)

    response = post(api("specialist"), path, body)

    assert "Sở Nông nghiệp và Môi trường" in response.json()["detail"]


def test_the_consulted_units_staff_without_the_role_may_not_assign(api, consults):
    consultation = consults.open_permit_consultation()
    before = consult_footprint(consultation.case)

    response = post(api("consulted_specialist"), consultation_url(consultation, "assign"),
                    {"assignee": "consulted_specialist"})

    assert response.status_code == 403
    assert consult_footprint(consultation.case) == before


def test_the_owners_specialist_may_not_reconcile(api, consults):
    case, asked = consults.land_disagreement()
    before = consult_footprint(case)

    response = post(api("consulted_specialist"), case_url(case, "reconcile"),
                    {"consultation": asked["stc"].pk, "note": "Đã thống nhất"})

    assert response.status_code == 403
    assert consult_footprint(case) == before


# --- bad input -------------------------------------------------------------------------------------------------


def other_case_consultation(consults):
    return consults.open_permit_consultation().pk


CONSULT = {"question": QUESTION, "justification": WHY}
# (stage: "permit" a case to consult on, "consultation" an open one, "disagreement" a land case to reconcile;
#  actor, action, body, field at fault)
BAD_INPUT = [
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["khong-co"]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["snnmt", "khong-co"]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": []}, "departments"),
    ("permit", "specialist", "consult", CONSULT, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": "snnmt"}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": {"snnmt": True}}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["snnmt", "snnmt"]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["sxd"]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": [None]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": [["snnmt"]]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["x" * 33]}, "departments"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["snnmt"] + [f"u{n}" for n in range(50)]},
     "departments"),
    ("permit", "specialist", "consult", {"departments": ["snnmt"], "justification": WHY}, "question"),
    ("permit", "specialist", "consult", {"departments": ["snnmt"], "question": "  ", "justification": WHY},
     "question"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["snnmt"], "question": "x" * 10_001}, "question"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["snnmt"], "version": "abc"}, "version"),
    ("permit", "specialist", "consult", {**CONSULT, "departments": ["snnmt"], "version": 2.5}, "version"),
    ("consultation", "consulted_specialist", "respond", {"position": "maybe", "comment": "?"}, "position"),
    ("consultation", "consulted_specialist", "respond", {"comment": "Đồng ý"}, "position"),
    ("consultation", "consulted_specialist", "respond", {"position": "disagree"}, "comment"),
    ("consultation", "consulted_specialist", "respond", {"position": "disagree", "comment": "   "}, "comment"),
    ("consultation", "consulted_specialist", "respond", {"position": "agree_with_comments"}, "comment"),
    ("consultation", "consulted_specialist", "respond", {"position": "not_competent", "comment": ""}, "comment"),
    ("consultation", "consulted_specialist", "respond", {"position": "agree", "comment": "x" * 10_001}, "comment"),
    ("consultation", "consulted_head", "assign", {}, "assignee"),
    ("consultation", "consulted_head", "assign", {"assignee": "khong-ai"}, "assignee"),
    ("consultation", "consulted_head", "assign", {"assignee": "specialist"}, "assignee"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": 999_999, "note": "x"}, "consultation"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "abc", "note": "x"}, "consultation"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": 2**70, "note": "x"}, "consultation"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": other_case_consultation, "note": "x"},
     "consultation"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "sxd", "note": "Sở Xây dựng đồng ý"},
     "consultation"),
    ("disagreement", "consulted_head", "reconcile", {"note": "Đã thống nhất"}, "consultation"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc"}, "note"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc", "note": " "}, "note"),
    ("disagreement", "consulted_head", "reconcile",
     {"consultation": "stc", "note": "x", "settled_on": (dt.date.today() + dt.timedelta(days=2)).isoformat()},
     "settled_on"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc", "note": "x", "settled_on": "31/12/2025"},
     "settled_on"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc", "note": "x", "attachment": 999_999},
     "attachment"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc", "note": "x", "attachment": "tệp"},
     "attachment"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc", "note": "x", "version": "abc"},
     "version"),
    ("disagreement", "consulted_head", "reconcile", {"consultation": "stc", "note": "x", "version": [3]}, "version"),
]


def prepare_bad_input(consults, stage, action, body):
    """The case the request is about, its path, and the body with the consultations named by unit resolved."""
    body = dict(body)
    if stage == "permit":
        case = consults.permit()
        return case, case_url(case, action), body
    if stage == "consultation":
        consultation = consults.open_permit_consultation()
        return consultation.case, consultation_url(consultation, action), body
    case, asked = consults.land_disagreement()
    value = body.get("consultation")
    if callable(value):
        body["consultation"] = value(consults)
    elif value in asked:
        body["consultation"] = asked[value].pk
    return case, case_url(case, "reconcile"), body


@pytest.mark.parametrize(("stage", "actor", "action", "body", "field"), BAD_INPUT,
                         ids=[f"{row[2]}-{row[4]}-{n}" for n, row in enumerate(BAD_INPUT)])
def test_bad_input_is_400_and_changes_nothing(api, consults, stage, actor, action, body, field):
    case, path, body = prepare_bad_input(consults, stage, action, body)
    before = consult_footprint(case)
    consultations, reconciliations = Consultation.unscoped.count(), Reconciliation.objects.count()

    response = post(api(actor), path, body)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert consult_footprint(case) == before
    assert (Consultation.unscoped.count(), Reconciliation.objects.count()) == (consultations, reconciliations)


def test_an_inactive_unit_is_not_consulted(api, consults):
    case = consults.permit()
    Department.objects.filter(code="stc").update(active=False)

    response = post(api("specialist"), case_url(case, "consult"), {**CONSULT, "departments": ["snnmt", "stc"]})

    assert response.status_code == 400
    assert "stc" in response.json()["departments"][0]
    assert not Consultation.unscoped.exists()


def test_an_attachment_of_another_case_is_refused_as_unknown(api, city, consults, media_root):
    other = consults.permit()
    elsewhere = attachment_add(case=other, actor=city.user("specialist"), upload=SimpleUploadedFile(
        "ban-ve.pdf", PDF_BYTES, content_type="application/pdf"))
    case, asked = consults.land_disagreement()
    before = consult_footprint(case)

    response = post(api("consulted_head"), case_url(case, "reconcile"),
                    {"consultation": asked["stc"].pk, "note": "Đã thống nhất", "attachment": elsewhere.pk})

    assert response.status_code == 400
    assert "attachment" in response.json()
    assert consult_footprint(case) == before


def test_a_disagreement_is_reconciled_once(api, consults):
    case, asked = consults.land_disagreement()
    first = post(api("consulted_head"), case_url(case, "reconcile"), {"consultation": asked["stc"].pk, "note": "x"})
    before = consult_footprint(case)

    again = post(api("consulted_head"), case_url(case, "reconcile"), {"consultation": asked["stc"].pk, "note": "y"})

    assert (first.status_code, again.status_code) == (200, 400)
    assert "consultation" in again.json()
    assert consult_footprint(case) == before


PATHS = {
    "consult": lambda consultation: case_url(consultation.case, "consult"),
    "reconcile": lambda consultation: case_url(consultation.case, "reconcile"),
    "respond": lambda consultation: consultation_url(consultation, "respond"),
    "assign": lambda consultation: consultation_url(consultation, "assign"),
}
ACTORS = {"consult": "specialist", "reconcile": "head", "respond": "consulted_specialist", "assign": "consulted_head"}


@pytest.mark.parametrize("action", PATHS)
@pytest.mark.parametrize("payload", [b'{"question": ', b"[1, 2]", b"null", b"\xff\xfe", b'"snnmt"'])
def test_malformed_json_is_400_and_changes_nothing(api, consults, action, payload):
    consultation = consults.open_permit_consultation()
    before = consult_footprint(consultation.case)

    response = api(ACTORS[action]).post(PATHS[action](consultation), payload, content_type="application/json")

    assert response.status_code == 400
    assert consult_footprint(consultation.case) == before


@pytest.mark.parametrize("action", PATHS)
def test_actions_take_only_post(api, consults, action):
    consultation = consults.open_permit_consultation()

    assert api(ACTORS[action]).get(PATHS[action](consultation)).status_code == 405


def test_an_unknown_consultation_is_404(api, city):
    assert post(api("consulted_head"), f"{CONSULTATIONS}999999/respond/", {"position": "agree"}).status_code == 404
    assert post(api("consulted_head"), f"{CONSULTATIONS}khong-so/respond/", {"position": "agree"}).status_code == 404
