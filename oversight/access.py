"""Who sees oversight records and the staff report (issue: oversight): the Inspectorate, Home Affairs and the
admins, nobody else; a record's existence is not hinted to anyone else (the pages answer 403 to staff who are
signed in, and sign-in to visitors)."""

from __future__ import annotations

from django.db.models import Q

from cases.guards import page_for
from cases.selectors import staff_of
from cases.services.common import LEAD_ROLES
from departments.models import DepartmentKind, Role

OVERSIGHT_ROLES = frozenset({Role.INSPECTOR, Role.HOME_AFFAIRS})
OVERSIGHT_UNITS = frozenset({DepartmentKind.INSPECTORATE, DepartmentKind.HOME_AFFAIRS})

# The same people as `may_oversee`, for querysets of users (admins apart: they have no unit).
OVERSEEING_STAFF = Q(staff__role__in=OVERSIGHT_ROLES) | Q(staff__role__in=LEAD_ROLES,
                                                         staff__department__kind__in=OVERSIGHT_UNITS)


def may_oversee(user) -> bool:
    """Inspectors, Home Affairs officials, the heads and deputy heads of the Inspectorate and of Home Affairs
    (the Chief Inspector and the Director, who lead the work), and admins."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    staff = staff_of(user)
    if staff is None:
        return False
    return staff.role in OVERSIGHT_ROLES or (staff.role in LEAD_ROLES and staff.department.kind in OVERSIGHT_UNITS)


# The oversight pages: those who keep the records (visitors sign in, anyone else gets 403).
oversight_required = page_for(may_oversee)
