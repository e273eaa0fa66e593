"""The admin's routing tester: the decision intake would make, with rule ids, ties and gaps."""

import datetime as dt

import pytest
from django.urls import reverse

from departments.models import AuthorityRule, CaseType
from departments.routing import preview
from departments.workdays import get_calendar

URL = reverse("routing-tester")


def ask(client, city, **overrides):
    params = {"case_type": city.permit.code, "locality": "", "amount": "", "received_on": "2026-11-25"}
    params.update(overrides)
    return client.get(URL, params)


def test_the_admin_opens_an_empty_tester(signed_in):
    response = signed_in("admin").get(URL)
    assert response.status_code == 200
    assert response.context["outcome"] is None
    assert b'data-test="tester-form"' in response.content


@pytest.mark.parametrize("role", ["clerk", "head", "specialist", "outsider_head", "inspector", "city_office"])
def test_everyone_else_is_forbidden(signed_in, city, role):
    assert ask(signed_in(role), city).status_code == 403


def test_anonymous_is_sent_to_login(signed_in, city):
    response = ask(signed_in("anonymous"), city)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method(signed_in, method):
    assert getattr(signed_in("admin"), method)(URL).status_code == 405


def test_a_routed_decision_names_owner_rule_terms_and_due_date(signed_in, city):
    response = ask(signed_in("admin"), city, case_type=city.land.code, amount="3000000000")
    outcome = response.context["outcome"]
    assert (outcome.owner, outcome.rule_id, outcome.decision_level) == (city.consulted, city.land_rule.pk,
                                                                        "city_committee")
    assert {unit.code for unit in outcome.consultees} == {"sxd", "stc"}
    assert outcome.due_date == get_calendar().due_date(dt.date(2026, 11, 25), 20)
    html = response.content.decode()
    assert f'data-rule="{city.land_rule.pk}"' in html
    assert "Luật Đất đai 2024, Điều 123" in html
    assert f'datetime="{outcome.due_date:%Y-%m-%d}"' in html


def test_it_agrees_with_the_routing_code_intake_uses(signed_in, city):
    banded = AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider, min_amount=10**9,
                                          legal_basis="Nghị định 15/2021")
    response = ask(signed_in("admin"), city, amount="2000000000")
    expected = preview(case_type_id=city.permit.pk, locality_id=None, amount=2 * 10**9,
                       received_on=dt.date(2026, 11, 25))
    assert response.context["outcome"].rule_id == expected.rule.id == banded.pk
    assert response.context["outcome"].due_date == expected.due_date


def test_a_tie_lists_the_conflicting_rules_and_their_owners(signed_in, city):
    first = AuthorityRule.objects.create(case_type=city.permit, locality=city.ward, owner=city.owner)
    second = AuthorityRule.objects.create(case_type=city.permit, locality=city.ward, owner=city.outsider)
    response = ask(signed_in("admin"), city, locality=city.ward.code)
    outcome = response.context["outcome"]
    assert outcome.reason == "ambiguous_rule"
    assert [(rule.id, rule.owner) for rule in outcome.conflicting] == [(first.pk, city.owner),
                                                                        (second.pk, city.outsider)]
    html = response.content.decode()
    assert f'data-rule="{first.pk}" data-owner="sxd"' in html
    assert f'data-rule="{second.pk}" data-owner="stc"' in html


def test_no_rule_is_shown_as_a_rule_gap(signed_in, city):
    unruled = CaseType.objects.create(code="advertising", name="Cấp phép quảng cáo", processing_days=5)
    response = ask(signed_in("admin"), city, case_type=unruled.code)
    assert response.context["outcome"].reason == "no_rule"
    assert b'data-test="preview-rule-gap"' in response.content


def test_the_date_decides_which_rules_are_in_force(signed_in, city):
    city.permit_rule.valid_from = dt.date(2026, 7, 1)
    city.permit_rule.save()
    client = signed_in("admin")
    assert ask(client, city, received_on="2026-06-30").context["outcome"].reason == "no_rule"
    assert ask(client, city, received_on="2026-07-01").context["outcome"].owner == city.owner


def test_rules_in_force_later_can_be_tested(signed_in, city):
    city.permit_rule.valid_from = dt.date(2030, 1, 1)
    city.permit_rule.save()
    assert ask(signed_in("admin"), city, received_on="2030-01-02").context["outcome"].owner == city.owner


def test_an_empty_date_means_today(signed_in, city):
    response = ask(signed_in("admin"), city, received_on="")
    assert response.context["outcome"].owner == city.owner


@pytest.mark.parametrize("overrides", [{"amount": "-5"}, {"case_type": "nope"}, {"received_on": "25/13/2026"},
                                       {"locality": "nowhere"}, {"received_on": "0001-01-01"},
                                       {"received_on": "9999-12-31"}])
def test_bad_input_is_reported_on_the_form(signed_in, city, overrides):
    response = ask(signed_in("admin"), city, **overrides)
    assert response.status_code == 200
    assert response.context["outcome"] is None
    assert set(response.context["form"].errors) == set(overrides)
