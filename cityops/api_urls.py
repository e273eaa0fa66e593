"""Routes of the HTTP API under /api/v1/ (DESIGN.md §5)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from cases.api.deadlines import OverdueView
from cases.api.disputes import DisputeViewSet
from cases.api.submissions import SubmissionViewSet
from cases.api.views import CaseViewSet, ConsultationViewSet
from core import token_views
from departments.api import views as departments

router = SimpleRouter()
router.register("departments", departments.DepartmentViewSet, basename="api-department")
router.register("staff", departments.StaffViewSet, basename="api-staff")
router.register("case-types", departments.CaseTypeViewSet, basename="api-case-type")
router.register("authority-rules", departments.AuthorityRuleViewSet, basename="api-authority-rule")
router.register("calendar/days", departments.CalendarDayViewSet, basename="api-calendar-day")
router.register("cases", CaseViewSet, basename="api-case")
router.register("consultations", ConsultationViewSet, basename="api-consultation")
router.register("submissions", SubmissionViewSet, basename="api-submission")
router.register("disputes", DisputeViewSet, basename="api-dispute")

urlpatterns = [
    path("auth/token/", token_views.ObtainTokenView.as_view(), name="api-token"),
    path("auth/tokens/", token_views.TokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_key>/", token_views.TokenRevokeView.as_view(), name="api-token-revoke"),
    path("auth/logout/", token_views.LogoutView.as_view(), name="api-logout"),
    path("overdue/", OverdueView.as_view(), name="api-overdue"),
    path("routing/preview/", departments.RoutingPreviewView.as_view(), name="api-routing-preview"),
    *router.urls,
]
