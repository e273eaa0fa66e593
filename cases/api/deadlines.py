"""`overdue/`: a unit's overdue and due-soon work over HTTP (DESIGN.md §2 rule 9, §5)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from cases.api.serializers import OverdueQuerySerializer, OverdueSerializer
from cases.deadlines import Window, desk_cases, desk_consultations
from cases.selectors import sees_whole_city, staff_of
from cityops.api import AUTHENTICATION_CLASSES
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
                   403: OpenApiResponse(description="Another unit than one's own without a city-wide role, or no "
                                                    "unit at all.")},
        description=f"The overdue and due-soon cases a unit owns and the opinions it owes (DESIGN.md §2 rule 9): "
                    f"key tasks first, then the most working days late. Each list holds at most {MAX_ITEMS} items.",
    )
    def get(self, request):
        """A unit's overdue desk.

        `?department=<code>` names the unit; without it, the user's own. Its staff see only their own unit;
        the city office, inspectors, Home Affairs and admins see any. Refused with 403 before the code is
        looked up, so that an unknown code tells a unit's staff nothing; an unknown code then answers 400
        with a field error on `department` (bad input, like the list filters), not 404.
        """
        staff, citywide = staff_of(request.user), sees_whole_city(request.user)
        code = request.query_params.get("department") or None  # `?department=` from an empty form field: one's own
        if not citywide and (staff is None or (code is not None and code != staff.department.code)):
            raise PermissionDenied(_("You may see only your own unit's overdue work."))
        query = OverdueQuerySerializer(data={"department": code} if code else {})
        query.is_valid(raise_exception=True)
        department = query.validated_data.get("department") or (staff.department if staff else None)
        if department is None:
            raise ValidationError({"department": [_("Name a unit: you are not a member of one.")]})
        window = Window.at(timezone.now())
        cases = desk_cases(department.pk, window).select_related("owner", "assignee")[:MAX_ITEMS]
        consultations = (desk_consultations(department.pk, window)
                         .select_related("case", "department", "assignee")[:MAX_ITEMS])
        context = {"request": request, "window": window, "calendar": get_calendar()}
        return Response(OverdueSerializer({"cases": cases, "consultations": consultations}, context=context).data)
