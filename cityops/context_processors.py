"""What every page's frame reads: the signed-in person's unit, capabilities and navigation bar, and the bell."""

import functools

from django.utils.functional import SimpleLazyObject

from cases import policy
from cases.views.notifications import unread_count
from cityops import navigation


def frame(request):
    """The membership and its unit (one query, shared with the page), the capabilities the policy gives the
    user (templates read `caps`, never a role), the bar made from them, and the bell's unread count, counted
    only if a page shows it and then once however often it is shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "caps": None, "navigation": [], "unread_notifications": 0}
    caps = policy.Capabilities(user)
    current = request.resolver_match.view_name if request.resolver_match else ""
    return {"membership": policy.membership(user), "caps": caps,
            "navigation": SimpleLazyObject(lambda: navigation.offered(caps, current)),
            "unread_notifications": functools.cache(functools.partial(unread_count, user))}
