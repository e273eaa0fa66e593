"""What oversight adds to the cases app's shared machinery, through the registries the cases app keeps, so that
the cases app knows nothing of oversight's models (STYLE.md §15): the handling deadline of violations in the
overdue sweep, their notices under the bell, and the violations recorded on a case on the case's page."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet, Value

from cases import policy
from cases.deadlines import DeadlineItem, register_deadline_item
from cases.panels import CasePanel, register_case_panel
from core.notices import mail_state_for, register_notices
from departments.models import Role
from oversight.models import Violation, ViolationMark, ViolationNotice, ViolationStatus

NOTICE_FIELDS = ["recipient", "kind", "violation", "on_date", "created_at", "mail_state"]


def violation_notices(marks: QuerySet, now: dt.datetime):
    """For each violation marked by this run: a notice to the official responsible for its handling and one to
    the head of that official's unit (told once when the two are one person: the notices' unique constraint)."""
    yield ViolationNotice, NOTICE_FIELDS, marks.filter(violation__handler__is_active=True).values_list(
        "violation__handler_id", "flag", "violation_id", "due_date", Value(now),
        mail_state_for("violation__handler__email"))
    yield ViolationNotice, NOTICE_FIELDS, marks.filter(
        violation__handler__staff__department__staff__role=Role.HEAD,
        violation__handler__staff__department__staff__user__is_active=True).values_list(
        "violation__handler__staff__department__staff__user_id", "flag", "violation_id", "due_date", Value(now),
        mail_state_for("violation__handler__staff__department__staff__user__email"))


def handling_summary(overdue: int, due_soon: int) -> str:
    return f"{overdue} violations' handling overdue, {due_soon} due soon"


def violations_on_case(user, case) -> dict | None:
    """Oversight records name cases; only those who keep them see them on the case's page."""
    if not policy.may_oversee(user):
        return None
    violations = list(case.violations.select_related("person", "kind", "severity").order_by("-discovered_on", "-id"))
    return {"violations": violations} if violations else None


def register() -> None:
    register_deadline_item(DeadlineItem("violations", Violation, Q(status=ViolationStatus.OPEN), ViolationMark,
                                        "violation", violation_notices, summary=handling_summary))
    register_notices(ViolationNotice)
    register_case_panel(CasePanel("oversight/records/_case_violations.html", violations_on_case))
