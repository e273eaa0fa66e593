"""Random sequences of case moves by random people of the city, through the services, judged after each step.

Every move of the registry (`cases.actions`, the case's and the consultation's, all but adding a file) may be
tried by anyone on any of a few cases, with inputs drawn from what each entry declares. After each attempt:

- a move that succeeded and changed the case started from a status its service declares (`Move.statuses`), was
  the policy's to allow (`policy.can` with the move's rule), wrote exactly one event, by that person, from the
  status before to the status after, and bumped the case's version by one when it is a versioned move; one that
  changed nothing (a key task marked again) recorded nothing;
- a move that was refused (`Refused`) left the case as it was, but for exactly one `refused` event naming the
  move and its code; a move denied before its rules were read (403, a field error) left no trace at all;
- the case holds what its database constraints say, read as the directive's rule: one named assignee, a handler
  of the owner, on every accepted case.

Each example runs in a savepoint that is rolled back, so the city is built once per test and every example starts
from the same three cases. Bounded: 30 examples of up to 15 steps, no deadline.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases import policy, services
from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS, Action
from cases.inputs import CaseItem, Choice, Day, Note, Person, Toggle, Unit, Units, Upload
from cases.models import Case, CaseEvent, Consultation, EventAction, Status
from core.refusals import Refused
from departments.models import Department

pytestmark = pytest.mark.django_db

# Adding a file changes no status and takes no version; its own tests cover it.
MOVES: list[tuple[str, Action]] = sorted(
    [("case", spec) for spec in CASE_ACTIONS.values() if not any(isinstance(i, Upload) for i in spec.inputs)]
    + [("consultation", spec) for spec in CONSULTATION_ACTIONS.values()],
    key=lambda pair: (pair[0], pair[1].slug))
ACCEPTED = (Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT)
NOTES = st.sampled_from(["", "Đã kiểm tra hồ sơ", "Không thuộc thẩm quyền của đơn vị", "x" * 300])


class NoInput(Exception):
    """A required input with nothing to choose from: the step is not tried."""


def draw_input(data, entry, case: Case, record, city):
    """A value for one input of an entry: mostly one the move could take, sometimes one it must refuse."""
    if isinstance(entry, Note):
        return data.draw(NOTES)
    if isinstance(entry, Choice):
        return data.draw(st.sampled_from([value for value, _label in entry.choices]))
    if isinstance(entry, Toggle):
        return data.draw(st.booleans())
    if isinstance(entry, Day):
        base = case.due_date or dt.date.today()
        day = base + dt.timedelta(days=data.draw(st.integers(min_value=-5, max_value=40)))
        return None if not entry.required and data.draw(st.booleans()) else day
    if isinstance(entry, Person):
        # Mostly one of the handlers the move's unit has (the owner's, or the consulted unit's), else anyone.
        unit_id = record.department_id if isinstance(record, Consultation) else case.owner_id
        handlers = list(services.handlers_of(unit_id)) if unit_id else []
        if handlers and data.draw(st.integers(0, 3)) > 0:
            return data.draw(st.sampled_from(sorted(handlers, key=lambda user: user.pk)))
        return city.user(data.draw(st.sampled_from(sorted(city.users))))
    if isinstance(entry, Unit):
        return data.draw(st.sampled_from(list(Department.objects.order_by("code"))))
    if isinstance(entry, Units):
        return data.draw(st.lists(st.sampled_from(list(Department.objects.order_by("code"))), min_size=1,
                                  max_size=3, unique_by=lambda unit: unit.pk))
    if isinstance(entry, CaseItem):
        items = list(getattr(case, entry.relation).order_by("id"))
        if not items and entry.required:
            raise NoInput  # the form and the API refuse the move before its service is called
        return data.draw(st.sampled_from(items)) if items else None
    raise AssertionError(f"no strategy for the input {entry!r}")


def snapshot(case: Case) -> dict:
    return Case.unscoped.filter(pk=case.pk).values().get()


def check_case_rules(case: Case) -> None:
    """What every case holds whatever was tried on it."""
    assert case.status in Status.values
    if case.status != Status.TRIAGE:
        assert case.owner_id is not None
    if case.status in ACCEPTED:
        # One named person per step (directive: rõ người): the accepted case's assignee is one of the owner's handlers.
        assert case.assignee_id is not None
        assert case.assignee_id in {user.pk for user in services.handlers_of(case.owner_id)}


def attempt(data, city, subject: str, spec: Action, case: Case, record, role: str, tally: dict) -> None:
    actor = city.user(role)
    try:
        arguments = {entry.keyword: draw_input(data, entry, case, record, city) for entry in spec.inputs}
    except NoInput:
        return
    move = spec.move
    before = snapshot(case)
    if spec.versioned and data.draw(st.integers(0, 19)) > 0:
        # Mostly the version the person saw; now and then an older one, which must be refused as case_changed.
        arguments["expected_version"] = before["version"] - data.draw(st.sampled_from([0, 0, 0, 0, 0, 1]))
    allowed = policy.can(actor, move.who, record)
    events_before = list(CaseEvent.objects.filter(case=case).values_list("id", flat=True))
    outcome = "done"
    try:
        spec.service(**{subject: record}, actor=actor, **arguments)
    except Refused as refusal:
        outcome = "refused"
        refused_code = refusal.code
    except (PermissionDenied, ValidationError):
        outcome = "denied"
    after = snapshot(case)
    new_events = list(CaseEvent.objects.filter(case=case).exclude(id__in=events_before).order_by("id"))
    tally[outcome] = tally.get(outcome, 0) + 1
    where = f"{role} {subject}:{spec.slug} on a case {before['status']}: {outcome}"

    if outcome == "done" and after == before and not new_events:
        # Asking for what already holds (marking a key task that is one) changes nothing and records nothing.
        tally["unchanged"] = tally.get("unchanged", 0) + 1
    elif outcome == "done":
        assert allowed, where
        if subject == "case" and move.statuses is not None:
            assert before["status"] in move.statuses, where
        assert len(new_events) == 1, f"{where}: {[event.action for event in new_events]}"
        [event] = new_events
        assert event.action != EventAction.REFUSED, where
        assert event.actor_id == actor.pk, where
        assert (event.from_status, event.to_status) == (before["status"], after["status"]), where
        if spec.versioned:
            assert after["version"] == before["version"] + 1, where
        tally["moves"].add(f"{subject}:{spec.slug} {before['status']}->{after['status']}")
    elif outcome == "refused":
        assert after == before, where
        assert len(new_events) == 1, f"{where}: {[event.action for event in new_events]}"
        [event] = new_events
        assert event.action == EventAction.REFUSED, where
        assert event.payload["code"] == refused_code, where
        assert event.payload["attempted"] == move.attempted, where
        assert event.from_status == event.to_status == before["status"], where
    else:
        assert after == before, where
        assert new_events == [], where
    check_case_rules(Case.unscoped.get(pk=case.pk))


ROLE_NAMES = ["head", "deputy", "specialist", "clerk", "consulted_head", "consulted_specialist", "outsider_head",
              "city_office", "inspector", "admin", "nobody"]
ROLES = st.sampled_from(ROLE_NAMES)


def test_random_moves_by_random_people_keep_the_rules(city, log_case, city_level_type, unruled_type):
    tally: dict = {"moves": set()}

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def sequence(data):
        with transaction.atomic():
            cases = [
                log_case(),  # a building permit, routed to its owner
                log_case(case_type=city_level_type, title="Điều chỉnh quy hoạch chi tiết khu dân cư"),  # city level
                log_case(case_type=unruled_type, title="Kiến nghị về lấn chiếm vỉa hè"),  # triage: no rule names anyone
            ]
            for _step in range(data.draw(st.integers(min_value=5, max_value=15), label="steps")):
                case = Case.unscoped.get(pk=data.draw(st.sampled_from(cases), label="case").pk)
                # Mostly a move its service starts from the case's status, by someone the policy lets make it,
                # so that sequences get somewhere; otherwise anything by anyone, which must be refused cleanly.
                fair = data.draw(st.integers(0, 9), label="fair") < 8
                moves = [(subject, spec) for subject, spec in MOVES
                         if spec.move.statuses is None or case.status in spec.move.statuses] if fair else MOVES
                subject, spec = data.draw(st.sampled_from(moves), label="move")
                record = case
                if subject == "consultation":
                    consultations = list(Consultation.unscoped.filter(case=case).order_by("id"))
                    if not consultations:
                        continue
                    record = data.draw(st.sampled_from(consultations), label="consultation")
                roles = [role for role in ROLE_NAMES if policy.can(city.user(role), spec.move.who, record)] \
                    if fair else []
                role = data.draw(st.sampled_from(roles) if roles else ROLES, label="role")
                attempt(data, city, subject, spec, case, record, role, tally)
            transaction.set_rollback(True)

    sequence()
    # The run made real moves of many kinds, not only refusals: otherwise it proved little.
    assert tally.get("done", 0) >= 20, tally
    assert tally.get("refused", 0) >= 20, tally
    assert len(tally["moves"]) >= 8, tally
