"""Who sees which cases (DESIGN.md §2 rule 4). Every list, detail, export and API view starts here."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.models import Case, Consultation, Status
from departments.models import DepartmentKind, Role


def staff_of(user):
    if not user.is_authenticated:
        return None
    return getattr(user, "staff", None)


def sees_whole_city(user) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    staff = staff_of(user)
    return bool(staff and staff.sees_whole_city)


def leads_city_committee(user) -> bool:
    """The Chairman and the vice-chairmen: the head or a deputy head of the City Committee's own unit, who read
    every unit's figures and overdue desk."""
    staff = staff_of(user)
    return bool(staff and staff.role in (Role.HEAD, Role.DEPUTY)
                and staff.department.kind == DepartmentKind.CITY_COMMITTEE)


def is_clerk(user) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    staff = staff_of(user)
    return bool(staff and staff.role == Role.CLERK)


def cases_visible_to(user) -> QuerySet[Case]:
    """Cases the user may see at all; any other case answers 404, never a hint that it exists."""
    cases = Case.objects.all()
    if sees_whole_city(user):
        return cases
    staff = staff_of(user)
    if staff is None:
        return cases.none()
    # Consulted departments read the case to answer (rule 4: read-only, enforced by the services).
    mine = Q(owner_id=staff.department_id) | Exists(
        Consultation.objects.filter(case_id=OuterRef("pk"), department_id=staff.department_id))
    if staff.role == Role.CLERK:
        # The intake desk sees what it received and the triage queue it works from.
        mine |= Q(receiving_unit_id=staff.department_id) | Q(status=Status.TRIAGE)
    return cases.filter(mine)


def department_queue(user) -> QuerySet[Case]:
    """The signed-in user's department's own cases, key tasks first."""
    staff = staff_of(user)
    if staff is None:
        return Case.objects.none()
    return cases_visible_to(user).filter(owner_id=staff.department_id).key_tasks_first()


def triage_queue(user) -> QuerySet[Case]:
    if not is_clerk(user):
        return Case.objects.none()
    return cases_visible_to(user).filter(status=Status.TRIAGE).order_by("-key_task", "received_at", "id")


def with_list_relations(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("case_type", "locality", "owner", "assignee", "receiving_unit")


def consultations_visible_to(user) -> QuerySet[Consultation]:
    """The overseers' whole city; a unit's staff the requests addressed to the unit and those on its own cases.

    Starts from the cases the user may see, so that a consultation never reveals a case that would be 404.
    """
    consultations = Consultation.objects.all()
    if sees_whole_city(user):
        return consultations
    staff = staff_of(user)
    if staff is None:
        return consultations.none()
    mine = Q(department_id=staff.department_id) | Q(case__owner_id=staff.department_id)
    return consultations.filter(mine, case__in=cases_visible_to(user))
