from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cityops import health
from core import sessions, signin

urlpatterns = [
    # For load balancers and the IT staff: no login, nothing about people or cases (cityops/health.py).
    path("healthz/", health.healthz, name="healthz"),
    path("readyz/", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Before Django's own: the password reset limited per address and per client, and the session's clock.
    path("accounts/password_reset/", signin.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/session/", sessions.session_status, name="session-status"),
    path("accounts/session/keep-alive/", sessions.session_keep_alive, name="session-keep-alive"),
    path("accounts/logout/", signin.LogoutView.as_view(), name="logout"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("cityops.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file of its own, and our page links its style: the
    # Content-Security-Policy admits no inline script or style.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    path("routing/", include("departments.urls")),
    path("oversight/", include("oversight.urls")),
    path("reports/departments/", include("oversight.report_urls")),
    path("", include("cases.urls")),
]

# A request Django will not read: 413 for a body too large, the unreadable-input answer, or a short 400; JSON
# under /api/ (core/pages.py).
handler400 = "core.pages.bad_request"
# Pages in the site's look and the person's language; JSON under /api/ (core/pages.py).
handler403 = "core.pages.permission_denied"
handler404 = "core.pages.page_not_found"
# A failure's page names the request's id, which the log line carries too.
handler500 = "core.pages.server_error"
