import re

from django.urls import path, re_path

from cases import views
from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS

# One route for every case action of the registry (cases/actions.py); any other name is not a page.
ACTION_NAMES = "|".join(re.escape(name) for name in CASE_ACTIONS)

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<str:reference>/", views.case_detail, name="case-detail"),
    re_path(rf"^cases/(?P<reference>[^/]+)/(?P<action>{ACTION_NAMES})/$", views.case_action, name="case-action"),
    path("cases/<str:reference>/attachments/<int:attachment_id>/", views.attachment_download,
         name="attachment-download"),
    path("cases/<str:reference>/supplement-letter/", views.supplement_letter, name="supplement-letter"),
    path("cases/<str:reference>/extension-letter/", views.extension_letter, name="extension-letter"),
    path("overdue/", views.overdue_desk, name="overdue-desk"),
    path("overdue/export.<str:fmt>", views.overdue_desk_export, name="overdue-desk-export"),
    path("reports/deadlines/", views.city_deadlines, name="report-deadlines"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<str:source>/<int:notification_id>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/latest/", views.notification_latest, name="notifications-latest"),
    path("notifications/mail/", views.notification_mail, name="notification-mail"),
    path("consultations/", views.consultation_inbox, name="consultations"),
    *(path(f"consultations/<int:consultation_id>/{slug}/", views.consultation_action, {"action": slug},
           name=f"consultation-{slug}") for slug in CONSULTATION_ACTIONS),
    path("reports/consultations/", views.consultation_report, name="report-consultations"),
    path("submissions/", views.submissions, name="submissions"),
    path("disputes/", views.disputes, name="disputes"),
    path("disputes/<int:dispute_id>/settle/", views.dispute_settle_view, name="dispute-settle"),
    path("triage/", views.triage, name="triage"),
    # Routing from the triage queue is the `route` case action; this address is the triage page's.
    path("triage/<str:reference>/route/", views.case_action, {"action": "route"}, name="triage-route"),
]
