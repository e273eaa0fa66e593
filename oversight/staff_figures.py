"""The staff performance report's figures per person, and the evidence behind each (DESIGN.md §2 rule 10).

Each figure is one queryset here (`EVIDENCE`), used twice: grouped by person for the report, and filtered to
one person for the evidence page behind the number, so the two can never disagree. The report costs a fixed
number of queries whatever the number of cases: the staff list, one grouped count per figure and the
thresholds.

For a chosen period (local dates, both included):
- handled: cases resolved in the period, counted for the person assigned at resolution; on time when the
  local day of resolution is on or before the due date (cases without a due date are not rated);
- overdue now: cases assigned to the person, clock running, past their due date today;
- late returns: returns the person made later than RETURN_WITHIN_WORKING_DAYS after arrival;
- refusals: the person's attempts to pass the unit's own work on that the server refused as
  `within_own_authority` (a transfer, return or submission of a matter within the unit's authority);
- consultations answered late: answers the person gave after the consultation's due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, QuerySet, TextChoices
from django.utils.translation import gettext_lazy as _

from cases import measures
from cases.measures import OnTimeShare
from cases.models import Case, CaseEvent, Consultation, ConsultationStatus, EventAction, Return
from core.periods import Period
from core.refusals import RefusalCode
from departments.models import Role, Staff
from oversight.models import ReviewThresholds

# The roles whose own work the report measures: the intake desk and the units' handlers and leads.
PERSONNEL_ROLES = (Role.CLERK, Role.SPECIALIST, Role.DEPUTY, Role.HEAD)


class Figure(TextChoices):
    HANDLED = "handled", _("Cases handled")
    HANDLED_LATE = "handled_late", _("Cases handled late")
    OVERDUE = "overdue", _("Overdue now")
    LATE_RETURNS = "late_returns", _("Late returns")
    REFUSALS = "refusals", _("Refused attempts to pass own work on")
    LATE_CONSULTATIONS = "late_consultations", _("Consultations answered late")


def handled_cases(period: Period, today: dt.date) -> QuerySet[Case]:
    return measures.resolutions(period).filter(assignee__isnull=False)


def handled_late_cases(period: Period, today: dt.date) -> QuerySet[Case]:
    return handled_cases(period, today).filter(due_date__isnull=False, resolved_on__gt=F("due_date"))


def overdue_cases(period: Period, today: dt.date) -> QuerySet[Case]:
    """Overdue as of `today`, whatever the period: the work a person is behind on now."""
    return Case.unscoped.overdue(today).filter(assignee__isnull=False)


def late_returns(period: Period, today: dt.date) -> QuerySet[Return]:
    return Return.objects.filter(period.during("returned_at"), late=True)


def own_authority_refusals(period: Period, today: dt.date) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(period.during("at"), action=EventAction.REFUSED, actor__isnull=False,
                                    payload__code=RefusalCode.WITHIN_OWN_AUTHORITY)


def late_consultations(period: Period, today: dt.date) -> QuerySet[Consultation]:
    return Consultation.unscoped.filter(period.during("answered_at"), status=ConsultationStatus.ANSWERED,
                                       answered_late=True, answered_by__isnull=False)


@dataclass(frozen=True)
class Evidence:
    rows: object  # a function (period, today) -> QuerySet
    person: str  # the field naming the person the row counts for


EVIDENCE: dict[str, Evidence] = {
    Figure.HANDLED: Evidence(handled_cases, "assignee"),
    Figure.HANDLED_LATE: Evidence(handled_late_cases, "assignee"),
    Figure.OVERDUE: Evidence(overdue_cases, "assignee"),
    Figure.LATE_RETURNS: Evidence(late_returns, "returned_by"),
    Figure.REFUSALS: Evidence(own_authority_refusals, "actor"),
    Figure.LATE_CONSULTATIONS: Evidence(late_consultations, "answered_by"),
}


def evidence(figure: str, *, person, period: Period, today: dt.date) -> QuerySet:
    """The rows behind one person's figure: what its link on the report opens."""
    source = EVIDENCE[figure]
    return source.rows(period, today).filter(**{source.person: person})


class ReviewReason(TextChoices):
    ON_TIME = "on_time", _("On-time rate below the line")
    OVERDUE = "overdue", _("Cases overdue now")
    LATE_RETURNS = "late_returns", _("Late returns")
    REFUSALS = "refusals", _("Tried to pass own work on")
    LATE_CONSULTATIONS = "late_consultations", _("Consultations answered late")


