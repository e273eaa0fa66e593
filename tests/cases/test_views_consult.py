"""Asking for opinions and reconciling a disagreement from the case page, through the generic action view
(DESIGN.md §2 rules 6 and 7).

The appraisal case belongs to Sở Xây dựng; its rule requires the opinion of Sở Nông nghiệp và Môi trường,
and Sở Tài chính may be asked only with a written justification.
"""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Consultation, EventAction, Reconciliation, Status
from cases.services import attachment_add
from departments.workdays import local_date
from tests.support.cases import consultation_footprint, footprint, last_event_id, pdf_upload

QUESTION = "Đề nghị cho ý kiến về báo cáo đánh giá tác động môi trường của dự án"
SETTLED = "Đã thống nhất tại cuộc họp liên ngành: bổ sung đánh giá tác động môi trường"


def action_url(case, action):
    return reverse("case-action", args=[case.reference, action])


def detail_url(case):
    return reverse("case-detail", args=[case.reference])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.wsgi_request._messages]


def consult_data(case, *codes, **overrides):
    return {"version": case.version, "departments": list(codes or ["snnmt"]), "question": QUESTION, **overrides}


def unchanged(case):
    """What a refused or invalid request must leave as it was."""
    return footprint(case), consultation_footprint(case)


def offered(response) -> dict:
    return {action["slug"]: action for action in response.context["actions"]}


# The consult form --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["specialist", "deputy", "head"])
def test_the_owner_handlers_are_offered_the_rule_consultees_first_and_checked(signed_in, consulting, role):
    case = consulting.case()
    response = signed_in(role).get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    form = offered(response)["consult"]["form"]
    required, others = form.unit_choices()
    assert [(choice.unit.code, choice.required, choice.checked) for choice in required] == [("snnmt", True, True)]
    assert [choice.unit.code for choice in others] == ["stc", "p-le-chan", "snv", "ttr", "vp", "x-an-duong"]
    assert not any(choice.checked or choice.required for choice in others)
    html = response.content.decode()
    assert f'action="{action_url(case, "consult")}"' in html
    # In the page too: the required unit first, marked and checked; the others unchecked, needing a justification.
    assert html.index('data-code="snnmt" data-required="true"') < html.index('data-code="stc" data-required="false"')
    assert re.search(r'value="snnmt" id="id_consult_departments_snnmt"\s+checked', html)
    assert not re.search(r'value="stc" id="id_consult_departments_stc"\s+checked', html)
    for text in ["required by the rule", "Each needs a written justification", 'name="justification"',
                 'name="question"']:
        assert text in html, text
    # Neither the owner itself nor the City Committee is offered.
    assert 'data-code="sxd"' not in html
    assert 'data-code="ubnd"' not in html


def test_a_required_unit_already_asked_is_not_checked_again_and_shows_its_state(signed_in, consulting):
    case = consulting.case()
    [consultation] = consulting.ask(case)
    case.refresh_from_db()
    response = signed_in("specialist").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    [required], _others = offered(response)["consult"]["form"].unit_choices()
    assert (required.checked, required.latest) == (False, consultation)
    assert f"Round 1 waiting for the answer, due {consultation.due_date:%d/%m/%Y}" in response.content.decode()


@pytest.mark.parametrize(("stage", "role"), [("in_progress", "consulted_specialist"), ("in_progress", "inspector"),
                                             ("in_progress", "clerk"), ("in_progress", "city_office"),
                                             ("routed", "head"), ("submitted", "head"),
                                             ("awaiting_supplement", "specialist")])
def test_it_is_not_offered_to_others_or_outside_in_progress(signed_in, consulting, city, stage, role):
    case = consulting.case() if stage == "in_progress" else consulting.stages(stage)
    if role == "consulted_specialist":
        consulting.ask(case)
    assert "consult" not in offered(signed_in(role).get(detail_url(case)))


def test_a_rule_without_consultees_says_so(signed_in, stages):
    case = stages.in_progress()
    html = signed_in("specialist").get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-test="no-required-consultees"' in html
    assert 'data-test="consultations"' not in html  # nothing asked and nothing required: no panel


# Consulting --------------------------------------------------------------------------------------------------


