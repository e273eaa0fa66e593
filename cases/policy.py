"""Who sees what and who may do what: the one access policy (DESIGN.md §2 rule 4; STYLE.md §13).

Every visibility rule is a queryset here and every capability a function of the user, the move and the
record. Services enforce the capabilities (`require`), and the page views, the API, the admin, exports,
reports, template tags and the navigation bar read the same functions, so that what a page offers, what the
API admits and what the server allows cannot disagree.

- A unit's staff see its own cases and those it is consulted on; inspectors, Home Affairs, the city office
  and admins see every case. Anyone else gets 404, never a hint that a case exists.
- An intake desk sees the cases its unit received, and works the triage queue of those only; the city
  office's desk also takes the cases of units that have no desk of their own.
- A consultation is acted on only by the unit it is addressed to.
- A unit's overdue desk is read by its head and deputies, the City Committee's head and deputies, the city
  office, inspectors, Home Affairs and admins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext as _

from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseQuerySet,
    Consultation,
    DisputeStatus,
    Return,
    RuleDispute,
    Status,
    Submission,
)
from core.refusals import RefusalCode, Refused
from departments.models import (
    CITYWIDE_ROLES,
    HANDLER_ROLES,
    LEAD_ROLES,
    OVERSIGHT_ROLES,
    OVERSIGHT_UNITS,
    Department,
    DepartmentKind,
    Role,
    Staff,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    # The acting person: someone signed in, or a visitor (who sees and may do nothing).
    AnyUser: TypeAlias = User | AnonymousUser

# --- Who the user is ------------------------------------------------------------------------------------------


def membership(user: AnyUser | None) -> Staff | None:
    """The user's place in a unit, read with its unit in one query and kept on the user for the request: the
    policy, the page and the navigation bar (which names the unit) share it."""
    if user is None or not user.is_authenticated:
        return None
    related = get_user_model().staff.related
    if not related.is_cached(user):
        related.set_cached_value(user, Staff.objects.select_related("department").filter(user_id=user.pk).first())
    # What was cached just above, or by the query that read the user with its staff row.
    return cast("Staff | None", related.get_cached_value(user))


def is_admin(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def sees_whole_city(user: AnyUser) -> bool:
    """Inspectors, Home Affairs, the city office and admins: they see every case."""
    if is_admin(user):
        return True
    staff = membership(user)
    return bool(staff and staff.role in CITYWIDE_ROLES)


def leads_a_unit(user: AnyUser) -> bool:
    staff = membership(user)
    return bool(staff and staff.role in LEAD_ROLES)


def leads_city_committee(user: AnyUser) -> bool:
    """The Chairman and the vice-chairmen: the head or a deputy head of the City Committee's own unit, who read
    every unit's figures and overdue desk."""
    staff = membership(user)
    return bool(staff and staff.role in LEAD_ROLES and staff.department.kind == DepartmentKind.CITY_COMMITTEE)


def is_clerk(user: AnyUser) -> bool:
    """The intake desk (and admins, who may log and route a case themselves)."""
    if is_admin(user):
        return True
    staff = membership(user)
    return bool(staff and staff.role == Role.CLERK)


def searches_by_pin(user: AnyUser) -> bool:
    """The intake desk finds a file by the PIN on the applicant's receipt; nobody else searches by it."""
    return is_clerk(user)


def may_record_decisions(user: AnyUser) -> bool:
    """The city office records the City Committee's decisions (admins too)."""
    staff = membership(user)
    return is_admin(user) or bool(staff and staff.role == Role.CITY_OFFICE)


def may_oversee(user: AnyUser) -> bool:
    """Inspectors, Home Affairs officials, the heads and deputy heads of the Inspectorate and of Home Affairs
    (the Chief Inspector and the Director, who lead the work), and admins keep the oversight records."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    staff = membership(user)
    if staff is None:
        return False
    return staff.role in OVERSIGHT_ROLES or (staff.role in LEAD_ROLES and staff.department.kind in OVERSIGHT_UNITS)


# The same people as `may_oversee`, for querysets of users (admins apart: they have no unit).
OVERSEEING_STAFF = Q(staff__role__in=OVERSIGHT_ROLES) | Q(staff__role__in=LEAD_ROLES,
                                                         staff__department__kind__in=OVERSIGHT_UNITS)


def reads_every_desk(user: AnyUser) -> bool:
    """Those who read any unit's overdue desk and the city's deadline view: the city-wide roles, the admins and
    the City Committee's own leaders."""
    return sees_whole_city(user) or leads_city_committee(user)


# --- The intake desk ------------------------------------------------------------------------------------------


