"""What the case pages share: the guard of a page by the capability the navigation offers it by."""

from __future__ import annotations

from cases import policy
from core.guards import page_for


def page_guard(capability: str):
    """Visitors sign in; anyone signed in whom the policy does not give `capability` gets 403. The navigation
    bar offers the page by the same capability, so the two cannot disagree."""
    return page_for(policy.page_rule(capability))
