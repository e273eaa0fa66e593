"""The heads' daily digest: one notice a day listing their unit's overdue and due-soon work."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, Value
from django.utils import timezone

from cases import policy
from cases.desk import desk_cases, desk_consultations
from cases.measures import CASE_RUNNING, CONSULTATION_OPEN, Window
from cases.models import Case, Consultation, Notification
from core.bulk import insert_from_select
from core.notices import NoticeKind, mail_state_for
from departments.models import Role, Staff
from departments.workdays import local_date

# A mail, not a report: the desk has the rest.
DIGEST_ROWS = 50


def digest(user) -> dict:
    """The head's unit's overdue and due-soon work, as the digest mail lists it."""
    staff = policy.membership(user)
    window = Window.at(timezone.now())
    if staff is None:
        return {"cases": [], "consultations": [], "window": window}
    return {"cases": list(desk_cases(staff.department_id, window)[:DIGEST_ROWS]),
            "consultations": list(desk_consultations(staff.department_id, window).select_related("case")[:DIGEST_ROWS]),
            "window": window}


def create_digests(*, now: dt.datetime | None = None) -> int:
    """One digest notice per active head whose unit has overdue or due-soon work; at most one a day."""
    now = now or timezone.now()
    window = Window.at(now)
    owing_cases = Case.unscoped.filter(CASE_RUNNING & window.on_desk())
    owing_consultations = Consultation.unscoped.filter(CONSULTATION_OPEN & window.on_desk())
    heads = Staff.objects.filter(role=Role.HEAD, user__is_active=True).filter(
        Q(department__in=owing_cases.values("owner_id"))
        | Q(department__in=owing_consultations.values("department_id")))
    return insert_from_select(Notification, ["recipient", "kind", "on_date", "created_at", "mail_state"],
                              heads.values_list("user_id", Value(NoticeKind.DIGEST), Value(local_date(now)),
                                                Value(now), mail_state_for("user__email")))
