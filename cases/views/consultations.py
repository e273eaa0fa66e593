"""Consultations in the pages (DESIGN.md §2 rules 6 and 7): the consulted unit's inbox, assigning and
answering a request, and the consultations panel of a case page with its reconciliation forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cases.forms import ConsultationAssignForm, ConsultationRespondForm, ReconcileForm
from cases.models import Case, Consultation, ConsultationStatus, Position
from cases.refusals import Refused
from cases.selectors import cases_visible_to, staff_of
from cases.services import consultation_assign, consultation_respond, handlers_of
from cases.services.common import HANDLER_ROLES, LEAD_ROLES
from cases.views.actions import ACTIONS, Viewer
from cases.views.common import (
    PAGE_SIZE,
    add_service_errors,
    error_sentences,
    next_page,
    not_done,
    staff_with_unit,
)
from departments.workdays import get_calendar, local_date

# A late answer still counts (it replaces the presumed agreement), so a silence can be answered too.
ANSWERABLE = (ConsultationStatus.OPEN, ConsultationStatus.DEEMED_AGREED)


@dataclass(frozen=True)
class InboxFilter:
    label: str
    condition: Callable[[dt.date, dt.date], Q]  # (today, the next working day) -> which consultations
    ordering: tuple[str, ...]


URGENT_FIRST = ("-case__key_task", "due_date", "requested_at", "id")
INBOX_FILTERS: dict[str, InboxFilter] = {
    "open": InboxFilter(gettext_lazy("Open"), lambda today, soon: Q(status=ConsultationStatus.OPEN), URGENT_FIRST),
    "due_soon": InboxFilter(gettext_lazy("Due soon"), lambda today, soon: Q(
        status=ConsultationStatus.OPEN, due_date__gte=today, due_date__lte=soon), URGENT_FIRST),
    "overdue": InboxFilter(gettext_lazy("Overdue"), lambda today, soon: Q(
        status=ConsultationStatus.OPEN, due_date__lt=today), URGENT_FIRST),
    "deemed_agreed": InboxFilter(gettext_lazy("Deemed to agree"), lambda today, soon: Q(
        status=ConsultationStatus.DEEMED_AGREED), ("-deemed_agreed_at", "-id")),
    "answered": InboxFilter(gettext_lazy("Answered"), lambda today, soon: Q(status=ConsultationStatus.ANSWERED),
                            ("-answered_at", "-id")),
}


def due_window() -> tuple[dt.date, dt.date]:
    """Today and the next working day: a request due by then is due soon (DESIGN.md §2 rule 9)."""
    today = local_date(timezone.now())
    return today, get_calendar().add_working_days(today, 1)


def inbox_row(consultation: Consultation, staff, handlers, soon: dt.date) -> dict:
    pk, status = consultation.pk, consultation.status
    assign = None
    if staff.role in LEAD_ROLES and status == ConsultationStatus.OPEN:
        initial = {"assignee": consultation.assignee.username} if consultation.assignee else {}
        assign = ConsultationAssignForm(handlers=handlers, initial=initial, auto_id=f"id_assign_{pk}_%s")
    respond = (ConsultationRespondForm(auto_id=f"id_respond_{pk}_%s")
               if staff.role in HANDLER_ROLES and status in ANSWERABLE else None)
    due_soon = status == ConsultationStatus.OPEN and not consultation.is_overdue and consultation.due_date <= soon
    return {"consultation": consultation, "assign": assign, "respond": respond, "due_soon": due_soon}


@require_GET
@login_required
def consultation_inbox(request):
    """Requests addressed to the signed-in user's department, one filter at a time, each with its count."""
    staff = staff_with_unit(request)
    shown = request.GET.get("show") if request.GET.get("show") in INBOX_FILTERS else "open"
    context = {"shown": shown, "department": None}
    if staff is None:
        return render(request, "cases/consultations.html", context)
    today, soon = due_window()
    mine = Consultation.objects.filter(department_id=staff.department_id)
    counts = mine.aggregate(**{key: Count("id", filter=spec.condition(today, soon))
                               for key, spec in INBOX_FILTERS.items()})
    listed = (mine.filter(INBOX_FILTERS[shown].condition(today, soon))
              .select_related("case", "requesting_department", "requested_by", "assignee", "answered_by")
              .order_by(*INBOX_FILTERS[shown].ordering))
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    handlers = list(handlers_of(staff.department_id)) if staff.role in LEAD_ROLES else []
    tabs = [{"key": key, "label": spec.label, "count": counts[key]} for key, spec in INBOX_FILTERS.items()]
    context.update(department=staff.department, tabs=tabs, page=page,
                   rows=[inbox_row(consultation, staff, handlers, soon) for consultation in page])
    return render(request, "cases/consultations.html", context)


