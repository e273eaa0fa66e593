"""Key tasks (nhiệm vụ trọng tâm): a flag the owner's head or deputy and the city office set, and every list
shows first (DESIGN.md §1)."""

import pytest

from cases import policy
from cases.models import Case, CaseEvent, EventAction, Status
from cases.services import case_set_key_task
from tests.support.cases import assert_denied, assert_refused, footprint, last_event_id

OWNER_UNIT = ("clerk", "specialist", "deputy", "head")
OTHERS = ("consulted_head", "consulted_specialist", "outsider_head", "outsider_specialist", "city_office",
          "inspector", "home_affairs", "admin", "nobody")
MAY = {"head", "deputy", "city_office"}


def mark(city, case, actor="head", key_task=True, **kwargs):
    return case_set_key_task(case=case, actor=city.user(actor), key_task=key_task, **kwargs)


@pytest.mark.parametrize("role", OWNER_UNIT + OTHERS)
def test_who_may_mark_a_key_task(city, stages, role):
    case = stages.in_progress()
    assert policy.can(city.user(role), policy.KEY_TASK_SETTERS, case) == (role in MAY)
    if role in MAY:
        version = case.version
        mark(city, case, role)
        case.refresh_from_db()
        assert (case.key_task, case.version) == (True, version + 1)
        event = case.events.order_by("-id").first()
        assert (event.action, event.actor, event.from_status, event.to_status) == (
            EventAction.KEY_TASK_SET, city.user(role), Status.IN_PROGRESS, Status.IN_PROGRESS)
    else:
        # Nothing to record: a role that may not is told so (403), as for the other role checks.
        assert_denied(case_set_key_task, case=case, actor=city.user(role), key_task=True)


def test_unmarking_writes_its_own_event(city, stages):
    case = mark(city, stages.in_progress())
    mark(city, case, "city_office", key_task=False)
    case.refresh_from_db()
    assert not case.key_task
    assert list(case.events.filter(action__startswith="key_task").values_list("action", "actor__username")) == [
        (EventAction.KEY_TASK_SET, "head"), (EventAction.KEY_TASK_CLEARED, "city_office")]


def test_setting_the_flag_it_already_has_changes_nothing(city, stages):
    case = mark(city, stages.in_progress())
    before, last = footprint(case), last_event_id(case)
    mark(city, case, "deputy")
    assert (footprint(case), last_event_id(case)) == (before, last)


@pytest.mark.parametrize("stage", ["routed", "in_progress", "awaiting_supplement", "submitted"])
def test_any_status_but_resolved(city, stages, stage):
    case = stages(stage)
    assert mark(city, case).key_task


def test_the_city_office_marks_a_case_still_in_triage(city, stages):
    case = stages.triage()
    assert mark(city, case, "city_office").key_task
    # No owner yet, so no head of the owner either.
    assert_denied(case_set_key_task, case=case, actor=city.user("head"), key_task=False)


@pytest.mark.parametrize("actor", ["head", "city_office"])
def test_a_resolved_case_is_refused_and_the_refusal_recorded(city, stages, actor):
    case = stages.resolved()
    assert_refused(case_set_key_task, code="invalid_transition", attempted="set_key_task", case=case,
                   actor=city.user(actor), key_task=True)


def test_a_stale_page_is_refused(city, stages):
    case = stages.in_progress()
    assert_refused(case_set_key_task, code="case_changed", attempted="set_key_task", case=case,
                   actor=city.user("head"), key_task=True, expected_version=case.version + 1)
    assert not CaseEvent.objects.filter(case=case, action=EventAction.KEY_TASK_SET).exists()


def test_key_tasks_come_first(city, stages):
    early, marked, late = stages.in_progress(), stages.in_progress(), stages.in_progress()
    mark(city, marked)
    assert list(Case.unscoped.filter(pk__in=[early.pk, marked.pk, late.pk]).key_tasks_first())[0] == marked
