"""Consultations in the pages (DESIGN.md §2 rules 6 and 7): the consulted unit's inbox, and the consultations
panel of a case page with its answer and reconciliation forms. The moves themselves are `cases.actions`
entries, run by `cases.views.actions`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from cases import policy
from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS
from cases.inputs import PageContext
from cases.measures import CONSULTATION_OPEN, Window, latest_rounds
from cases.models import Case, Consultation, ConsultationStatus, Position
from cases.services import handlers_of
from cases.views.common import page_guard
from core.pages import PAGE_SIZE


@dataclass(frozen=True)
class InboxFilter:
    label: str
    condition: Callable[[Window], Q]  # which consultations, as of the window
    ordering: tuple[str, ...]


URGENT_FIRST = ("-case__key_task", "due_date", "requested_at", "id")
INBOX_FILTERS: dict[str, InboxFilter] = {
    "open": InboxFilter(gettext_lazy("Open"), lambda window: CONSULTATION_OPEN, URGENT_FIRST),
    "due_soon": InboxFilter(gettext_lazy("Due soon"), lambda window: CONSULTATION_OPEN & window.due_soon(),
                            URGENT_FIRST),
    "overdue": InboxFilter(gettext_lazy("Overdue"), lambda window: CONSULTATION_OPEN & window.overdue(),
                           URGENT_FIRST),
    "deemed_agreed": InboxFilter(gettext_lazy("Deemed to agree"), lambda window: Q(
        status=ConsultationStatus.DEEMED_AGREED), ("-deemed_agreed_at", "-id")),
    "answered": InboxFilter(gettext_lazy("Answered"), lambda window: Q(status=ConsultationStatus.ANSWERED),
                            ("-answered_at", "-id")),
    "withdrawn": InboxFilter(gettext_lazy("Withdrawn"), lambda window: Q(status=ConsultationStatus.WITHDRAWN),
                             ("-requested_at", "-id")),
}


def inbox_row(consultation: Consultation, user, page: PageContext, window: Window) -> dict:
    forms = {}
    for slug, action in CONSULTATION_ACTIONS.items():
        if action.offered(user, consultation):
            forms[slug] = action.page_form(consultation, page=page, auto_id=f"id_{slug}_{consultation.pk}_%s")
    due_soon = consultation.status == ConsultationStatus.OPEN and window.is_due_soon(consultation.due_date)
    return {"consultation": consultation, "assign": forms.get("assign"), "respond": forms.get("respond"),
            "due_soon": due_soon}


@require_GET
@page_guard("consultations")
def consultation_inbox(request):
    """Requests addressed to the signed-in user's department, one filter at a time, each with its count."""
    staff = policy.membership(request.user)
    shown = request.GET.get("show") if request.GET.get("show") in INBOX_FILTERS else "open"
    window = Window.at(timezone.now())
    mine = policy.consultations_addressed_to(request.user)
    counts = mine.aggregate(**{key: Count("id", filter=spec.condition(window))
                               for key, spec in INBOX_FILTERS.items()})
    listed = (mine.filter(INBOX_FILTERS[shown].condition(window))
              .select_related("case", "department", "requesting_department", "requested_by", "assignee",
                              "answered_by")
              .order_by(*INBOX_FILTERS[shown].ordering))
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    # The unit's handlers, read once for every row's assign form.
    forms_page = PageContext(handlers=list(handlers_of(staff.department_id)) if policy.leads_a_unit(request.user)
                             else [])
    tabs = [{"key": key, "label": spec.label, "count": counts[key]} for key, spec in INBOX_FILTERS.items()]
    return render(request, "cases/consultations.html", {
        "shown": shown, "department": staff.department, "tabs": tabs, "page": page,
        "rows": [inbox_row(consultation, request.user, forms_page, window) for consultation in page]})


# The consultations panel of a case page -------------------------------------------------------------------


def needs_reconciliation(consultation: Consultation, latest: dict[int, Consultation]) -> bool:
    # Only the latest round counts at the submission gate: an earlier disagreement was superseded by asking again.
    return (consultation.position == Position.DISAGREE and latest[consultation.department_id] is consultation
            and not hasattr(consultation, "reconciliation"))


def consultation_rows(case: Case, user) -> list[dict]:
    """Each consultation of the case (prefetched with its people and reconciliation), and for the owner's head
    or deputy a reconciliation form beside each disagreement that still needs one."""
    consultations = list(case.consultations.all())
    latest = latest_rounds(consultations)
    reconcile = CASE_ACTIONS["reconcile"]
    reconciles = reconcile.offered(user, case)
    url = reverse("case-action", args=[case.reference, "reconcile"])
    rows = []
    for consultation in consultations:
        form = None
        if reconciles and needs_reconciliation(consultation, latest):
            form = {"slug": "reconcile", "url": url, "form": reconcile.page_form(
                case, initial={"consultation": consultation.pk}, auto_id=f"id_reconcile_{consultation.pk}_%s")}
        rows.append({"consultation": consultation, "reconcile": form})
    return rows


def respond_actions(case: Case, user) -> list[dict]:
    """The answer form for a handler of a consulted unit whose latest request on this case awaits its answer."""
    staff = policy.membership(user)
    if staff is None or staff.department_id == case.owner_id:
        return []
    mine = latest_rounds(case.consultations.all()).get(staff.department_id)
    respond = CONSULTATION_ACTIONS["respond"]
    if mine is None or not respond.offered(user, mine):
        return []
    return [{"slug": "respond", "form": respond.page_form(mine, auto_id=f"id_respond_{mine.pk}_%s"),
             "url": reverse("consultation-respond", args=[mine.pk]),
             "next": reverse("case-detail", args=[case.reference]), "consultation": mine}]