def visible_consultation(request, consultation_id: int) -> Consultation:
    # Only someone who sees the case learns that the request exists (DESIGN.md §2 rule 4); the others who
    # see it are refused by the service, and the refusal is recorded.
    consultations = Consultation.objects.filter(case__in=cases_visible_to(request.user)).select_related("case")
    return get_object_or_404(consultations, pk=consultation_id)


def run_consultation_move(request, consultation: Consultation, form, title: str, move: Callable, done: str):
    """Validate, call the service, tell the outcome; back to where the form was, else the inbox."""
    if not form.is_valid():
        messages.error(request, not_done(title, error_sentences(form)))
    else:
        try:
            move(consultation=consultation, actor=request.user, **form.cleaned_data)
        except Refused as refusal:
            messages.error(request, _("%(action)s was refused: %(detail)s")
                           % {"action": title, "detail": refusal.detail}, extra_tags="refusal")
        except ValidationError as error:
            add_service_errors(form, error)
            messages.error(request, not_done(title, error_sentences(form)))
        else:
            messages.success(request, done % {"reference": consultation.case.reference,
                                              "unit": consultation.department.name})
    return redirect(next_page(request) or "consultations")


@require_POST
@login_required
def consultation_respond_view(request, consultation_id: int):
    consultation = visible_consultation(request, consultation_id)
    return run_consultation_move(request, consultation, ConsultationRespondForm(request.POST),
                                 str(ConsultationRespondForm.title), consultation_respond,
                                 _("Your unit's opinion on case %(reference)s is sent."))


@require_POST
@login_required
def consultation_assign_view(request, consultation_id: int):
    consultation = visible_consultation(request, consultation_id)
    form = ConsultationAssignForm(request.POST, handlers=list(handlers_of(consultation.department_id)))
    return run_consultation_move(request, consultation, form, _("Assign the request"), consultation_assign,
                                 _("The request on case %(reference)s is assigned."))


# The consultations panel of a case page -------------------------------------------------------------------


def latest_rounds(consultations) -> dict[int, Consultation]:
    latest: dict[int, Consultation] = {}
    for consultation in sorted(consultations, key=lambda c: c.round):
        latest[consultation.department_id] = consultation
    return latest


def needs_reconciliation(consultation: Consultation, latest: dict[int, Consultation]) -> bool:
    # Only the latest round counts at the submission gate: an earlier disagreement was superseded by asking again.
    return (consultation.position == Position.DISAGREE and latest[consultation.department_id] is consultation
            and not hasattr(consultation, "reconciliation"))


def consultation_rows(case: Case, viewer: Viewer) -> list[dict]:
    """Each consultation of the case (prefetched with its people and reconciliation), and for the owner's head
    or deputy a reconciliation form beside each disagreement that still needs one."""
    consultations = list(case.consultations.all())
    latest = latest_rounds(consultations)
    reconciles = ACTIONS["reconcile"].offered(case, viewer)
    url = reverse("case-action", args=[case.reference, "reconcile"])
    rows = []
    for consultation in consultations:
        reconcile = None
        if reconciles and needs_reconciliation(consultation, latest):
            form = ReconcileForm(case=case, initial={"consultation": consultation.pk},
                                 auto_id=f"id_reconcile_{consultation.pk}_%s")
            reconcile = {"slug": "reconcile", "form": form, "url": url}
        rows.append({"consultation": consultation, "reconcile": reconcile})
    return rows


def respond_actions(case: Case, user) -> list[dict]:
    """The answer form for a handler of a consulted unit whose latest request on this case awaits its answer."""
    staff = staff_of(user)
    if staff is None or staff.role not in HANDLER_ROLES or staff.department_id == case.owner_id:
        return []
    mine = latest_rounds(case.consultations.all()).get(staff.department_id)
    if mine is None or mine.status not in ANSWERABLE:
        return []
    return [{"slug": "respond", "form": ConsultationRespondForm(auto_id=f"id_respond_{mine.pk}_%s"),
             "url": reverse("consultation-respond", args=[mine.pk]),
             "next": reverse("case-detail", args=[case.reference]), "consultation": mine}]