def _desk_without_clerk() -> Q:
    """Cases received by no unit (logged by an admin) or by a unit that has no intake desk of its own."""
    has_clerk = Staff.objects.filter(department_id=OuterRef("receiving_unit_id"), role=Role.CLERK)
    # A Q or'ed with a condition is a Q; the stubs know only Q | Q.
    return cast(Q, Q(receiving_unit__isnull=True) | ~Exists(has_clerk))


def intake_desk_cases(staff: Staff) -> Q:
    """The cases a clerk's desk answers for: those its unit received; the city office's desk also those of
    units without a desk."""
    mine = Q(receiving_unit_id=staff.department_id)
    if staff.department.kind == DepartmentKind.CITY_OFFICE:
        mine |= _desk_without_clerk()
    return mine


def on_intake_desk(staff: Staff, case: Case) -> bool:
    """The Python twin of `intake_desk_cases`, for one case."""
    if case.receiving_unit_id == staff.department_id:
        return True
    if staff.department.kind != DepartmentKind.CITY_OFFICE:
        return False
    return case.receiving_unit_id is None or not Staff.objects.filter(department_id=case.receiving_unit_id,
                                                                      role=Role.CLERK).exists()


# --- What the user sees ---------------------------------------------------------------------------------------


def cases_visible_to(user: AnyUser) -> CaseQuerySet[Case]:
    """Cases the user may see at all; any other case answers 404, never a hint that it exists."""
    cases = Case.unscoped.all()
    if sees_whole_city(user):
        return cases
    staff = membership(user)
    if staff is None:
        return cases.none()
    # Consulted departments read the case to answer (rule 4: read-only, enforced by the services).
    mine = cast(Q, Q(owner_id=staff.department_id) | Exists(
        Consultation.unscoped.filter(case_id=OuterRef("pk"), department_id=staff.department_id)))
    if staff.role == Role.CLERK:
        mine |= intake_desk_cases(staff)
    return cases.filter(mine)


def case_to_act_on(user: AnyUser, reference: str, cases: QuerySet[Case] | None = None) -> Case:
    """The case a move is asked on: one the user sees, or else one their unit held and gave up since (a move of
    someone else's won the race): they acted on what they saw, so the service refuses the attempt with its code
    and records it, where a 404 would say the case never existed. Anyone else: 404, as for any unseen case."""
    visible = cases if cases is not None else cases_visible_to(user)
    found = visible.filter(reference=reference).first()
    if found is not None:
        return found
    staff = membership(user)
    if staff is not None:
        held = CaseEvent.objects.filter(Q(from_department_id=staff.department_id)
                                        | Q(to_department_id=staff.department_id), case_id=OuterRef("pk"))
        found = visible.model.unscoped.filter(Exists(held), reference=reference).first()
    if found is None:
        raise Http404
    return found


def department_queue(user: AnyUser) -> QuerySet[Case]:
    """The user's unit's own cases, key tasks first; for the intake desk, every case it received, whatever
    became of it since, the latest first (a clerk answers the applicants who come back to ask)."""
    staff = membership(user)
    if staff is None:
        return Case.unscoped.none()
    if staff.role == Role.CLERK:
        return cases_visible_to(user).filter(intake_desk_cases(staff)).order_by("-received_at", "-id")
    return cases_visible_to(user).filter(owner_id=staff.department_id).key_tasks_first()


def triage_queue(user: AnyUser) -> QuerySet[Case]:
    """The cases waiting for an owner that the user's intake desk routes (admins: all of them)."""
    waiting = cases_visible_to(user).filter(status=Status.TRIAGE).order_by("-key_task", "received_at", "id")
    if is_admin(user):
        return waiting
    staff = membership(user)
    if staff is None or staff.role != Role.CLERK:
        return Case.unscoped.none()
    return waiting.filter(intake_desk_cases(staff))


LIST_RELATIONS = ("case_type", "locality", "owner", "assignee", "receiving_unit")


def with_list_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related(*LIST_RELATIONS)


def detail_relations() -> list[Prefetch]:
    """Everything a case's page and its API detail list beside the case, each in one query whatever the
    number of rows."""
    return [
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor", "from_department", "to_department")),
        Prefetch("returns", queryset=Return.objects.select_related("department", "returned_by",
                                                                   "competent_department")),
        Prefetch("submissions", queryset=Submission.objects.select_related("department", "submitted_by",
                                                                           "decided_by")),
        Prefetch("disputes", to_attr="open_disputes",
                 queryset=RuleDispute.objects.filter(status=DisputeStatus.OPEN).select_related("department",
                                                                                               "filed_by")),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by")),
        Prefetch("consultations", queryset=Consultation.unscoped.select_related(
            "department", "requested_by", "assignee", "answered_by", "reconciliation__recorded_by",
            "reconciliation__attachment").order_by("requested_at", "department__name", "id")),
    ]


