"""`overdue/`: a unit's overdue and due-soon work over HTTP (DESIGN.md §2 rule 9, §5)."""

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import policy
from cases.api.serializers import OverdueQuerySerializer, OverdueSerializer
from cases.desk import desk_cases, desk_consultations
from cases.measures import Window
from core.api import AUTHENTICATION_CLASSES
from departments.models import Department
from departments.workdays import get_calendar

# The desk is a worklist, not an export: a bound keeps one request cheap whatever a unit's backlog.
MAX_ITEMS = 500


class OverdueView(APIView):
    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OverdueQuerySerializer],
        responses={200: OverdueSerializer,
                   400: OpenApiResponse(description="Unknown department code (a field error on `department`), or "
                                                    "none given by a user without a unit of their own."),
                   403: OpenApiResponse(description="Not a reader of this unit's desk: its head and deputies, the City "
                                                    "Committee's leaders, the city office, inspectors, Home "
                                                    "Affairs and admins read it.")},
        description=f"The overdue and due-soon cases a unit owns and the opinions it owes (DESIGN.md §2 rule 9): "
                    f"key tasks first, then the most working days late. Each list holds at most {MAX_ITEMS} items.",
    )
    def get(self, request):
        """A unit's overdue desk.

        `?department=<code>` names the unit; without it, the user's own. A unit's head and deputies read their
        own unit's; the City Committee's leaders, the city office, inspectors, Home Affairs and admins any;
        anyone else, a unit's specialists and clerks included, is refused with 403 (they see their own late
        work in their queue). Refused before the code is looked up, so that an unknown code tells them
        nothing; an unknown code then answers 400 with a field error on `department` (bad input, like the
        list filters), not 404.
        """
        code = request.query_params.get("department") or ""  # `?department=` from an empty form field: one's own
        try:
            access = policy.desk_access(request.user, code)
        except Department.DoesNotExist:
            # Bad input, like the list filters' unknown codes, not a missing page.
            OverdueQuerySerializer(data={"department": code}).is_valid(raise_exception=True)
            raise Http404 from None  # the unit went between the two looks
        staff = policy.membership(request.user)
        department = access.department or (staff.department if staff else None)
        if department is None:
            raise ValidationError({"department": [_("Name a unit: you are not a member of one.")]})
        window = Window.at(timezone.now())
        cases = desk_cases(department.pk, window).select_related("owner", "assignee")[:MAX_ITEMS]
        consultations = (desk_consultations(department.pk, window)
                         .select_related("case", "department", "assignee")[:MAX_ITEMS])
        context = {"request": request, "window": window, "calendar": get_calendar()}
        return Response(OverdueSerializer({"cases": cases, "consultations": consultations}, context=context).data)
