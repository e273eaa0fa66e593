"""Response headers Django's own security middleware does not set: a Permissions-Policy on every answer, and
`Cache-Control: no-store` wherever a person's data may be in it.

A signed-in page or any API answer may show an applicant's personal data; a shared office computer's browser
cache, a proxy's or the back button after sign-out must not keep it. Static files and the anonymous pages
(sign-in, password reset) stay cacheable as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers, patch_vary_headers

API_PREFIX = "/api/"


class SecurityHeaders:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        self.permissions_policy = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        if holds_personal_data(request):
            # Sets no-store with no-cache, must-revalidate, private and an Expires in the past: every cache
            # between here and the screen reads one of them.
            add_never_cache_headers(response)
            patch_vary_headers(response, ["Cookie"])
        return response


def holds_personal_data(request: HttpRequest) -> bool:
    """Whether the answer may carry someone's data: any API answer, and any page a signed-in person gets."""
    if request.path.startswith(API_PREFIX):
        return True
    # Read without forcing the session: the middleware that sets `user` ran before the view, after this one.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
