"""The intake desk's pages: logging a case with a routing preview, and the triage queue with manual routing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.forms import IntakeForm, TriageRouteForm, routable_departments
from cases.models import TriageReason
from cases.refusals import Refused
from cases.selectors import cases_visible_to, is_clerk, staff_of, triage_queue, with_list_relations
from cases.services import case_create, case_route, routing_decision
from cases.views.common import PAGE_SIZE, add_service_errors, clerk_required
from departments.models import Role
from departments.routing import get_index


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if is_clerk(request.user):
        return redirect("case-new")
    staff = staff_of(request.user)
    # The city office's work is the City Committee's queue, not a unit's own cases.
    return redirect("submissions" if staff and staff.role == Role.CITY_OFFICE else "case-list")


@require_http_methods(["GET", "POST"])
@clerk_required
def case_new(request):
    form = IntakeForm(request.POST or None)
    outcome = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "save":
            try:
                case = case_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Case %(reference)s saved. Give the applicant PIN %(pin)s.")
                                 % {"reference": case.reference, "pin": case.pin})
                return redirect("case-detail", reference=case.reference)
        else:
            outcome = form.routing_outcome()
    return render(request, "cases/case_new.html", {"form": form, "outcome": outcome})


@require_GET
@clerk_required
def triage(request):
    page = Paginator(with_list_relations(triage_queue(request.user)), PAGE_SIZE).get_page(request.GET.get("page"))
    departments = list(routable_departments())
    names = {unit.pk: unit for unit in departments}
    rows = []
    index = get_index()
    for case in page:
        # What the rules say today: a returned case may now have a named owner, a tie has its candidates.
        decision = routing_decision(case, index=index)
        candidates = [decision.rule.owner_id] if decision.rule else [e.owner_id for e in decision.conflicting]
        rows.append({"case": case, "candidates": [names[pk] for pk in candidates if pk in names]})
    return render(request, "cases/triage.html", {
        "page": page, "rows": rows, "departments": departments, "ambiguous": TriageReason.AMBIGUOUS_RULE,
    })


@require_POST
@clerk_required
def triage_route(request, reference):
    case = get_object_or_404(cases_visible_to(request.user), reference=reference)
    form = TriageRouteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Case %(reference)s was not routed: choose a department.") % {"reference": reference})
        return redirect("triage")
    try:
        case = case_route(case=case, actor=request.user, to=form.cleaned_data["to"], note=form.cleaned_data["note"])
    except Refused as refusal:
        messages.error(request, _("Case %(reference)s was not routed: %(detail)s")
                       % {"reference": reference, "detail": refusal.detail}, extra_tags="refusal")
        return redirect("triage")
    messages.success(request, _("Case %(reference)s routed to %(owner)s.")
                     % {"reference": case.reference, "owner": case.owner.name})
    return redirect("triage")