def with_first_details(case: Case, events: list[CaseEvent]) -> Case:
    """A case intake has just written, holding what `detail_relations` would read for it, without reading: the
    events the same transaction wrote, and nothing else, since no return, submission, dispute, file or
    consultation can exist before the case does. The intake desk's answer is the case in full, and these reads
    were most of its cost.
    """
    # Where Django's prefetch_related keeps what it read (DRF clears the same cache after an update): a later
    # prefetch of these names finds them done, and `case.events.all()` serves the list as given.
    cache = case.__dict__.setdefault("_prefetched_objects_cache", {})
    for through, to_attr in _detail_relation_names():
        rows = events if through == "events" else []
        if to_attr:
            setattr(case, to_attr, rows)
            continue
        related = getattr(case, through).all()
        related._result_cache, related._prefetch_done = list(rows), True
        cache[through] = related
    return case


@functools.cache
def _detail_relation_names() -> tuple[tuple[str, str | None], ...]:
    # The names only, read once: building the lookups' querysets on every intake would cost what was saved.
    return tuple((lookup.prefetch_through, lookup.to_attr) for lookup in detail_relations())


def case_details(user: AnyUser) -> QuerySet[Case]:
    """The cases the user may see, each with what its page or API detail lists."""
    return (with_list_relations(cases_visible_to(user)).select_related("extended_by")
            .prefetch_related(*detail_relations()))


def consultations_visible_to(user: AnyUser) -> QuerySet[Consultation]:
    """The overseers' whole city; a unit's staff the requests addressed to the unit and those on its own cases.

    Starts from the cases the user may see, so that a consultation never reveals a case that would be 404.
    """
    consultations = Consultation.unscoped.all()
    if sees_whole_city(user):
        return consultations
    staff = membership(user)
    if staff is None:
        return consultations.none()
    mine = Q(department_id=staff.department_id) | Q(case__owner_id=staff.department_id)
    return consultations.filter(mine, case__in=cases_visible_to(user))


def consultations_addressed_to(user: AnyUser) -> QuerySet[Consultation]:
    """The requests for the user's unit's opinion: the only consultations the user may act on. Any other one
    answers 404 to a move, whoever sees its case (and nothing is recorded)."""
    staff = membership(user)
    if staff is None:
        return Consultation.unscoped.none()
    return Consultation.unscoped.filter(department_id=staff.department_id)


def attachments_visible_to(user: AnyUser) -> QuerySet[Attachment]:
    return Attachment.objects.filter(case__in=cases_visible_to(user))


def submissions_visible_to(user: AnyUser) -> QuerySet[Submission]:
    """The City Committee's queue, for those who record its decisions; they see every case."""
    if not may_record_decisions(user):
        return Submission.objects.none()
    return Submission.objects.all()


def disputes_visible_to(user: AnyUser) -> QuerySet[RuleDispute]:
    """Admins read every rule dispute; a unit's staff the disputes their unit filed."""
    if is_admin(user):
        return RuleDispute.objects.all()
    staff = membership(user)
    return RuleDispute.objects.filter(department_id=staff.department_id) if staff else RuleDispute.objects.none()


@dataclass(frozen=True)
class DeskAccess:
    department: Department | None  # None: a reader of every desk who has not chosen a unit yet
    reassigns: bool  # the unit's own head or deputy, who may reassign its work from the desk
    whole_city: bool  # may read any unit's desk


def desk_access(user: AnyUser, code: str = "") -> DeskAccess:
    """Whose overdue desk the user reads: a unit's head and deputies their own; the readers of every desk the
    unit `code` names, or none yet. Anyone else, including a unit's staff without a lead role: 403, before the
    code is looked up, so that it tells them nothing. An unknown code raises Department.DoesNotExist."""
    staff = membership(user)
    lead = staff if staff is not None and staff.role in LEAD_ROLES else None  # the user's place, if they lead it
    every = reads_every_desk(user)
    if code and every:
        department = Department.objects.get(code=code)
    elif lead is not None and code in ("", lead.department.code):
        department = lead.department
    elif every:
        department = None
    else:
        raise PermissionDenied(_("You may see only your own unit's overdue work."))
    reassigns = lead is not None and department is not None and department.pk == lead.department_id
    return DeskAccess(department, reassigns, every)