# The figure each reason's evidence is: what the "needs review" row links to.
REASON_FIGURES = {
    ReviewReason.ON_TIME: Figure.HANDLED_LATE,
    ReviewReason.OVERDUE: Figure.OVERDUE,
    ReviewReason.LATE_RETURNS: Figure.LATE_RETURNS,
    ReviewReason.REFUSALS: Figure.REFUSALS,
    ReviewReason.LATE_CONSULTATIONS: Figure.LATE_CONSULTATIONS,
}


@dataclass
class PersonFigures(OnTimeShare):
    staff: Staff
    handled: int = 0
    rated: int = 0  # handled with a due date to be measured against
    on_time: int = 0
    overdue: int = 0
    late_returns: int = 0
    refusals: int = 0
    late_consultations: int = 0
    review_reasons: list[str] = field(default_factory=list)
    commendable: bool = False

    @property
    def user(self):
        return self.staff.user

    @property
    def handled_late(self) -> int:
        return self.rated - self.on_time


def _at_least(value: int, line: int) -> bool:
    # A line of 0 switches the test off: otherwise everyone would be listed.
    return line > 0 and value >= line


def judge(person: PersonFigures, thresholds: ReviewThresholds) -> None:
    """Fill in the person's review reasons and whether the figures merit commendation."""
    reasons = []
    rate = person.on_time_rate
    rate_counts = rate is not None and person.rated >= thresholds.min_cases_for_rate
    if rate_counts and rate * 100 < thresholds.review_on_time_below:
        reasons.append(ReviewReason.ON_TIME)
    if _at_least(person.overdue, thresholds.review_overdue_at_least):
        reasons.append(ReviewReason.OVERDUE)
    if _at_least(person.late_returns, thresholds.review_late_returns_at_least):
        reasons.append(ReviewReason.LATE_RETURNS)
    if _at_least(person.refusals, thresholds.review_refusals_at_least):
        reasons.append(ReviewReason.REFUSALS)
    if _at_least(person.late_consultations, thresholds.review_late_consultations_at_least):
        reasons.append(ReviewReason.LATE_CONSULTATIONS)
    person.review_reasons = reasons
    person.commendable = (
        not reasons and rate_counts and person.handled >= thresholds.commend_cases_at_least
        and rate * 100 >= thresholds.commend_on_time_at_least
        and not (person.overdue or person.late_returns or person.refusals or person.late_consultations))


def staff_figures(*, period: Period, today: dt.date, departments=None,
                  thresholds: ReviewThresholds | None = None) -> list[PersonFigures]:
    """Every staff member of the units (all units when None) with their figures, by unit and name."""
    members = (Staff.objects.filter(role__in=PERSONNEL_ROLES).select_related("user", "department")
               .order_by("department__name", "user__last_name", "user__first_name", "user__username"))
    if departments is not None:
        members = members.filter(department__in=departments)
    people = {member.user_id: PersonFigures(staff=member) for member in members}
    if not people:
        return []
    thresholds = thresholds or ReviewThresholds.current()
    # Only the chosen units' people: a list of ids keeps each count on its own table's indexes.
    ids = list(people) if departments is not None else None

    def grouped(figure: str, **counts):
        source = EVIDENCE[figure]
        rows = source.rows(period, today)
        if ids is not None:
            rows = rows.filter(**{f"{source.person}__in": ids})
        return rows.order_by().values(source.person).annotate(**counts).values_list(source.person, *counts)

    # Counts of columns the covering index case_resolved_at carries, not of the id: PostgreSQL then answers
    # from the index alone (a year of a million-case city: 0.24 s instead of 0.62 s).
    for user_id, handled, rated_count, on_time in grouped(
            Figure.HANDLED, handled=Count("resolved_at"), rated=measures.rated(), on_time=measures.on_time()):
        if user_id in people:
            person = people[user_id]
            person.handled, person.rated, person.on_time = handled, rated_count, on_time
    for figure, name in ((Figure.OVERDUE, "overdue"), (Figure.LATE_RETURNS, "late_returns"),
                         (Figure.REFUSALS, "refusals"), (Figure.LATE_CONSULTATIONS, "late_consultations")):
        for user_id, count in grouped(figure, count=Count("id")):
            if user_id in people:
                setattr(people[user_id], name, count)
    for person in people.values():
        judge(person, thresholds)
    return list(people.values())

