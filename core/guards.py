"""The guard of a page kept to some users: visitors are sent to sign in, anyone else signed in gets 403."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User


def page_for(allowed: Callable[[User | AnonymousUser], bool]) -> Callable[[Callable], Callable]:
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
