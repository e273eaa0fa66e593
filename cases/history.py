"""A case's history as its page reads it: each event says in the reader's language who and which units it
involved and what came of it, from the codes and values the event keeps (`CaseEvent.payload`), never from a
sentence written in someone else's language at the time. People's own words (a reason, a comment) are shown
as they wrote them.

The people and units the events name are read once for the whole history: two queries, however long it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cases.models import CaseEvent, EventAction, Outcome, Position, TriageReason
from core.refusals import refusal_label

# Events whose note the system wrote (a refusal's explanation, a triage reason) in the actor's language at the
# time: the history says them again from their codes instead.
SYSTEM_NOTES = (EventAction.REFUSED, EventAction.TRIAGED)


@dataclass(frozen=True)
class HistoryRow:
    event: CaseEvent
    units: str  # "Sở A → Sở B", or the one unit the event involves
    detail: str  # what happened, in words, from the event's codes and values
    note: str  # the person's own words


class _Names:
    def __init__(self, events: list[CaseEvent], units):
        self.units = units
        usernames = {value for event in events for key in ("assignee", "previous")
                     if isinstance(value := event.payload.get(key), str)}
        self.people = {user.username: user.get_full_name() or user.username
                       for user in get_user_model().objects.filter(username__in=usernames)} if usernames else {}

    def person(self, username: str | None) -> str:
        return self.people.get(username or "", username or "")

    def unit(self, code: str | None) -> str:
        unit = self.units.by_code.get(code) if code else None
        return unit.name if unit else (code or "")

    def unit_of(self, department_id: int | None) -> str:
        unit = self.units.by_pk.get(department_id) if department_id else None
        return unit.name if unit else ""


def _day(value: str | None) -> str:
    if not value:
        return ""
    try:
        return date_format(dt.date.fromisoformat(value), "d/m/Y")
    except ValueError:
        return value


def _attempted_titles() -> dict[str, str]:
    from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS

    return {action.move.attempted: str(action.title)
            for action in (*CASE_ACTIONS.values(), *CONSULTATION_ACTIONS.values())}


def _label(choices, value) -> str:
    return str(choices(value).label) if value in choices.values else str(value or "")


def _detail(event: CaseEvent, names: _Names, attempted: dict[str, str]) -> str:
    payload, action = event.payload, event.action
    if action in (EventAction.ASSIGNED, EventAction.CONSULTATION_ASSIGNED, EventAction.ACCEPTED):
        to = names.person(payload.get("assignee"))
        if payload.get("previous"):
            return _("To %(person)s, instead of %(previous)s") % {"person": to,
                                                                  "previous": names.person(payload["previous"])}
        return _("To %(person)s") % {"person": to} if to else ""
    if action == EventAction.CONSULTED:
        required = _("required")
        asked = [names.unit(c.get("department")) + (f" ({required})" if c.get("required") else "")
                 for c in payload.get("consultations", [])]
        return _("Asked: %(units)s; answer due %(day)s") % {"units": ", ".join(asked),
                                                              "day": _day(payload.get("due_date"))}
    if action == EventAction.CONSULTATION_ANSWERED:
        return _label(Position, payload.get("position"))
    if action == EventAction.DEEMED_AGREED:
        return _("No answer by %(day)s") % {"day": _day(payload.get("due_date"))}
    if action == EventAction.DECIDED:
        return _label(Outcome, payload.get("outcome"))
    if action in (EventAction.TRANSFERRED, EventAction.ROUTED, EventAction.ROUTED_MANUALLY) and payload.get("due_date"):
        return _("Due %(day)s") % {"day": _day(payload["due_date"])}
    if action == EventAction.EXTENDED:
        return _("Due %(day)s instead of %(previous)s") % {"day": _day(payload.get("due_date")),
                                                            "previous": _day(payload.get("previous_due_date"))}
    if action == EventAction.RETURNED:
        held = payload.get("working_days_held")
        if payload.get("late"):
            return _("Returned late, after %(days)s working days") % {"days": held}
        return _("Returned within the time allowed") if held is not None else ""
    if action == EventAction.TRIAGED:
        return _label(TriageReason, payload.get("reason"))
    if action == EventAction.REFUSED:
        parts = [refusal_label(payload.get("code", ""))]
        tried = attempted.get(payload.get("attempted", ""))
        if tried:
            parts.append(_("tried: %(action)s") % {"action": tried})
        if payload.get("target"):
            parts.append(_("to %(unit)s") % {"unit": names.unit(payload["target"])})
        if payload.get("departments"):
            parts.append(", ".join(names.unit(code) for code in payload["departments"]))
        return " — ".join(parts)
    return ""


def _units(event: CaseEvent, names: _Names) -> str:
    source, target = names.unit_of(event.from_department_id), names.unit_of(event.to_department_id)
    if event.action == EventAction.RETURNED and source:
        return _("%(unit)s → the intake desk") % {"unit": source}
    if source and target:
        return f"{source} → {target}"
    return source or target


def history(events: Iterable[CaseEvent], units) -> list[HistoryRow]:
    """The rows of a case's history, oldest first; `units` is the page's `UnitDirectory`."""
    events = list(events)
    names, attempted = _Names(events, units), _attempted_titles()
    return [HistoryRow(event, _units(event, names), _detail(event, names, attempted),
                       "" if event.action in SYSTEM_NOTES else event.note) for event in events]
