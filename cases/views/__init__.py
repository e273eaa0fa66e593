"""The pages. Views parse with a form, call a service from `cases.services` and render or redirect; who sees
which case comes from `cases.selectors` only."""

from cases.views.actions import ACTIONS, case_action
from cases.views.attachments import attachment_download
from cases.views.consultations import consultation_assign_view, consultation_inbox, consultation_respond_view
from cases.views.deadlines import city_deadlines, overdue_desk, overdue_desk_export
from cases.views.detail import case_detail
from cases.views.disputes import dispute_settle_view, disputes
from cases.views.extensions import extension_letter
from cases.views.intake import case_new, home, triage, triage_route
from cases.views.notifications import notification_list, notification_read, notifications_read_all
from cases.views.queue import case_list
from cases.views.reports import consultation_report
from cases.views.submissions import submissions
from cases.views.supplements import supplement_letter

__all__ = [
    "ACTIONS",
    "attachment_download",
    "case_action",
    "case_detail",
    "case_list",
    "case_new",
    "city_deadlines",
    "extension_letter",
    "notification_list",
    "notification_read",
    "notifications_read_all",
    "overdue_desk",
    "overdue_desk_export",
    "consultation_assign_view",
    "consultation_inbox",
    "consultation_report",
    "consultation_respond_view",
    "dispute_settle_view",
    "disputes",
    "home",
    "submissions",
    "supplement_letter",
    "triage",
    "triage_route",
]
