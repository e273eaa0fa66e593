"""The intake desk's pages: logging a case with a routing preview, and the triage queue with manual routing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from cases import policy
from cases.actions import CASE_ACTIONS
from cases.forms import IntakeForm
from cases.inputs import PageContext, UnitDirectory
from cases.models import TriageReason
from cases.services import case_create, routing_decision
from cases.views.common import page_guard
from core.pages import PAGE_SIZE, add_service_errors
from core.refusals import Refused
from departments.models import Role
from departments.routing import get_index


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if policy.is_clerk(request.user):
        return redirect("case-new")
    staff = policy.membership(request.user)
    # The city office's work is the City Committee's queue, not a unit's own cases.
    return redirect("submissions" if staff and staff.role == Role.CITY_OFFICE else "case-list")


@require_http_methods(["GET", "POST"])
@page_guard("intake")
def case_new(request):
    form = IntakeForm(request.POST or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "save":
            try:
                case = case_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            except Refused as refusal:
                form.add_error("received_at", refusal.detail)
            else:
                messages.success(request, _("Case %(reference)s saved. Give the applicant PIN %(pin)s.")
                                 % {"reference": case.reference, "pin": case.pin})
                return redirect("case-detail", reference=case.reference)
        else:
            outcome = form.routing_outcome()
    return render(request, "cases/case_new.html", {"form": form, "outcome": outcome})


@require_GET
@page_guard("intake")
def triage(request):
    """The cases waiting for an owner that the user's intake desk received, each with what the rules say of it
    today and the routing form (the `route` case action)."""
    page = Paginator(policy.with_list_relations(policy.triage_queue(request.user)), PAGE_SIZE).get_page(
        request.GET.get("page"))
    forms_page = PageContext(units=UnitDirectory())
    departments = forms_page.units.routable()
    names = {unit.pk: unit for unit in departments}
    route = CASE_ACTIONS["route"]
    rows = []
    index = get_index()
    for case in page:
        # What the rules say today: a returned case may now have a named owner, a tie has its candidates.
        decision = routing_decision(case, index=index)
        candidates = [decision.rule.owner_id] if decision.rule else [e.owner_id for e in decision.conflicting]
        candidates = [names[pk] for pk in candidates if pk in names]
        initial = {"to": candidates[0].code} if len(candidates) == 1 else {}
        rows.append({"case": case, "candidates": candidates, "url": reverse("case-action", args=[case.reference,
                                                                                                   "route"]),
                     "form": route.page_form(case, page=forms_page, initial=initial, auto_id=f"route_{case.pk}_%s")})
    return render(request, "cases/triage.html", {"page": page, "rows": rows,
                                                 "ambiguous": TriageReason.AMBIGUOUS_RULE})