def report_scope(user: AnyUser) -> QuerySet[Department] | None:
    """The units whose figures the user reads: None for the whole city (overseers, the city office, admins, and
    the City Committee's own leaders), the user's own unit for any other head or deputy head; anyone else may
    not read the figures (403)."""
    if reads_every_desk(user):
        return None
    staff = membership(user)
    if staff is not None and staff.role in LEAD_ROLES:
        return Department.objects.filter(pk=staff.department_id)
    raise PermissionDenied


def reads_reports(user: AnyUser) -> bool:
    try:
        report_scope(user)
    except PermissionDenied:
        return False
    return True


# --- Reads of personal data from outside the case's units -------------------------------------------------------


def consulted_on(user: AnyUser, case_id: str = "pk") -> Exists | Value:
    """Whether the user's unit is consulted on the case whose id the outer query's `case_id` field holds, as an
    annotation: read in the query that reads the case, so that `reads_from_outside` needs no query of its own."""
    staff = membership(user)
    if staff is None:
        return Value(False)
    return Exists(Consultation.unscoped.filter(case_id=OuterRef(case_id), department_id=staff.department_id))


def reads_from_outside(user: AnyUser, case: Case, *, consulted: bool | None = None) -> bool:
    """Whether the user reads the case only because they see the whole city (inspectors, Home Affairs, the city
    office, admins), their unit being neither its owner nor consulted on it: such a read of its personal data is
    recorded (core.reads). `consulted` is the `consulted_on` annotation when the caller read it with the case;
    otherwise the case's prefetched consultations answer, or one query."""
    if not sees_whole_city(user):
        # Anyone else sees a case only through their unit's part in it: owner, consulted or intake desk.
        return False
    staff = membership(user)
    if staff is None:
        return True
    if staff.department_id == case.owner_id:
        return False
    if consulted is None:
        if "consultations" in getattr(case, "_prefetched_objects_cache", {}):
            consulted = any(item.department_id == staff.department_id for item in case.consultations.all())
        else:
            consulted = Consultation.unscoped.filter(case_id=case.pk, department_id=staff.department_id).exists()
    return not consulted