def test_the_specialist_consults_the_required_unit(signed_in, city, consulting):
    case = consulting.case()
    response = signed_in("specialist").post(action_url(case, "consult"), consult_data(case))
    assert response.status_code == 302
    assert response.url == detail_url(case)
    [consultation] = Consultation.unscoped.filter(case=case)
    assert (consultation.department, consultation.required, consultation.question, consultation.requested_by) == (
        city.consulted, True, QUESTION, city.user("specialist"))
    assert case.events.order_by("-id").first().action == EventAction.CONSULTED
    assert [level for level, _text in messages_of(response)] == ["success"]


def test_another_unit_with_a_justification_is_consulted_as_non_required(signed_in, city, consulting):
    case = consulting.case()
    signed_in("head").post(action_url(case, "consult"), consult_data(
        case, "snnmt", "stc", justification="Dự án sử dụng vốn ngân sách thành phố"))
    consultations = {c.department.code: c for c in Consultation.unscoped.filter(case=case)}
    assert (consultations["snnmt"].required, consultations["stc"].required) == (True, False)
    assert consultations["stc"].justification == "Dự án sử dụng vốn ngân sách thành phố"


def test_another_unit_without_a_justification_is_refused_and_the_refusal_shown(signed_in, city, consulting):
    case = consulting.case()
    before, last = unchanged(case), last_event_id(case)
    response = signed_in("specialist").post(action_url(case, "consult"), consult_data(case, "snnmt", "stc"),
                                            follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert unchanged(case) == before
    [event] = case.events.filter(id__gt=last)
    assert (event.action, event.payload["code"], event.actor) == (EventAction.REFUSED, "justification_required",
                                                                  city.user("specialist"))
    html = response.content.decode()
    assert 'data-refusal="true"' in html
    assert "Ask for opinions was refused" in html
    assert "Not among the consultees the rule requires: Sở Tài chính." in html


def test_asking_again_while_the_unit_has_not_answered_is_refused(signed_in, consulting):
    case = consulting.case()
    consulting.ask(case)
    case.refresh_from_db()
    before = unchanged(case)
    response = signed_in("specialist").post(action_url(case, "consult"), consult_data(case), follow=True)
    assert unchanged(case) == before
    assert case.events.order_by("-id").first().payload["code"] == "consultation_open"
    assert 'data-refusal="true"' in response.content.decode()


def test_a_third_round_is_refused(signed_in, consulting):
    case = consulting.case()
    for _round in range(2):
        [consultation] = consulting.ask(case)
        consulting.disagree(consultation)
    case.refresh_from_db()
    before = unchanged(case)
    response = signed_in("specialist").post(action_url(case, "consult"), consult_data(case), follow=True,
                                            HTTP_ACCEPT_LANGUAGE="en")
    assert unchanged(case) == before
    assert case.events.order_by("-id").first().payload["code"] == "max_rounds_exceeded"
    assert "Already consulted 2 times on this case" in response.content.decode()


@pytest.mark.parametrize(("data", "expected"), [
    ({"departments": []}, "Choose at least one department to consult."),
    ({"question": "  "}, "Question: This field is required."),
    ({"departments": ["no-such-unit"]}, "Select a valid choice."),
    ({"departments": ["sxd"]}, "A department does not consult itself."),  # the owner itself, as the API says
    ({"departments": ["ubnd"]}, "Select a valid choice."),
])
def test_bad_input_changes_nothing(signed_in, consulting, data, expected):
    case = consulting.case()
    before, last = unchanged(case), last_event_id(case)
    response = signed_in("specialist").post(action_url(case, "consult"), consult_data(case, **data),
                                            HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert (unchanged(case), last_event_id(case)) == (before, last)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert expected in text


def test_an_outsider_gets_404_and_nothing_is_recorded(signed_in, consulting):
    case = consulting.case()
    before, last = unchanged(case), last_event_id(case)
    assert signed_in("outsider_head").post(action_url(case, "consult"), consult_data(case)).status_code == 404
    assert (unchanged(case), last_event_id(case)) == (before, last)


@pytest.mark.parametrize("role", ["inspector", "consulted_head"])
def test_those_who_see_the_case_but_do_not_own_it_are_refused_and_recorded(signed_in, city, consulting, role):
    case = consulting.case()
    if role == "consulted_head":
        [consultation] = consulting.ask(case)
        consulting.answer(consultation)
        case.refresh_from_db()
    before = unchanged(case)
    signed_in(role).post(action_url(case, "consult"), consult_data(case, "stc", justification="Lý do"))
    assert unchanged(case) == before
    event = case.events.order_by("-id").first()
    assert (event.action, event.payload["code"], event.actor) == (EventAction.REFUSED, "not_owner", city.user(role))


def test_the_intake_clerk_of_the_owner_gets_403(signed_in, consulting):
    case = consulting.case()
    before, last = unchanged(case), last_event_id(case)
    assert signed_in("clerk").post(action_url(case, "consult"), consult_data(case)).status_code == 403
    assert (unchanged(case), last_event_id(case)) == (before, last)


def test_anonymous_is_sent_to_login(signed_in, consulting):
    case = consulting.case()
    response = signed_in("anonymous").post(action_url(case, "consult"), consult_data(case))
    assert response.url.startswith(reverse("login"))
    assert not Consultation.unscoped.exists()


@pytest.mark.parametrize("action", ["consult", "reconcile"])
def test_wrong_method(signed_in, consulting, action):
    case = consulting.case()
    assert signed_in("head").get(action_url(case, action)).status_code == 405


def test_a_stale_page_is_refused(signed_in, consulting):
    case = consulting.case()
    signed_in("specialist").post(action_url(case, "consult"), consult_data(case, version=case.version + 1))
    assert not Consultation.unscoped.exists()
    assert case.events.order_by("-id").first().payload == {
        "code": "case_changed", "attempted": "consult", "expected_version": case.version + 1,
        "version": case.version}


# Reconciling -------------------------------------------------------------------------------------------------


@pytest.fixture
def disagreement(consulting, city):
    """The required unit disagreed; the case has one file the head may cite."""
    case = consulting.case()
    [consultation] = consulting.ask(case)
    consulting.disagree(consultation)
    attachment_add(case=case, actor=city.user("specialist"), upload=pdf_upload("bien-ban-hop-lien-nganh.pdf"))
    case.refresh_from_db()
    return case, consultation


def reconcile_data(case, answer, **overrides):
    return {"version": case.version, "consultation": answer.pk, "note": SETTLED, **overrides}


@pytest.mark.usefixtures("media_root")
@pytest.mark.parametrize("role", ["head", "deputy"])
def test_the_head_sees_a_reconcile_form_beside_the_disagreement(signed_in, disagreement, role):
    case, consultation = disagreement
    response = signed_in(role).get(detail_url(case), HTTP_ACCEPT_LANGUAGE="en")
    [row] = response.context["consultations"]
    form = row["reconcile"]["form"]
    assert form["consultation"].value() == consultation.pk
    assert form["settled_on"].value() == local_date(timezone.now())
    assert [label for _pk, label in form.fields["attachment"].choices] == ["None", "bien-ban-hop-lien-nganh.pdf"]
    html = response.content.decode()
    assert 'data-test="reconcile-toggle"' in html
    assert f'action="{action_url(case, "reconcile")}"' in html
    assert "reconcile" not in offered(response)  # beside the disagreement, not in the actions card


@pytest.mark.usefixtures("media_root")
@pytest.mark.parametrize("role", ["specialist", "consulted_head", "inspector"])
def test_others_see_no_reconcile_form(signed_in, disagreement, role):
    case, _consultation = disagreement
    [row] = signed_in(role).get(detail_url(case)).context["consultations"]
    assert row["reconcile"] is None


@pytest.mark.usefixtures("media_root")
def test_the_head_reconciles_with_a_date_and_a_file_and_then_submits(signed_in, city, disagreement):
    case, consultation = disagreement
    attachment = case.attachments.get()
    client = signed_in("head")
    response = client.post(action_url(case, "submit"),
                           {"version": case.version, "summary": "Tờ trình", "confirmed": "yes"},
                           follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert case.events.order_by("-id").first().payload["code"] == "unresolved_disagreement"
    assert "Disagreements without a recorded settlement" in response.content.decode()
    case.refresh_from_db()

    yesterday = local_date(timezone.now()) - dt.timedelta(days=1)
    response = client.post(action_url(case, "reconcile"), reconcile_data(
        case, consultation, settled_on=yesterday.isoformat(), attachment=attachment.pk), follow=True,
        HTTP_ACCEPT_LANGUAGE="en")
    reconciliation = Reconciliation.objects.get(consultation=consultation)
    assert (reconciliation.note, reconciliation.settled_on, reconciliation.attachment, reconciliation.recorded_by) == (
        SETTLED, yesterday, attachment, city.user("head"))
    html = response.content.decode()
    assert 'data-test="reconciliation"' in html
    assert SETTLED in html
    assert "bien-ban-hop-lien-nganh.pdf" in html
    assert response.context["consultations"][0]["reconcile"] is None  # reconciled: no form any more

    case.refresh_from_db()
    client.post(action_url(case, "submit"), {"version": case.version, "summary": "Tờ trình", "confirmed": "yes"})
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED


@pytest.mark.usefixtures("media_root")
def test_an_empty_date_is_today(signed_in, disagreement):
    case, consultation = disagreement
    signed_in("deputy").post(action_url(case, "reconcile"), reconcile_data(case, consultation, settled_on=""))
    assert Reconciliation.objects.get().settled_on == local_date(timezone.now())


@pytest.fixture
def agreement(consulting):
    case = consulting.case()
    [consultation] = consulting.ask(case)
    consulting.answer(consultation)
    case.refresh_from_db()
    return case, consultation


@pytest.mark.usefixtures("media_root")
@pytest.mark.parametrize(("data", "expected"), [
    ({"note": ""}, "How the disagreement was settled: This field is required."),
    ({"settled_on": "2099-01-01"}, "The settlement date cannot be in the future."),
    ({"settled_on": "hôm qua"}, "Enter a valid date."),
    ({"attachment": "999999"}, "This case has no attachment with this id."),
    ({"consultation": ""}, "which answer you reconcile"),
    ({"consultation": "999999"}, "This case has no consultation with this id."),
])
def test_bad_reconcile_input_changes_nothing(signed_in, disagreement, data, expected):
    case, consultation = disagreement
    before, last = unchanged(case), last_event_id(case)
    response = signed_in("head").post(action_url(case, "reconcile"), reconcile_data(case, consultation, **data),
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert (unchanged(case), last_event_id(case)) == (before, last)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert expected in text


def test_an_agreement_needs_no_reconciliation(signed_in, agreement):
    case, consultation = agreement
    before, last = unchanged(case), last_event_id(case)
    response = signed_in("head").post(action_url(case, "reconcile"), reconcile_data(case, consultation),
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert (unchanged(case), last_event_id(case)) == (before, last)
    assert "Only a disagreement needs a reconciliation." in messages_of(response)[0][1]


@pytest.mark.usefixtures("media_root")
def test_a_consultation_of_another_case_is_not_accepted(signed_in, disagreement, agreement):
    case, _consultation = disagreement
    _other, foreign = agreement
    case.refresh_from_db()
    before = unchanged(case)
    response = signed_in("head").post(action_url(case, "reconcile"), reconcile_data(case, foreign),
                                      HTTP_ACCEPT_LANGUAGE="en")
    assert unchanged(case) == before
    assert "This case has no consultation with this id." in messages_of(response)[0][1]


@pytest.mark.usefixtures("media_root")
def test_a_second_reconciliation_changes_nothing(signed_in, disagreement):
    case, consultation = disagreement
    client = signed_in("head")
    client.post(action_url(case, "reconcile"), reconcile_data(case, consultation))
    case.refresh_from_db()
    before = unchanged(case)
    response = client.post(action_url(case, "reconcile"), reconcile_data(case, consultation),
                           HTTP_ACCEPT_LANGUAGE="en")
    assert unchanged(case) == before
    assert messages_of(response)[-1] == ("error", "Reconcile the disagreement was not done: This disagreement was "
                                                   "already reconciled.")


@pytest.mark.usefixtures("media_root")
@pytest.mark.parametrize(("role", "status"), [("specialist", 403), ("outsider_head", 404), ("consulted_head", 302),
                                              ("anonymous", 302)])
def test_only_the_owner_head_or_deputy_reconciles(signed_in, city, disagreement, role, status):
    case, consultation = disagreement
    before = unchanged(case)
    response = signed_in(role).post(action_url(case, "reconcile"), reconcile_data(case, consultation))
    assert response.status_code == status
    assert unchanged(case) == before
    if role == "consulted_head":  # sees the case as consulted: refused and recorded
        assert case.events.order_by("-id").first().payload["code"] == "not_owner"
    if role == "anonymous":
        assert response.url.startswith(reverse("login"))


def test_a_superseded_disagreement_is_not_offered(signed_in, consulting):
    case = consulting.case()
    [first] = consulting.ask(case)
    consulting.disagree(first)
    [second] = consulting.ask(case)
    consulting.answer(second)
    rows = signed_in("head").get(detail_url(case)).context["consultations"]
    assert [(row["consultation"].round, row["reconcile"]) for row in rows] == [(1, None), (2, None)]
