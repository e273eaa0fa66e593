"""The admin's routing tester: what the authority rules decide for given inputs, and where they have gaps."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from departments.forms import RoutingTesterForm


@require_GET
@login_required
def routing_tester(request):
    if not request.user.is_superuser:
        raise PermissionDenied
    # A read-only question, so a GET form: the answer can be bookmarked and shared with a colleague.
    form = RoutingTesterForm(request.GET or None)
    outcome = form.routing_outcome() if form.is_valid() else None
    return render(request, "departments/routing_tester.html", {"form": form, "outcome": outcome})