# --- What the user may do -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may attempt a move on a record: `allows(user, record)`, and `refusal(user, record)` the exception a
    move by anyone else raises: `Refused` (recorded: someone tried to settle another unit's work) or
    `PermissionDenied` (403: the user's role never does this)."""

    name: str
    allows: Callable[[AnyUser, Any], bool]
    refusal: Callable[[AnyUser, Any], Exception]
    # Whether someone outside the record's unit is refused with `not_owner` (recorded) rather than 403.
    refuses_outsiders: bool = False

    def __str__(self) -> str:
        return self.name


def can(user: AnyUser, rule: Rule, record: Any) -> bool:
    return bool(user.is_authenticated) and rule.allows(user, record)


def require(user: AnyUser, rule: Rule, record: Any) -> None:
    """Raise the rule's refusal unless the user may make the move."""
    if not can(user, rule, record):
        raise rule.refusal(user, record)


def _unit_rule(name: str, unit_of: Callable[[Any], int | None], roles: frozenset[str],
               not_member: Callable[[], str], named: Callable[[Any], dict] = lambda record: {}) -> Rule:
    """The staff of the record's unit in `roles`; anyone outside the unit is refused with `not_owner` (and the
    attempt recorded, with what `named` says of the record), a member in another role gets 403 with who may act
    (the head principle)."""

    def member(user: AnyUser, record: Any) -> Staff | None:
        staff = membership(user)
        unit_id = unit_of(record)
        return staff if staff is not None and unit_id is not None and staff.department_id == unit_id else None

    def allows(user: AnyUser, record: Any) -> bool:
        staff = member(user, record)
        return staff is not None and staff.role in roles

    def refusal(user: AnyUser, record: Any) -> Exception:
        if member(user, record) is None:
            return Refused(RefusalCode.NOT_OWNER, not_member(), **named(record))
        if roles == LEAD_ROLES:
            return PermissionDenied(_("Only the head or a deputy head of the department may do this."))
        return PermissionDenied(_("Your role does not handle cases."))

    return Rule(name, allows, refusal, refuses_outsiders=True)


def _denied(message: Callable[[], str]) -> Callable[[AnyUser, Any], Exception]:
    return lambda user, record: PermissionDenied(message())


def _owner_id(case: Case) -> int | None:
    return case.owner_id


def _consulted_id(consultation: Consultation) -> int | None:
    return consultation.department_id


def _not_owner() -> str:
    return _("Only the owner department may act on this case.")


def _not_consulted() -> str:
    return _("Only the consulted department answers this request.")


OWNER_HANDLERS = _unit_rule("owner_handlers", _owner_id, HANDLER_ROLES, _not_owner)
OWNER_LEADS = _unit_rule("owner_leads", _owner_id, LEAD_ROLES, _not_owner)
def _the_consultation(consultation: Consultation) -> dict:
    return {"consultation": consultation.pk}


CONSULTED_HANDLERS = _unit_rule("consulted_handlers", _consulted_id, HANDLER_ROLES, _not_consulted, _the_consultation)
CONSULTED_LEADS = _unit_rule("consulted_leads", _consulted_id, LEAD_ROLES, _not_consulted, _the_consultation)

DECISION_RECORDERS = Rule(
    "decision_recorders", lambda user, case: may_record_decisions(user),
    _denied(lambda: _("Only the city office records the City Committee's decisions.")))


def _sets_key_task(user: AnyUser, case: Case) -> bool:
    staff = membership(user)
    if staff is None:
        return False
    return staff.role == Role.CITY_OFFICE or (staff.department_id == case.owner_id and staff.role in LEAD_ROLES)


KEY_TASK_SETTERS = Rule("key_task_setters", _sets_key_task,
                        _denied(lambda: _("Only the owner's head or deputy, or the city office, may mark key tasks.")))


def _attaches(user: AnyUser, case: Case) -> bool:
    staff = membership(user)
    if staff is None:
        return False
    return staff.department_id == case.owner_id or (staff.role == Role.CLERK and on_intake_desk(staff, case))


ATTACHERS = Rule("attachers", _attaches,
                 _denied(lambda: _("Only the owner department and the intake desk add files to a case.")))


def _routes(user: AnyUser, case: Case) -> bool:
    if is_admin(user):
        return True
    staff = membership(user)
    return bool(staff and staff.role == Role.CLERK and on_intake_desk(staff, case))


TRIAGE_ROUTERS = Rule("triage_routers", _routes, _denied(lambda: _("Only the intake desk routes cases from triage.")))
INTAKE_CLERKS = Rule("intake_clerks", lambda user, record: is_clerk(user),
                     _denied(lambda: _("Only the intake desk logs cases.")))
CORRECTORS = Rule("correctors", lambda user, record: is_admin(user),
                  _denied(lambda: _("Only administrators correct a case's clerical details.")))
OVERSEERS = Rule("overseers", lambda user, record: may_oversee(user),
                 _denied(lambda: _("Only inspectors, Home Affairs and admins keep oversight records.")))
ADMINS = Rule("admins", lambda user, record: is_admin(user),
              _denied(lambda: _("Only administrators settle rule disputes.")))


# --- The pages the user may open --------------------------------------------------------------------------------


def has_unit(user: AnyUser) -> bool:
    return membership(user) is not None


def reads_desk(user: AnyUser) -> bool:
    return leads_a_unit(user) or reads_every_desk(user)


class Capabilities:
    """What the signed-in user may open, read once per request: the navigation bar offers exactly these, and
    each page is guarded by the same function."""

    def __init__(self, user: AnyUser):
        self.user = user

    @cached_property
    def queue(self) -> bool:
        return has_unit(self.user)

    @cached_property
    def consultations(self) -> bool:
        return has_unit(self.user)

    @cached_property
    def intake(self) -> bool:
        return is_clerk(self.user)

    @cached_property
    def overdue_desk(self) -> bool:
        return reads_desk(self.user)

    @cached_property
    def submissions(self) -> bool:
        return may_record_decisions(self.user)

    @cached_property
    def reports(self) -> bool:
        return reads_reports(self.user)

    @cached_property
    def deadline_view(self) -> bool:
        return reads_every_desk(self.user)

    @cached_property
    def oversee(self) -> bool:
        return may_oversee(self.user)

    @cached_property
    def administer(self) -> bool:
        return is_admin(self.user)

    @cached_property
    def notifications(self) -> bool:
        return bool(self.user.is_authenticated)

    def __getitem__(self, name: str) -> bool:
        """`caps[name]` for the navigation's declarations, which name capabilities as strings."""
        if name not in PAGE_CAPABILITIES:
            raise KeyError(name)
        return getattr(self, name)


PAGE_CAPABILITIES = ("queue", "consultations", "intake", "overdue_desk", "submissions", "reports", "deadline_view",
                     "oversee", "administer", "notifications")



def page_rule(name: str) -> Callable[[AnyUser], bool]:
    """The guard of the pages that capability `name` opens, so that a page and its link in the navigation
    read the same answer."""
    if name not in PAGE_CAPABILITIES:
        raise KeyError(name)
    return lambda user: Capabilities(user)[name]
