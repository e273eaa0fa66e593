"""A case's page: 404 (never 403) for units that may not see it, every fact, and its history."""

import pytest
from django.urls import reverse
from django.utils import translation

from cases.services import case_route
from core.refusals import Refused
from tests.support.world import local_datetime


@pytest.fixture
def land_case(city, log_case, clock):
    """Owned by Sở Nông nghiệp và Môi trường, consulting Sở Xây dựng and Sở Tài chính; received by Sở Xây dựng.

    Logged at 16:45 the day of receipt, so its handover is on time whatever today's date is."""
    clock.set(local_datetime(2026, 11, 24, 16, 45))
    return log_case(title="Giao đất xây chợ An Dương", case_type=city.land, locality=city.commune,
                    amount=12_500_000_000, received_at=local_datetime(2026, 11, 24, 16, 30),
                    applicant_contact="0225 3842 111", description="Diện tích 1,2 ha.\nĐã có quy hoạch.")


def url(case):
    return reverse("case-detail", args=[case.reference])


@pytest.mark.parametrize("role", ["consulted_head", "consulted_specialist", "clerk", "inspector", "city_office",
                                  "home_affairs", "admin"])
def test_owner_receiving_desk_and_citywide_roles_see_the_case(signed_in, land_case, role):
    response = signed_in(role).get(url(land_case))
    assert response.status_code == 200
    assert response.context["case"] == land_case


@pytest.mark.parametrize("role", ["outsider_head", "outsider_specialist", "head", "specialist", "nobody"])
def test_units_that_may_not_see_it_get_404(signed_in, land_case, role):
    # Sở Xây dựng is a required consultee, but consultations come later: until then it does not see the case.
    assert signed_in(role).get(url(land_case)).status_code == 404


def test_an_unknown_reference_is_404(signed_in):
    assert signed_in("admin").get(reverse("case-detail", args=["SXD-261125-9999"])).status_code == 404


def test_anonymous_is_sent_to_login(signed_in, land_case):
    response = signed_in("anonymous").get(url(land_case))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method(signed_in, land_case, method):
    assert getattr(signed_in("consulted_head"), method)(url(land_case)).status_code == 405


def test_shows_the_facts_the_rule_snapshot_and_the_handover(signed_in, city, land_case):
    # Vietnamese, the default: labels and the thousands separator both follow the reader's language.
    html = signed_in("consulted_head").get(url(land_case)).content.decode()
    for text in [land_case.reference, "Giao đất xây chợ An Dương", "Giao đất, cho thuê đất", "Xã An Dương",
                 "12.500.000.000 VND", "Nguyễn Văn An", "0225 3842 111", "Diện tích 1,2 ha.<br>Đã có quy hoạch.",
                 "24/11/2026 16:30", "Luật Đất đai 2024, Điều 123", "Sở Tài chính", f"#{city.land_rule.pk}",
                 "UBND thành phố quyết định", "Sở Nông nghiệp và Môi trường"]:
        assert text in html, text
    # Received after 15:00: intake has until the end of the next working day, and handed over at once.
    assert "25/11/2026 23:59" in html
    assert 'data-test="handover-late">' in html
    assert "Đúng hạn" in html


def test_the_pin_is_shown_to_the_intake_desk_only(signed_in, land_case):
    assert b'data-test="case-pin"' in signed_in("clerk").get(url(land_case)).content
    assert b'data-test="case-pin"' not in signed_in("consulted_head").get(url(land_case)).content


def test_shows_the_event_history(signed_in, city, land_case):
    # The refusal's sentence is written in the language of the person refused, here an English reader's.
    with pytest.raises(Refused), translation.override("en"):
        case_route(case=land_case, actor=city.user("clerk"), to=city.outsider, note="Thử chuyển")
    response = signed_in("consulted_head").get(url(land_case), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert [event.action for event in response.context["events"]] == ["created", "routed", "refused"]
    # The history says the refusal again from its code, in the reader's language.
    for text in ['data-action="created"', "Logged at intake", "Routed by rule", 'data-action="refused"',
                 "Nguyễn Thị Lan", "Action not allowed at this stage"]:
        assert text in html, text
    vietnamese = signed_in("consulted_head").get(url(land_case), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "Only a case in the triage queue can be routed." not in vietnamese


def test_a_triage_case_shows_its_reason(signed_in, city, log_case):
    city.permit_rule.delete()
    case = log_case()
    html = signed_in("clerk").get(url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-test="triage-reason"' in html
    assert "No authority rule matches" in html


@pytest.mark.parametrize("refusals", [0, 20])
def test_query_count_does_not_grow_with_events(signed_in, city, land_case, refusals, django_assert_max_num_queries):
    for _ in range(refusals):
        with pytest.raises(Refused):
            case_route(case=land_case, actor=city.user("clerk"), to=city.outsider)
    client = signed_in("consulted_head")
    with django_assert_max_num_queries(15):
        response = client.get(url(land_case))
    assert len(response.context["events"]) == 2 + refusals
