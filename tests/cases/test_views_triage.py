"""The triage queue and manual routing from it (DESIGN.md §2 rule 1): clerks only, refusals shown, not hidden."""

import pytest
from django.urls import reverse

from cases.models import Case, EventAction, Status
from departments.models import AuthorityRule, CaseType

URL = reverse("triage")
OTHERS = ["head", "specialist", "outsider_head", "inspector"]


@pytest.fixture
def gap_case(city, log_case):
    unruled = CaseType.objects.create(code="advertising", name="Cấp phép quảng cáo ngoài trời", processing_days=5)
    return log_case(title="Biển quảng cáo đường Lạch Tray", case_type=unruled)


@pytest.fixture
def tied_case(city, log_case):
    AuthorityRule.objects.create(case_type=city.permit, locality=city.ward, owner=city.owner)
    AuthorityRule.objects.create(case_type=city.permit, locality=city.ward, owner=city.outsider)
    return log_case(title="Cấp phép xây dựng trụ sở phường", locality=city.ward)


def route_url(case):
    return reverse("triage-route", args=[case.reference])


def messages_of(response):
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


@pytest.mark.parametrize("role", ["clerk", "admin"])
def test_the_intake_desk_sees_triage_cases_and_their_reasons(signed_in, city, log_case, gap_case, tied_case, role):
    routed = log_case()
    response = signed_in(role).get(URL)
    assert response.status_code == 200
    assert [row["case"] for row in response.context["rows"]] == [gap_case, tied_case]
    html = response.content.decode()
    assert 'data-reason="no_rule"' in html
    assert 'data-reason="ambiguous_rule"' in html
    assert "Sở Tài chính" in html  # one of the tied owners, offered as a hint
    assert routed.reference not in html
    # The City Committee takes no cases; every other active unit is offered.
    assert 'value="ubnd"' not in html
    assert 'value="sxd"' in html


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_are_forbidden(signed_in, gap_case, city, role):
    """The page is the intake desk's (403); routing a case they do not see is 404, as any move on it, and an
    inspector, who sees every case, is not its intake desk (403)."""
    client = signed_in(role)
    assert client.get(URL).status_code == 403
    response = client.post(route_url(gap_case), {"to": city.outsider.code, "version": gap_case.version})
    assert response.status_code == (403 if role == "inspector" else 404)
    gap_case.refresh_from_db()
    assert gap_case.status == Status.TRIAGE


def test_anonymous_is_sent_to_login(signed_in, gap_case, city):
    client = signed_in("anonymous")
    route = {"to": city.outsider.code, "version": gap_case.version}
    for response in [client.get(URL), client.post(route_url(gap_case), route)]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    gap_case.refresh_from_db()
    assert gap_case.status == Status.TRIAGE


def test_wrong_methods(signed_in, gap_case):
    client = signed_in("clerk")
    assert client.post(URL).status_code == 405
    assert client.get(route_url(gap_case)).status_code == 405
    assert client.delete(route_url(gap_case)).status_code == 405


def test_routing_a_rule_gap_case_names_the_new_owner(signed_in, city, gap_case):
    response = signed_in("clerk").post(route_url(gap_case), {"to": city.outsider.code, "note": "Theo chỉ đạo",
                                                             "version": gap_case.version},
                                       follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain == [(URL, 302)]
    assert messages_of(response) == [("success", f"Case {gap_case.reference} routed to Sở Tài chính.")]
    gap_case.refresh_from_db()
    assert (gap_case.status, gap_case.owner) == (Status.ROUTED, city.outsider)
    event = gap_case.events.get(action=EventAction.ROUTED_MANUALLY)
    assert (event.actor, event.note) == (city.user("clerk"), "Theo chỉ đạo")
    assert gap_case.reference not in [row["case"].reference for row in response.context["rows"]]


def test_a_refusal_is_shown_and_recorded(signed_in, city, tied_case):
    # Tied between Sở Xây dựng and Sở Tài chính: Sở Nông nghiệp và Môi trường is neither.
    response = signed_in("clerk").post(route_url(tied_case), {"to": city.consulted.code,
                                                              "version": tied_case.version},
                                       follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain == [(URL, 302)]
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "The tied rules name other units" in text
    assert 'data-test="message-error"' in response.content.decode()
    tied_case.refresh_from_db()
    assert (tied_case.status, tied_case.owner) == (Status.TRIAGE, None)
    assert tied_case.events.filter(action=EventAction.REFUSED, actor=city.user("clerk")).exists()


def test_routing_a_case_that_left_triage_is_refused(signed_in, city, log_case):
    routed = log_case()
    response = signed_in("clerk").post(route_url(routed), {"to": city.outsider.code, "version": routed.version},
                                       follow=True,
                                       HTTP_ACCEPT_LANGUAGE="en")
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "Only a case in the triage queue can be routed." in text
    routed.refresh_from_db()
    assert routed.owner == city.owner


@pytest.mark.parametrize("target", ["", "ubnd", "no-such-unit"])
def test_a_missing_or_unroutable_department_changes_nothing(signed_in, gap_case, target):
    response = signed_in("clerk").post(route_url(gap_case), {"to": target, "version": gap_case.version}, follow=True)
    [(level, _text)] = messages_of(response)
    assert level == "error"
    gap_case.refresh_from_db()
    assert gap_case.status == Status.TRIAGE
    assert not gap_case.events.filter(action=EventAction.ROUTED_MANUALLY).exists()


def test_an_unknown_case_is_404(signed_in, city):
    response = signed_in("clerk").post(reverse("triage-route", args=["SXD-261125-9999"]), {"to": city.owner.code})
    assert response.status_code == 404
    assert Case.unscoped.count() == 0
