"""The pages. Views parse with a form, call a service from `cases.services` and render or redirect; who sees
which case and who may open which page comes from `cases.policy` only."""

from cases.views.actions import case_action, consultation_action
from cases.views.attachments import attachment_download
from cases.views.consultations import consultation_inbox
from cases.views.deadlines import city_deadlines, overdue_desk, overdue_desk_export
from cases.views.detail import case_detail
from cases.views.disputes import dispute_settle_view, disputes
from cases.views.extensions import extension_letter
from cases.views.intake import case_new, home, triage
from cases.views.notifications import (
    notification_latest,
    notification_list,
    notification_mail,
    notification_read,
    notifications_read_all,
)
from cases.views.queue import case_list
from cases.views.reports import consultation_report
from cases.views.submissions import submissions
from cases.views.supplements import supplement_letter

__all__ = [
    "attachment_download",
    "case_action",
    "case_detail",
    "case_list",
    "case_new",
    "city_deadlines",
    "consultation_action",
    "consultation_inbox",
    "consultation_report",
    "dispute_settle_view",
    "disputes",
    "extension_letter",
    "home",
    "notification_latest",
    "notification_list",
    "notification_mail",
    "notification_read",
    "notifications_read_all",
    "overdue_desk",
    "overdue_desk_export",
    "submissions",
    "supplement_letter",
    "triage",
]
