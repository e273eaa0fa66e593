"""Who may do what, through the API: every role of the shared city against every case action.

A unit that does not see the case gets 404 (never a hint); an overseer who sees it but is not the owner
is refused with `not_owner` (409, recorded); a member of the owner without the role is told 403.
"""

import pytest

from cases.models import CaseEvent
from tests.support.api import API_ACTIONS, ROLES, act, request_footprint

SEES = {"head", "deputy", "specialist", "clerk", "city_office", "inspector", "home_affairs", "admin"}
OWNER_STAFF = {"head", "deputy", "specialist", "clerk"}
HANDLERS = {"head", "deputy", "specialist"}
LEADS = {"head", "deputy"}
MAY = {
    "accept": HANDLERS, "assign": LEADS, "propose": HANDLERS, "return": HANDLERS, "transfer": LEADS,
    "submit": LEADS, "decide": {"city_office", "admin"}, "resolve": LEADS, "request-supplement": HANDLERS,
    "complete-supplement": HANDLERS, "dispute": HANDLERS,
}
BODIES = {action: (stage, body) for action, (stage, _, body, *_) in API_ACTIONS.items()}
BODIES["dispute"] = ("routed", {"reason": "Quy định giao nhầm thẩm quyền"})



def expected(action: str, role: str) -> int:
    if role not in SEES:
        return 404
    if role in MAY[action]:
        return 201 if action == "dispute" else 200
    if action == "decide" or role in OWNER_STAFF:
        return 403
    return 409


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", MAY)
def test_role_and_action(api, city, stages, action, role):
    stage, body = BODIES[action]
    case = getattr(stages, stage)()
    before = request_footprint(case)
    last_event = CaseEvent.objects.filter(case=case).latest("id").pk

    response = act(api(role), case, action, body)

    status = expected(action, role)
    assert response.status_code == status, response.content
    new_events = list(CaseEvent.objects.filter(case=case, pk__gt=last_event))
    if status in (200, 201):
        assert new_events[-1].actor == city.user(role)
        assert new_events[-1].action != "refused"
    elif status == 409:
        assert response.json()["code"] == "not_owner"
        assert [(e.action, e.actor, e.payload["code"]) for e in new_events] == [
            ("refused", city.user(role), "not_owner")]
        assert request_footprint(case)[0] == before[0]
    else:
        assert request_footprint(case) == before
