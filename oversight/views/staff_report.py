"""The staff performance report and the evidence behind each of its numbers (DESIGN.md §2 rule 10).

Home Affairs, the Inspectorate and the admins read, for a period, each person's figures and the two lists the
admins' thresholds draw from them: who to look at more closely and who may merit commendation. Every number
links to the rows it counts; both come from the same querysets in `oversight.staff_figures`, so a figure and
its evidence cannot disagree. The lists inform people; they decide nothing and change nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from cases import policy
from cases.measures import working_days_late
from cases.views.common import page_guard
from core.periods import Period
from core.replicas import reads_replica
from departments.models import Department
from departments.workdays import get_calendar, local_date
from oversight.models import ReviewThresholds
from oversight.report_forms import ReportPeriodForm
from oversight.staff_figures import (
    REASON_FIGURES,
    Figure,
    PersonFigures,
    ReviewReason,
    evidence,
    staff_figures,
)

PEOPLE_PER_PAGE = 100
EVIDENCE_PER_PAGE = 50

# What each figure's evidence is made of: which table the page shows, what it reads beside each row, and the
# order (oldest first, except the overdue work, longest overdue first, as on the overdue desk).
EVIDENCE_KIND = {Figure.HANDLED: "cases", Figure.HANDLED_LATE: "cases", Figure.OVERDUE: "cases",
                 Figure.LATE_RETURNS: "returns", Figure.REFUSALS: "refusals",
                 Figure.LATE_CONSULTATIONS: "consultations"}
EVIDENCE_RELATIONS = {"cases": ("owner", "case_type"), "returns": ("case", "department"), "refusals": ("case",),
                      "consultations": ("case", "department")}
EVIDENCE_ORDER = {Figure.HANDLED: ("resolved_at", "id"), Figure.HANDLED_LATE: ("resolved_at", "id"),
                  Figure.OVERDUE: ("due_date", "id"), Figure.LATE_RETURNS: ("returned_at", "id"),
                  Figure.REFUSALS: ("at", "id"), Figure.LATE_CONSULTATIONS: ("answered_at", "id")}

# The moves a `within_own_authority` refusal can stop (the `attempted` code its event keeps).
ATTEMPTED = {"return": _("Return to the intake desk"), "transfer": _("Transfer to another unit"),
             "submit": _("Submission to the City Committee")}


def period_query(period: Period) -> str:
    return urlencode({"from": period.since.isoformat(), "to": period.until.isoformat()})


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    url: str


class PersonRow:
    """One person's figures with the link to the evidence of each, for the period read."""

    def __init__(self, person: PersonFigures, query: str):
        self.person = person
        username = person.user.username
        self.links = {figure: f"{reverse('staff-evidence', args=[username, figure])}?{query}"
                      for figure in Figure.values}
        self.reasons = [Reason(reason, ReviewReason(reason).label, self.links[REASON_FIGURES[reason]])
                        for reason in person.review_reasons]

    @property
    def user(self):
        return self.person.user


@require_GET
@page_guard("oversee")
@reads_replica
def staff_report(request):
    """Everyone's figures for the period (or one unit's), the needs-review and commendation lists first."""
    today = local_date(timezone.now())
    form = ReportPeriodForm(request.GET or None, today=today,
                            units=Department.objects.filter(active=True).order_by("name"))
    period = form.period()
    thresholds = ReviewThresholds.current()
    context = {"form": form, "period": period, "thresholds": thresholds, "today": today,
               "return_within": settings.RETURN_WITHIN_WORKING_DAYS}
    if period is not None:
        unit = form.department()
        people = staff_figures(period=period, today=today, departments=None if unit is None else [unit],
                               thresholds=thresholds)
        query = period_query(period)
        # The lists are whole, whatever page of the table is shown; links are built only for the people shown
        # (the table's page and the two lists), not for everyone in the city.
        page = Paginator(people, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
        context.update({
            "unit": unit, "query": query, "page": page,
            "rows": [PersonRow(person, query) for person in page],
            "review": [PersonRow(person, query) for person in people if person.review_reasons],
            "commend": [PersonRow(person, query) for person in people if person.commendable],
        })
    return render(request, "oversight/staff/report.html", context)


@dataclass(frozen=True)
class EvidenceRow:
    item: object  # a Case, Return, CaseEvent or Consultation
    resolved_on: dt.date | None = None
    late: bool = False
    days_late: int | None = None  # working days; a case resolved on the weekend after its due day is 0 days late
    attempted: str = ""


def evidence_rows(figure: str, items, today: dt.date) -> list[EvidenceRow]:
    """What each row of one page of evidence shows beside its record; one calendar for the whole page."""
    if figure == Figure.REFUSALS:
        return [EvidenceRow(event, attempted=ATTEMPTED.get(event.payload.get("attempted"),
                                                           event.payload.get("attempted", "")))
                for event in items]
    if EVIDENCE_KIND[figure] != "cases":
        return [EvidenceRow(item) for item in items]
    calendar = get_calendar()
    rows = []
    for case in items:
        if figure == Figure.OVERDUE:
            rows.append(EvidenceRow(case, late=True, days_late=working_days_late(case.due_date, today, calendar)))
            continue
        resolved_on = local_date(case.resolved_at)
        late = case.due_date is not None and resolved_on > case.due_date
        rows.append(EvidenceRow(case, resolved_on=resolved_on, late=late,
                                days_late=working_days_late(case.due_date, resolved_on, calendar) if late else None))
    return rows


@require_GET
@page_guard("oversee")
@reads_replica
def staff_evidence(request, username: str, figure: str):
    """The cases, returns, refused attempts or consultations behind one person's figure for the period."""
    if figure not in Figure.values:
        raise Http404
    person = get_object_or_404(get_user_model().objects.select_related("staff__department"), username=username)
    figure = Figure(figure)
    today = local_date(timezone.now())
    form = ReportPeriodForm(request.GET or None, today=today)
    period = form.period()
    kind = EVIDENCE_KIND[figure]
    context = {"form": form, "period": period, "person": person, "staff": policy.membership(person),
               "figure": figure, "kind": kind, "today": today}
    if period is not None:
        items = (evidence(figure, person=person, period=period, today=today)
                 .select_related(*EVIDENCE_RELATIONS[kind]).order_by(*EVIDENCE_ORDER[figure]))
        page = Paginator(items, EVIDENCE_PER_PAGE).get_page(request.GET.get("page"))
        context.update({"page": page, "rows": evidence_rows(figure, page, today), "query": period_query(period)})
    return render(request, "oversight/staff/evidence.html", context)
