"""The oversight records run on the same audit rails as cases: every change writes an append-only event (who,
when, old → new), a refused move is recorded with its code and what was attempted, and the record's page shows
its history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.refusals import Refused
from oversight.models import OversightAction, OversightEvent
from oversight.services import violation_act, violation_dismiss, violation_extend
from tests.support.world import local_datetime


def trail(**record):
    return list(OversightEvent.objects.filter(**record).order_by("id").values_list("action", "actor__username"))


def test_recording_writes_the_new_values(city, inspection, violation, commendation):
    assert trail(inspection=inspection) == [(OversightAction.INSPECTION_RECORDED, "inspector")]
    assert trail(violation=violation) == [(OversightAction.VIOLATION_RECORDED, "inspector")]
    assert trail(commendation=commendation) == [(OversightAction.COMMENDATION_RECORDED, "home_affairs")]
    payload = OversightEvent.objects.get(violation=violation).payload
    assert payload["person"] == [None, "specialist"]
    assert payload["due_date"] == [None, "2027-02-01"]
    assert payload["source"] == [None, "surprise_inspection"]


def test_an_extension_writes_the_old_and_the_new_due_date(city, violation, clock):
    clock.set(local_datetime(2027, 1, 20, 9))
    violation_extend(violation=violation, actor=city.user("home_affairs"), reason="Chờ kết luận xác minh.")
    event = OversightEvent.objects.filter(violation=violation).latest("id")
    assert (event.action, event.actor, event.note) == (OversightAction.EXTENDED, city.user("home_affairs"),
                                                       "Chờ kết luận xác minh.")
    assert event.payload == {"due_date": ["2027-02-01", "2027-04-01"]}


def test_ending_the_handling_writes_the_status_change(city, choices, violation):
    violation_act(violation=violation, actor=city.user("inspector"), kind=choices.reprimand,
                  decided_on=dt.date(2026, 11, 20), decision_number="12/QĐ-SXD", note="Khiển trách", ends_handling=True)
    actions = trail(violation=violation)[1:]
    assert actions == [(OversightAction.ACTION_TAKEN, "inspector"), (OversightAction.HANDLED, "inspector")]
    assert OversightEvent.objects.filter(violation=violation).latest("id").payload == {"status": ["open", "handled"]}


def test_a_refused_move_is_recorded(city, choices, violation, clock):
    violation_dismiss(violation=violation, actor=city.user("inspector"), reason="Không đủ căn cứ")
    with pytest.raises(Refused) as refusal:
        violation_act(violation=violation, actor=city.user("home_affairs"), kind=choices.review_meeting,
                      decided_on=dt.date(2026, 11, 20))
    assert refusal.value.code == "invalid_transition"
    event = OversightEvent.objects.filter(violation=violation).latest("id")
    assert (event.action, event.actor, event.payload["code"], event.payload["attempted"]) == (
        OversightAction.REFUSED, city.user("home_affairs"), "invalid_transition", "act")
    assert event.note == refusal.value.detail


def test_the_trail_is_append_only(violation):
    event = OversightEvent.objects.get(violation=violation)
    event.note = "Sửa lại"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        OversightEvent.objects.filter(pk=event.pk).update(note="Sửa lại")
    with pytest.raises(ValidationError):
        OversightEvent.objects.filter(pk=event.pk).delete()


def test_the_pages_show_the_history(signed_in, city, inspection, violation, clock):
    clock.set(local_datetime(2027, 1, 20, 9))
    violation_extend(violation=violation, actor=city.user("home_affairs"), reason="Chờ kết luận xác minh.")
    client = signed_in("inspector")

    violation_page = client.get(reverse("violation-detail", args=[violation.pk])).content.decode()
    inspection_page = client.get(reverse("inspection-detail", args=[inspection.pk])).content.decode()

    assert violation_page.count('data-test="record-event"') == 2
    assert 'data-action="extended"' in violation_page and "2027-04-01" in violation_page
    assert inspection_page.count('data-test="record-event"') == 1


def test_the_history_costs_the_same_queries_however_long(signed_in, city, choices, violation):
    client = signed_in("inspector")
    client.get(reverse("violation-detail", args=[violation.pk]))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("violation-detail", args=[violation.pk]))
    for number in range(3):
        violation_act(violation=violation, actor=city.user("inspector"), kind=choices.review_meeting,
                      decided_on=dt.date(2026, 11, 20 + number))
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("violation-detail", args=[violation.pk]))
    assert len(after) == len(before)
