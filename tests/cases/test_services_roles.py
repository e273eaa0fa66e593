"""Who may do what to a case, and from which status (DESIGN.md §2 rules 4 and 8, §4).

Two tables: every role of the shared city against every action on a case in the state that action
starts from; and every action against every status it may not start from.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from cases.models import CaseEvent, Status
from cases.services import case_accept
from core.refusals import Refused
from tests.support.cases import ACTIONS, assert_denied, assert_refused

OK, DENIED, NOT_OWNER = "ok", "PermissionDenied", "not_owner"

OWNER_UNIT = ("clerk", "specialist", "deputy", "head")
OTHERS = ("consulted_head", "consulted_specialist", "outsider_head", "outsider_specialist", "city_office",
          "inspector", "home_affairs", "admin", "nobody")
ROLES = OWNER_UNIT + OTHERS

# Any handler of the owner unit acts; the intake desk logs and routes but does not handle; anyone else is
# refused as not the owner (rule 4), the admin included: admins edit the rules, they don't settle cases.
HANDLERS = {"clerk": DENIED, "specialist": OK, "deputy": OK, "head": OK} | dict.fromkeys(OTHERS, NOT_OWNER)
# Only the head or a deputy signs for the unit (a specialist proposes).
LEADS = HANDLERS | {"specialist": DENIED}

EXPECTED = {
    "accept": HANDLERS,
    "assign": LEADS,
    "propose": HANDLERS,
    "resolve": LEADS,
    "return": HANDLERS,
    "transfer": LEADS,
    "submit": LEADS,
    # The city office records the City Committee's decisions; so may an admin, nobody else.
    "decide": dict.fromkeys(ROLES, DENIED) | {"city_office": OK, "admin": OK},
    "request_supplement": HANDLERS,
    "complete_supplement": HANDLERS,
    "dispute": HANDLERS,
    # Files come from the owner's staff and the intake desk; overseers and other units only read.
    "attachment_add": dict.fromkeys(ROLES, DENIED) | dict.fromkeys(OWNER_UNIT, OK),
}


def test_the_tables_cover_every_action_and_role():
    assert set(EXPECTED) == set(ACTIONS)
    assert set(ALLOWED_FROM) == set(ACTIONS) - {"attachment_add"}
    for action, outcomes in EXPECTED.items():
        assert set(outcomes) == set(ROLES), action


@pytest.mark.parametrize(("action", "role"), [(a, r) for a in EXPECTED for r in ROLES])
def test_role_against_action(city, stages, media_root, action, role):
    spec, expected = ACTIONS[action], EXPECTED[action][role]
    case = spec.start(stages)
    actor = city.user(role)
    kwargs = {"case": case, "actor": actor, **spec.fields(city)}
    if expected == DENIED:
        assert_denied(spec.service, **kwargs)
    elif expected == OK:
        version = case.version
        spec.service(**kwargs)
        case.refresh_from_db()
        assert case.status == spec.status_after
        event = case.events.order_by("-id").first()
        assert (event.action, event.actor) == (spec.event, actor)
        assert case.version == version + (1 if spec.versioned else 0)
    else:
        assert_refused(spec.service, code=expected, attempted=action, **kwargs)


# The statuses each action may start from (DESIGN.md §4); attachments may be added at any time.
ALLOWED_FROM = {
    "accept": {Status.ROUTED},
    "assign": {Status.ROUTED, Status.IN_PROGRESS, Status.AWAITING_SUPPLEMENT},
    "propose": {Status.IN_PROGRESS},
    "resolve": {Status.IN_PROGRESS},
    "return": {Status.ROUTED, Status.IN_PROGRESS},
    "transfer": {Status.ROUTED, Status.IN_PROGRESS},
    "submit": {Status.IN_PROGRESS},
    "decide": {Status.SUBMITTED},
    "request_supplement": {Status.IN_PROGRESS},
    "complete_supplement": {Status.AWAITING_SUPPLEMENT},
    "dispute": {Status.ROUTED, Status.IN_PROGRESS},
}
STAGE_OF = {Status.TRIAGE: "triage", Status.ROUTED: "routed", Status.IN_PROGRESS: "in_progress",
            Status.AWAITING_SUPPLEMENT: "awaiting_supplement", Status.SUBMITTED: "submitted",
            Status.RESOLVED: "resolved"}
# A case in triage has no owner, so a unit's move on it is refused as not the owner's before its status is
# looked at; the city office's decision has no owner check and meets the status rule.
IN_TRIAGE = "not_owner"

FORBIDDEN = [(status, action) for status in Status for action in ALLOWED_FROM if status not in ALLOWED_FROM[action]]


@pytest.mark.parametrize(("status", "action"), FORBIDDEN, ids=[f"{a}-from-{s.value}" for s, a in FORBIDDEN])
def test_action_from_a_status_it_may_not_start_from(city, stages, status, action):
    spec = ACTIONS[action]
    case = stages(STAGE_OF[status])
    assert case.status == status
    actor = city.user("city_office" if action == "decide" else "head")
    expected = IN_TRIAGE if status == Status.TRIAGE and action != "decide" else "invalid_transition"
    assert_refused(spec.service, code=expected, attempted=action, case=case, actor=actor, **spec.fields(city))


def test_an_anonymous_refusal_is_recorded_without_an_actor(stages):
    case = stages.routed()
    with pytest.raises(Refused) as refusal:
        case_accept(case=case, actor=AnonymousUser())
    assert refusal.value.code == "not_owner"
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert event.actor is None
    assert event.payload == {"code": "not_owner", "attempted": "accept"}
