"""Intake: a logged case lands at the owner the rules name, with its deadline (DESIGN.md §2 rule 1, §3)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.models import Case, CaseEvent, EventAction, Status, TriageReason
from departments.models import AuthorityRule, DecisionLevel
from tests.support.world import local_datetime


def test_case_is_routed_to_the_rule_owner(city, log_case):
    case = log_case(received_at=local_datetime(2026, 11, 25, 9))
    assert case.status == Status.ROUTED
    assert case.owner == city.owner
    assert case.rule == city.permit_rule
    assert case.decision_level == DecisionLevel.DEPARTMENT
    assert case.due_date == dt.date(2026, 12, 16)  # 15 working days after Wednesday 25 November
    assert case.triage_reason == ""
    assert [e.action for e in case.events.all()] == [EventAction.CREATED, EventAction.ROUTED]
    routed = case.events.get(action=EventAction.ROUTED)
    assert routed.actor == city.user("clerk")
    assert routed.to_department == city.owner
    assert routed.payload["rule"] == city.permit_rule.pk


def test_case_keeps_a_snapshot_of_its_rule(city, log_case):
    case = log_case(case_type=city.land)
    assert case.rule_snapshot == {
        "rule_id": city.land_rule.pk, "owner": "snnmt", "decision_level": "city_committee",
        "required_consultees": ["stc", "sxd"], "processing_days": 20, "consultation_days": None,
        "legal_basis": "Luật Đất đai 2024, Điều 123",
    }


def test_rule_edits_never_reroute_existing_cases(city, log_case):
    case = log_case()
    city.permit_rule.owner = city.outsider
    city.permit_rule.processing_days = 2
    city.permit_rule.save()
    case.refresh_from_db()
    assert case.owner == city.owner
    assert case.rule_snapshot["owner"] == "sxd"
    assert case.rule_snapshot["processing_days"] == 15
    assert log_case().owner == city.outsider  # new cases follow the edited rule


@pytest.mark.parametrize("reason", [TriageReason.NO_RULE, TriageReason.AMBIGUOUS_RULE])
def test_unroutable_cases_wait_in_triage_with_the_reason(city, log_case, reason):
    if reason == TriageReason.NO_RULE:
        city.permit_rule.delete()
    else:
        AuthorityRule.objects.create(case_type=city.permit, owner=city.outsider)
    case = log_case()
    assert case.status == Status.TRIAGE
    assert case.owner is None
    assert case.due_date is None
    assert case.triage_reason == reason
    triaged = case.events.get(action=EventAction.TRIAGED)
    assert triaged.payload["reason"] == reason


def test_reference_has_the_national_dossier_form(city, log_case):
    first = log_case(received_at=local_datetime(2026, 11, 25, 8))
    second = log_case(received_at=local_datetime(2026, 11, 25, 9))
    other_day = log_case(received_at=local_datetime(2026, 11, 24, 9))
    assert first.reference == "SXD-261125-0001"
    assert second.reference == "SXD-261125-0002"
    assert other_day.reference == "SXD-261124-0001"  # the sequence starts again each day
    assert re.fullmatch(r"\d{6}", first.pin)


def test_reference_uses_the_receipt_day_in_local_time(city, log_case):
    # 23:30 UTC on 24 November is 06:30 on 25 November in Hải Phòng.
    case = log_case(received_at=dt.datetime(2026, 11, 24, 23, 30, tzinfo=dt.UTC))
    assert case.reference == "SXD-261125-0001"


def test_reference_falls_back_to_the_unit_code(city, log_case):
    city.owner.national_id = ""
    city.owner.save()
    assert log_case(received_at=local_datetime(2026, 11, 25)).reference == "SXD-261125-0001"


def test_reference_is_gapless_after_a_failed_intake(city, log_case, monkeypatch):
    log_case(received_at=local_datetime(2026, 11, 25))

    def failing_bulk_create(*args, **kwargs):
        raise RuntimeError("disk full")

    # The failure comes after the number was taken and the case row written: all of it must roll back.
    with monkeypatch.context() as patch:
        patch.setattr(CaseEvent.objects, "bulk_create", failing_bulk_create)
        with pytest.raises(RuntimeError):
            log_case(received_at=local_datetime(2026, 11, 25))
    assert Case.unscoped.count() == 1
    assert log_case(received_at=local_datetime(2026, 11, 25)).reference.endswith("-0002")


def test_receipt_in_the_future_is_refused(city, log_case):
    with pytest.raises(ValidationError) as error:
        log_case(received_at=timezone.now() + dt.timedelta(minutes=5))
    assert "received_at" in error.value.message_dict
    assert Case.unscoped.count() == 0


def test_negative_amount_is_refused(city, log_case):
    with pytest.raises(ValidationError):
        log_case(amount=Decimal("-5"))
    assert Case.unscoped.count() == 0


@pytest.mark.parametrize("username", ["head", "specialist", "outsider_head", "inspector", "nobody"])
def test_only_the_intake_desk_logs_cases(city, log_case, username):
    with pytest.raises(PermissionDenied):
        log_case(actor=city.user(username))
    assert Case.unscoped.count() == 0


def test_admin_without_a_unit_logs_under_the_city_code(city, log_case):
    case = log_case(actor=city.user("admin"), received_at=local_datetime(2026, 11, 25))
    assert case.reference == "HP-261125-0001"
    assert case.receiving_unit is None


def test_handover_on_time_when_routed_at_intake(city, log_case):
    case = log_case()
    assert case.handed_over_at is not None
    assert case.handover_late is False


def test_handover_late_when_intake_logs_an_old_receipt(city, log_case):
    case = log_case(received_at=local_datetime(2026, 11, 2, 9))
    assert case.handover_late is True
    assert case.events.get(action=EventAction.ROUTED).payload["handover_late"] is True


def test_events_are_append_only(city, log_case):
    event = log_case().events.first()
    event.note = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        CaseEvent.objects.filter(pk=event.pk).update(note="rewritten")
    with pytest.raises(ValidationError):
        CaseEvent.objects.all().delete()
