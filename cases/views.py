"""The pages of the intake desk and of a department's queue.

Views parse with a form, call a service from `cases.services` and render or redirect; who sees which case
comes from `cases.selectors` only.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.filters import QueueFilter
from cases.forms import IntakeForm, TriageRouteForm, routable_departments
from cases.models import TriageReason
from cases.refusals import Refused
from cases.selectors import (
    cases_visible_to,
    department_queue,
    is_clerk,
    staff_of,
    triage_queue,
    with_list_relations,
)
from cases.services import case_create, case_route, routing_decision
from departments.models import Department
from departments.routing import get_index

PAGE_SIZE = 25


def clerk_required(view):
    """The intake desk's pages: clerks and superusers; anyone else signed in gets 403."""

    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_clerk(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
def home(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return redirect("case-new" if is_clerk(request.user) else "case-list")


@require_GET
@login_required
def case_list(request):
    staff = staff_of(request.user)
    queue = QueueFilter(request.GET, queryset=with_list_relations(department_queue(request.user)), request=request)
    page = Paginator(queue.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {
        "filter": queue, "page": page, "department": staff.department if staff else None,
    })


def _add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


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
                _add_service_errors(form, error)
            else:
                messages.success(request, _("Case %(reference)s saved. Give the applicant PIN %(pin)s.")
                                 % {"reference": case.reference, "pin": case.pin})
                return redirect("case-detail", reference=case.reference)
        else:
            outcome = form.routing_outcome()
    return render(request, "cases/case_new.html", {"form": form, "outcome": outcome})


def _snapshot_units(case) -> dict[str, Department]:
    codes = [*case.rule_snapshot.get("required_consultees", ()), case.rule_snapshot.get("owner")]
    codes = [code for code in codes if code]
    return {unit.code: unit for unit in Department.objects.filter(code__in=codes)} if codes else {}


@require_GET
@login_required
def case_detail(request, reference):
    case = get_object_or_404(with_list_relations(cases_visible_to(request.user)), reference=reference)
    events = case.events.select_related("actor", "from_department", "to_department")
    units = _snapshot_units(case)
    snapshot = case.rule_snapshot
    return render(request, "cases/case_detail.html", {
        "case": case,
        "events": events,
        "snapshot": snapshot,
        "snapshot_owner": units.get(snapshot.get("owner")),
        "snapshot_consultees": [units.get(code, code) for code in snapshot.get("required_consultees", ())],
    })


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
                       % {"reference": reference, "detail": refusal.detail})
        return redirect("triage")
    messages.success(request, _("Case %(reference)s routed to %(owner)s.")
                     % {"reference": case.reference, "owner": case.owner.name})
    return redirect("triage")
