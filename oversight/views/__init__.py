"""Oversight pages: the records (inspections, violations, commendations), the staff performance report and
the department report."""

from oversight.views.department_report import department_report, department_report_export
from oversight.views.records import (
    commendation_list,
    commendation_new,
    inspection_attach_view,
    inspection_detail,
    inspection_file,
    inspection_list,
    inspection_new,
    oversight_home,
    violation_action,
    violation_detail,
    violation_list,
    violation_new,
)
from oversight.views.staff_report import staff_evidence, staff_report

__all__ = [
    "commendation_list",
    "commendation_new",
    "department_report",
    "department_report_export",
    "inspection_attach_view",
    "inspection_detail",
    "inspection_file",
    "inspection_list",
    "inspection_new",
    "oversight_home",
    "staff_evidence",
    "staff_report",
    "violation_action",
    "violation_detail",
    "violation_list",
    "violation_new",
]
