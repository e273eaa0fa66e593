"""The daily digest: one notice a day listing a head's unit's overdue and due-soon work, and what the person
has not read yet. Whoever chose not to get some kinds by mail finds those notices gathered here once a day."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q, Value
from django.utils import timezone

from cases import policy
from cases.desk import desk_cases, desk_consultations
from cases.measures import CASE_RUNNING, CONSULTATION_OPEN, Window
from cases.models import Case, Consultation, Notification
from core.bulk import insert_from_select
from core.notices import MailState, NoticeKind, mail_state_for
from departments.models import Role
from departments.workdays import local_date

# A mail, not a report: the desk has the rest.
DIGEST_ROWS = 50


def digest(user) -> dict:
    """The head's unit's overdue and due-soon work and the person's unread notices, as the digest mail lists them."""
    staff = policy.membership(user)
    window = Window.at(timezone.now())
    unread = list(Notification.objects.filter(recipient=user, read_at__isnull=True).exclude(kind=NoticeKind.DIGEST)
                  .select_related(*Notification.list_relations).order_by("-created_at", "-id")[:DIGEST_ROWS])
    if staff is None or staff.role != Role.HEAD:
        return {"cases": [], "consultations": [], "window": window, "unread": unread, "desk": False}
    return {"cases": list(desk_cases(staff.department_id, window)[:DIGEST_ROWS]),
            "consultations": list(desk_consultations(staff.department_id, window).select_related("case")[:DIGEST_ROWS]),
            "window": window, "unread": unread, "desk": True}


def create_digests(*, now: dt.datetime | None = None) -> int:
    """One digest notice a day per active head whose unit has overdue or due-soon work, and per active person
    with unread notices held back from mail by their own choice (written since yesterday's digest)."""
    now = now or timezone.now()
    window = Window.at(now)
    owing_cases = Case.unscoped.filter(CASE_RUNNING & window.on_desk())
    owing_consultations = Consultation.unscoped.filter(CONSULTATION_OPEN & window.on_desk())
    held = Notification.objects.filter(mail_state=MailState.OFF, read_at__isnull=True,
                                       created_at__gte=now - dt.timedelta(days=1))
    people = get_user_model().objects.filter(is_active=True).filter(
        Q(staff__role=Role.HEAD, staff__department__in=owing_cases.values("owner_id"))
        | Q(staff__role=Role.HEAD, staff__department__in=owing_consultations.values("department_id"))
        | Q(pk__in=held.values("recipient_id")))
    return insert_from_select(Notification, ["recipient", "kind", "on_date", "created_at", "mail_state"],
                              people.values_list("pk", Value(NoticeKind.DIGEST), Value(local_date(now)),
                                                 Value(now), mail_state_for("email")))
