"""The overdue desk's work (DESIGN.md §2 rule 9: finish overdue work): what a unit owes that is late or due
within a working day, key tasks first and then the longest overdue, for the page, its files, the API and the
heads' digest. Which unit's desk a user reads is the access policy's to say (`cases.policy.desk_access`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.measures import CASE_RUNNING, CONSULTATION_OPEN, Window
from cases.models import Case, Consultation
from core.exports import Table


def desk_cases(department_id: int, window: Window) -> QuerySet[Case]:
    """A unit's open cases overdue or due soon: key tasks first, then the longest overdue (DESIGN.md §5)."""
    return (Case.unscoped.filter(CASE_RUNNING & window.on_desk(), owner_id=department_id)
            .order_by("-key_task", "due_date", "id"))


def desk_consultations(department_id: int, window: Window) -> QuerySet[Consultation]:
    """The opinions a unit owes that are overdue or due soon, in the same order."""
    return (Consultation.unscoped.filter(CONSULTATION_OPEN & window.on_desk(), department_id=department_id)
            .order_by("-case__key_task", "due_date", "id"))


# --- The desk as a file ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskRow:
    """One line of the desk, as the page shows it."""

    section: str  # translated: a case, or a consultation the unit owes
    reference: str
    title: str
    key_task: bool
    status: str  # translated label
    assignee: str
    due_date: dt.date
    days_late: int | None  # working days late; None while only due soon
    legal_basis: str
    department: str


COLUMNS = [
    gettext_lazy("Section"), gettext_lazy("Reference"), gettext_lazy("Title"), gettext_lazy("Key task"),
    gettext_lazy("Status"), gettext_lazy("Assignee"), gettext_lazy("Due date"), gettext_lazy("Working days late"),
    gettext_lazy("Legal basis"), gettext_lazy("Department"),
]
WIDTHS = [18, 22, 60, 10, 22, 24, 12, 12, 40, 30]


def _cells(row: DeskRow) -> list:
    """The row's values in COLUMNS order; a due-soon item says so where the days late would be."""
    return [row.section, row.reference, row.title, _("Yes") if row.key_task else _("No"), row.status, row.assignee,
            row.due_date, row.days_late if row.days_late is not None else _("Due soon"), row.legal_basis,
            row.department]


def desk_table(rows: Iterable[DeskRow]) -> Table:
    # `map` keeps it lazy: each row's cells are made as the writer reaches it, in the reader's language.
    return Table(COLUMNS, map(_cells, rows), gettext_lazy("Overdue desk"), WIDTHS)


