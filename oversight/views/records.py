"""The oversight records as pages: an overview, inspections with their files, violations
and the actions taken on them, commendations.

Only inspectors, Home Affairs and admins reach them (the policy's `oversee`: sign-in for visitors, 403 for
other staff). Each page parses with a form and calls one service of oversight/services.py; a refusal is told
as a message, a ValidationError on the form's fields, and a service writes all of a record or none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import policy
from cases.measures import Window
from cases.views.common import page_guard
from core.files import file_response
from core.pages import PAGE_SIZE, add_service_errors, error_sentences, not_done
from core.refusals import Refused
from oversight import services
from oversight.forms import (
    ActForm,
    AttachmentForm,
    CommendationForm,
    DismissForm,
    ExtendForm,
    InspectionFilterForm,
    InspectionForm,
    ViolationFilterForm,
    ViolationForm,
)
from oversight.models import (
    ActionTaken,
    Commendation,
    Inspection,
    InspectionAttachment,
    OversightEvent,
    Violation,
    ViolationStatus,
)

# What a row of each list names, read with the row rather than once per row.
VIOLATION_RELATIONS = ("person", "department", "kind", "severity")
COMMENDATION_RELATIONS = ("person__staff__department", "department", "level")
LATEST = 5


# A record's audit trail, read with its people in one query whatever its length.
EVENTS = Prefetch("events", OversightEvent.objects.select_related("actor__staff__department"))


def history(record) -> list[dict]:
    """The record's events, oldest first, each with the fields it changed as (label, old, new), in the reader's
    words where the field has choices (the events keep codes)."""
    model = type(record)

    def field(name: str):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            return None

    def label(name: str) -> str:
        found = field(name)
        return str(found.verbose_name) if found is not None else name

    def shown(name: str, value):
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        found = field(name)
        # Only a field's own choices (a status, a source); a related record's would be read from the database.
        return dict(found.flatchoices).get(value, value) if found is not None and found.choices else value

    return [{"event": event, "changes": [(label(name), shown(name, value[0]), shown(name, value[1]))
                                         for name, value in event.payload.items()
                                         if isinstance(value, list) and len(value) == 2]}
            for event in record.events.all()]


def show_service_errors(form, error: ValidationError, *, aliases: dict[str, str] | None = None) -> None:
    """`add_service_errors`, with the service's field names that the form calls otherwise renamed."""
    if hasattr(error, "error_dict") and aliases:
        error = ValidationError({aliases.get(field, field): errors for field, errors in error.error_dict.items()})
    add_service_errors(form, error)


def now_window() -> Window:
    return Window.at(timezone.now())


# --- Overview ------------------------------------------------------------------------------------------------


@require_GET
@page_guard("oversee")
def oversight_home(request):
    window = now_window()
    open_violations = Violation.objects.filter(status=ViolationStatus.OPEN)
    counts = open_violations.aggregate(open=Count("pk"), overdue=Count("pk", filter=window.overdue()),
                                       due_soon=Count("pk", filter=window.due_soon()))
    return render(request, "oversight/records/home.html", {
        "counts": counts, "window": window,
        "due_first": open_violations.select_related(*VIOLATION_RELATIONS).order_by("due_date", "id")[:LATEST],
        "inspections": Inspection.objects.select_related("department")[:LATEST],
        "commendations": Commendation.objects.select_related(*COMMENDATION_RELATIONS)[:LATEST],
    })


# --- Inspections ---------------------------------------------------------------------------------------------


@require_GET
@page_guard("oversee")
def inspection_list(request):
    form = InspectionFilterForm(request.GET)
    inspections = (form.filter(Inspection.objects.all()).select_related("department")
                   .prefetch_related("team")
                   .annotate(file_count=Count("attachments", distinct=True),
                             violation_count=Count("violations", distinct=True))
                   # Meta.ordering does not apply to an aggregating query: the order is named again.
                   .order_by("-inspected_on", "-id"))
    page = Paginator(inspections, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "oversight/records/inspection_list.html", {"form": form, "page": page})


