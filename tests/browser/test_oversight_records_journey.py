"""An inspector's oversight journey in a real browser: from the navigation to the oversight
overview, a surprise inspection of Sở Xây dựng recorded with its PDF minutes, then from the inspection's page a
violation found there, linked to a case by its reference; the violation's page lists the case and the handling
due date, and the case's reference opens the case.

The UI runs in Vietnamese; elements are found by ids, names, data-test attributes and URLs. The live server runs
on the real clock, so the dates are today's.
"""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from departments.workdays import local_date
from oversight.models import Inspection, InspectionKind, Violation, ViolationSource
from oversight.services import handling_due_date
from tests.support.cases import PDF_BYTES

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("media_root", "oversight_choices")
def test_an_inspector_records_a_surprise_inspection_and_a_violation_linked_to_a_case(page, sign_in, snapshot, city,
                                                                                      log_case):
    case = log_case(title="Xin cấp phép xây dựng nhà số 8 Trần Phú")
    today = local_date(timezone.now())

    sign_in("inspector")
    page.click("[data-test=nav-oversight]")
    page.click("[data-test=nav-oversight-home]")
    page.wait_for_selector("[data-test=violation-counts]")
    assert page.url.endswith(reverse("oversight"))
    snapshot("oversight-overview")

    # A surprise inspection of the owner department, with the team's minutes as a PDF.
    page.click("[data-test=record-inspection]")
    page.wait_for_selector("[data-test=inspection-form]")
    page.select_option("#id_department", "sxd")
    page.check(f"input[name=kind][value={InspectionKind.SURPRISE}]")
    assert page.input_value("#id_inspected_on") == today.strftime("%d/%m/%Y")
    page.select_option("#id_team", ["inspector", "home_affairs"])
    page.fill("#id_findings", "Bộ phận một cửa yêu cầu nộp thêm bản sao sổ hộ khẩu.")
    page.set_input_files("#id_files", files=[{"name": "bien-ban-kiem-tra.pdf", "mimeType": "application/pdf",
                                              "buffer": PDF_BYTES}])
    snapshot("inspection-form")
    page.click("[data-test=save]")
    page.wait_for_selector("[data-test=inspection-facts]")
    inspection = Inspection.objects.get()
    assert page.url.endswith(reverse("inspection-detail", args=[inspection.pk]))
    assert page.get_attribute("[data-test=inspected-unit]", "data-unit") == "sxd"
    assert page.locator("[data-test=team-member]").count() == 2
    file_link = page.locator("[data-test=file-link]")
    assert file_link.inner_text() == "bien-ban-kiem-tra.pdf"
    assert file_link.get_attribute("href") == reverse("inspection-file",
                                                      args=[inspection.pk, inspection.attachments.get().pk])
    snapshot("inspection-detail")

    # A violation found there: the form already names the inspection, its source and its date.
    page.click("[data-test=record-violation-here]")
    page.wait_for_selector("[data-test=violation-form]")
    assert page.input_value("#id_inspection") == str(inspection.pk)
    assert page.input_value("#id_source") == ViolationSource.SURPRISE_INSPECTION
    assert page.input_value("#id_discovered_on") == today.strftime("%d/%m/%Y")
    assert page.input_value("#id_handler") == "inspector"
    page.select_option("#id_person", "specialist")
    page.select_option("#id_kind", "papers-not-required")
    page.select_option("#id_severity", "less-serious")
    page.fill("#id_description", "Yêu cầu người dân nộp bản sao công chứng sổ hộ khẩu ngoài danh mục.")
    page.fill("#id_cases", case.reference)
    snapshot("violation-form")
    page.click("[data-test=save]")
    page.wait_for_selector("[data-test=violation-facts]")
    violation = Violation.objects.get()
    assert page.url.endswith(reverse("violation-detail", args=[violation.pk]))
    assert page.is_visible("[data-test=message-success]")

    related = page.locator("[data-test=related-case]")
    assert related.count() == 1
    assert related.get_attribute("data-reference") == case.reference
    due = handling_due_date(today, settings.VIOLATION_HANDLING_DAYS)
    assert violation.due_date == due
    assert page.inner_text("[data-test=handling-due] [data-test=handling-due-date]") == due.strftime("%d/%m/%Y")
    assert page.get_attribute("[data-test=source]", "data-source") == ViolationSource.SURPRISE_INSPECTION
    assert (violation.inspection, violation.department, violation.person) == (inspection, city.owner,
                                                                              city.user("specialist"))
    snapshot("violation-detail")

    related.locator("[data-test=case-link]").click()
    page.wait_for_selector("[data-test=case-reference]")
    assert page.url.endswith(reverse("case-detail", args=[case.reference]))
    assert page.inner_text("[data-test=case-reference]") == case.reference
