"""The guard of a page kept to some users: visitors are sent to sign in, anyone else signed in gets 403."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def page_for(allowed):
    """A guard for pages kept to the users `allowed(user)` accepts: visitors are sent to sign in, anyone else
    signed in gets 403."""

    def guard(view):
        @functools.wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return guard
