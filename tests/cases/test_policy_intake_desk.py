"""Whose triage queue a case waits in (DESIGN.md §2 rule 4): the intake desk of the unit that received it, and,
for units with no desk of their own, the city office's. Another unit's clerk does not see it at all, with its
applicant's contact and files, and cannot route it (404, as for any case one does not see)."""

import pytest
from django.urls import reverse

from cases import policy
from cases.models import Status
from cases.services import case_accept, case_create, case_return
from departments.models import Role, Staff
from tests.support.world import make_user


@pytest.fixture
def desks(city):
    """Clerks at the city office's desk and at the ward's, beside the owner's (`clerk`)."""
    return {"office": make_user("vp_clerk", department=city.city_office, role=Role.CLERK),
            "ward": make_user("ward_clerk", department=city.ward, role=Role.CLERK)}


def gap_case(city, actor, unruled_type, **fields):
    """A case no rule names an owner for: it waits in triage."""
    return case_create(actor=actor, title="Kiến nghị về lấn chiếm vỉa hè", case_type=unruled_type,
                       applicant_contact="0912 345 678", **fields)


def in_triage_of(user) -> set[str]:
    return set(policy.triage_queue(user).values_list("reference", flat=True))


def sees(user, case) -> bool:
    return policy.cases_visible_to(user).filter(pk=case.pk).exists()


def test_a_clerk_works_only_the_cases_its_unit_received(city, desks, unruled_type):
    case = gap_case(city, city.user("clerk"), unruled_type)

    assert in_triage_of(city.user("clerk")) == {case.reference}
    for other in desks.values():
        assert in_triage_of(other) == set()
        assert not sees(other, case)


def test_another_units_clerk_can_neither_open_nor_route_it(client, city, desks, unruled_type):
    case = gap_case(city, city.user("clerk"), unruled_type)
    client.force_login(desks["ward"])

    assert client.get(reverse("case-detail", args=[case.reference])).status_code == 404
    assert case.reference not in client.get(reverse("triage")).content.decode()
    response = client.post(reverse("triage-route", args=[case.reference]), {"to": "stc", "version": case.version})
    assert response.status_code == 404
    case.refresh_from_db()
    assert (case.status, case.events.count()) == (Status.TRIAGE, 2)


def test_a_returned_case_goes_back_to_the_desk_that_received_it(city, desks, unruled_type, log_case):
    case = log_case(actor=desks["ward"])
    case = case_accept(case=case, actor=city.user("specialist"))
    rule = city.permit_rule
    rule.owner = city.outsider
    rule.save()
    case_return(case=case, actor=city.user("specialist"), reason="Không thuộc chức năng của Sở")

    assert in_triage_of(desks["ward"]) == {case.reference}
    assert in_triage_of(city.user("clerk")) == set()
    assert in_triage_of(desks["office"]) == set()


def test_the_city_office_desk_takes_the_cases_of_units_without_a_desk(city, desks, unruled_type):
    logged_by_admin = gap_case(city, city.user("admin"), unruled_type)
    commune_clerk = make_user("commune_clerk", department=city.commune, role=Role.CLERK)
    received_by_commune = gap_case(city, commune_clerk, unruled_type)
    received_by_ward = gap_case(city, desks["ward"], unruled_type)

    assert in_triage_of(desks["office"]) == {logged_by_admin.reference}
    # The commune's only clerk moves to other work: its desk is gone, and the city office's takes its cases.
    Staff.objects.filter(user=commune_clerk).update(role=Role.SPECIALIST)
    assert in_triage_of(desks["office"]) == {logged_by_admin.reference, received_by_commune.reference}
    assert received_by_ward.reference not in in_triage_of(desks["office"])
    assert policy.can(desks["office"], policy.TRIAGE_ROUTERS, received_by_commune)
    assert not policy.can(desks["office"], policy.TRIAGE_ROUTERS, received_by_ward)


def test_admins_see_and_route_every_triage_case(city, desks, unruled_type):
    cases = {gap_case(city, actor, unruled_type).reference for actor in (city.user("clerk"), desks["ward"])}
    assert in_triage_of(city.user("admin")) == cases