@require_http_methods(["GET", "POST"])
@page_guard("oversee")
def inspection_new(request):
    form = InspectionForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            inspection = services.inspection_record(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            show_service_errors(form, error, aliases={"file": "files"})
        else:
            messages.success(request, _("The inspection of %(unit)s is recorded.") % {"unit": inspection.department})
            return redirect("inspection-detail", inspection_id=inspection.pk)
    return render(request, "oversight/records/inspection_new.html", {"form": form})


@require_GET
@page_guard("oversee")
def inspection_detail(request, inspection_id: int):
    inspection = get_object_or_404(
        Inspection.objects.select_related("department", "recorded_by").prefetch_related(
            "team",
            Prefetch("attachments", InspectionAttachment.objects.select_related("uploaded_by")),
            Prefetch("violations", Violation.objects.select_related(*VIOLATION_RELATIONS)), EVENTS),
        pk=inspection_id)
    return render(request, "oversight/records/inspection_detail.html", {
        "inspection": inspection, "attach_form": AttachmentForm(), "window": now_window(),
        "history": history(inspection)})


@require_POST
@page_guard("oversee")
def inspection_attach_view(request, inspection_id: int):
    inspection = get_object_or_404(Inspection, pk=inspection_id)
    form = AttachmentForm(request.POST, request.FILES)
    title = _("Adding the file")
    if form.is_valid():
        try:
            attachment = services.inspection_attach(inspection=inspection, actor=request.user,
                                                    upload=form.cleaned_data["file"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("File %(name)s added to the inspection.") % {"name": attachment.original_name})
            return redirect("inspection-detail", inspection_id=inspection.pk)
    messages.error(request, not_done(title, error_sentences(form)))
    return redirect("inspection-detail", inspection_id=inspection.pk)


@require_GET
@page_guard("oversee")
def inspection_file(request, inspection_id: int, attachment_id: int):
    # A file id under another inspection's address is not found. Compared here rather than in the query: a key
    # column's look-up has no guard against a number beyond 64 bits, which SQLite then fails on.
    attachment = get_object_or_404(InspectionAttachment, pk=attachment_id)
    if attachment.inspection_id != inspection_id:
        raise Http404
    return file_response(attachment)


# --- Violations ----------------------------------------------------------------------------------------------


@require_GET
@page_guard("oversee")
def violation_list(request):
    window = now_window()
    form = ViolationFilterForm(request.GET)
    violations = form.filter(Violation.objects.select_related(*VIOLATION_RELATIONS), window)
    page = Paginator(violations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "oversight/records/violation_list.html", {"form": form, "page": page, "window": window})


@require_http_methods(["GET", "POST"])
@page_guard("oversee")
def violation_new(request):
    if request.method == "GET":
        form = ViolationForm.prefilled(request.GET, user=request.user)
    else:
        form = ViolationForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                violation = services.violation_record(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The violation is recorded; its handling is due by %(due)s.")
                                 % {"due": f"{violation.due_date:%d/%m/%Y}"})
                return redirect("violation-detail", violation_id=violation.pk)
    return render(request, "oversight/records/violation_new.html", {
        "form": form, "handling_days": settings.VIOLATION_HANDLING_DAYS,
        "max_days": settings.VIOLATION_HANDLING_MAX_DAYS})


@dataclass(frozen=True)
class ViolationAction:
    form: type[ActForm | ExtendForm | DismissForm]
    service: Callable
    done: str  # the success message


# While the handling is open: the measures, the one extension, or closing it unconfirmed.
ACTIONS: dict[str, ViolationAction] = {
    "act": ViolationAction(ActForm, services.violation_act, gettext_lazy("The action taken is recorded.")),
    "extend": ViolationAction(ExtendForm, services.violation_extend,
                              gettext_lazy("The handling deadline is extended to %(due)s.")),
    "dismiss": ViolationAction(DismissForm, services.violation_dismiss,
                               gettext_lazy("The violation is closed as not confirmed.")),
}


def offered_actions(violation: Violation) -> list[str]:
    if violation.status != ViolationStatus.OPEN:
        return []
    return [slug for slug in ACTIONS if slug != "extend" or violation.extended_at is None]


def violation_queryset(user):
    return Violation.objects.select_related(
        "person__staff__department", "department", "kind", "severity", "inspection__department", "handler",
        "recorded_by", "extended_by", "closed_by",
    ).prefetch_related(
        # The related cases as the reader sees them (those who keep the records see every case).
        Prefetch("cases", policy.cases_visible_to(user).select_related("owner").order_by("reference")),
        Prefetch("actions", ActionTaken.objects.select_related("kind", "recorded_by")),
        EVENTS,
    )


def render_violation(request, violation: Violation, *, bound: tuple[str, object] | None = None, status: int = 200):
    """The detail page with a fresh form per offered action, or the one the reader sent back with its errors."""
    forms = []
    for slug in offered_actions(violation):
        if bound is not None and bound[0] == slug:
            form = bound[1]
        else:
            form = ACTIONS[slug].form(violation=violation, auto_id=f"id_{slug}_%s")
        forms.append({"slug": slug, "form": form, "url": reverse("violation-action", args=[violation.pk, slug])})
    return render(request, "oversight/records/violation_detail.html", {
        "violation": violation, "action_forms": forms, "window": now_window(), "history": history(violation),
    }, status=status)


@require_GET
@page_guard("oversee")
def violation_detail(request, violation_id: int):
    return render_violation(request, get_object_or_404(violation_queryset(request.user), pk=violation_id))


@require_POST
@page_guard("oversee")
def violation_action(request, violation_id: int, action: str):
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    violation = get_object_or_404(violation_queryset(request.user), pk=violation_id)
    form = spec.form(request.POST, violation=violation, auto_id=f"id_{action}_%s")
    if form.is_valid():
        try:
            changed = spec.service(violation=violation, actor=request.user, **form.cleaned_data)
        except Refused as refusal:
            messages.error(request, _("%(action)s was refused: %(detail)s")
                           % {"action": spec.form.title, "detail": refusal.detail}, extra_tags="refusal")
            return redirect("violation-detail", violation_id=violation.pk)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            done = str(spec.done)
            if action == "extend":
                done = done % {"due": f"{changed.due_date:%d/%m/%Y}"}
            elif action == "act" and form.cleaned_data["ends_handling"]:
                done = " ".join([done, _("The handling has ended.")])
            messages.success(request, done)
            return redirect("violation-detail", violation_id=violation.pk)
    # Shown again with the reader's input and what is wrong with it; the service wrote nothing.
    messages.error(request, not_done(spec.form.title, error_sentences(form)))
    return render_violation(request, violation, bound=(action, form), status=400)


# --- Commendations -------------------------------------------------------------------------------------------


@require_GET
@page_guard("oversee")
def commendation_list(request):
    commendations = Commendation.objects.select_related(*COMMENDATION_RELATIONS, "recorded_by")
    page = Paginator(commendations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "oversight/records/commendation_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@page_guard("oversee")
def commendation_new(request):
    form = CommendationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            commendation = services.commendation_record(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            person = commendation.person
            who = (person.get_full_name() or person.username) if person else commendation.department.name
            messages.success(request, _("The commendation of %(who)s is recorded.") % {"who": who})
            return redirect("commendations")
    return render(request, "oversight/records/commendation_new.html", {"form": form})
