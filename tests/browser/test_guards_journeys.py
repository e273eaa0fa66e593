"""The directive's guards in a real browser: a refused transfer, a misrouted case sent back and routed right,
and a city-level matter submitted, decided by the city office and settled; the applicant's supplement letter.

The UI runs in Vietnamese; elements are found by ids, names, data-test attributes and URLs.
"""

import re

import pytest

from cases.models import Case, EventAction, Outcome, Status
from departments.models import AuthorityRule, CaseType, DecisionLevel
from departments.workdays import local_date
from tests.browser.steps import confirm

pytestmark = pytest.mark.browser


def open_action(page, action):
    """Unfold an action of the detail page's actions card and return its form."""
    page.click(f"[data-test=action-toggle-{action}]")
    page.wait_for_selector(f"#action-{action}.collapse.show")  # unfolded, not still sliding open
    return page.locator(f"[data-test=action-{action}]")


def event_actions(page):
    rows = page.locator("[data-test=event-history] [data-test=event]")
    return [rows.nth(i).get_attribute("data-action") for i in range(rows.count())]


def sign_out(page):
    page.click("[data-test=logout]")
    page.wait_for_url("**/accounts/login/")


def test_the_head_tries_to_pass_on_own_authority_work_and_reads_the_refusal(page, sign_in, snapshot, city, log_case):
    case = log_case(title="Cấp phép xây dựng nhà ở số 8 Trần Phú")
    sign_in("head")
    page.goto(f"/cases/{case.reference}/")
    form = open_action(page, "transfer")
    # The form says that the rules give the case to this very unit, and offers it anyway: the server decides.
    assert form.locator("[data-test=competent-unit]").get_attribute("data-unit") == city.owner.code
    form.locator("select[name=to]").select_option(city.outsider.code)
    form.locator("textarea[name=reason]").fill("Đề nghị Sở Tài chính xử lý")
    snapshot("detail-actions")
    form.locator("[data-test=action-button]").click()
    confirm(page, snapshot, "confirm-transfer")

    alert = page.locator("[data-test=message-error][data-refusal]")
    alert.wait_for()  # the page after the post: it carries the refusal
    assert page.url.endswith(f"/cases/{case.reference}/")
    case.refresh_from_db()
    refusal = case.events.get(action=EventAction.REFUSED)
    assert (refusal.payload["code"], refusal.actor) == ("within_own_authority", city.user("head"))
    assert refusal.note in alert.inner_text()
    assert event_actions(page) == ["created", "routed", "refused"]
    assert (case.owner, case.status) == (city.owner, Status.ROUTED)
    snapshot("detail-refusal")


def test_a_misrouted_case_is_returned_and_the_intake_desk_routes_it_to_its_owner(page, sign_in, city, log_case):
    case = log_case(title="Xin cấp phép xây dựng kho hàng Đình Vũ")
    # Since the case was routed, the rule was corrected: the matter now belongs to Sở Tài chính.
    city.permit_rule.owner = city.outsider
    city.permit_rule.save()

    sign_in("specialist")
    page.goto(f"/cases/{case.reference}/")
    form = open_action(page, "return")
    assert form.locator("[data-test=competent-unit]").get_attribute("data-unit") == city.outsider.code
    form.locator("textarea[name=reason]").fill("Hồ sơ thuộc thẩm quyền của Sở Tài chính")
    form.locator("[data-test=action-button]").click()
    confirm(page)
    page.wait_for_url("**/cases/")  # the case has left the unit: back to its queue
    assert case.reference in page.inner_text("[data-test=message-success]")
    assert page.locator(f"[data-test=queue-row][data-reference='{case.reference}']").count() == 0
    case.refresh_from_db()
    assert (case.status, case.triage_reason) == (Status.TRIAGE, "returned")
    sign_out(page)

    sign_in("clerk")
    page.goto("/triage/")
    row = page.locator(f"[data-test=triage-row][data-reference='{case.reference}']")
    assert row.locator("[data-test=triage-reason]").get_attribute("data-reason") == "returned"
    assert row.locator("select[name=to]").input_value() == city.outsider.code  # what the rules name today
    row.locator("[data-test=route-submit]").click()
    page.wait_for_selector("[data-test=message-success]")
    assert page.locator(f"[data-test=triage-row][data-reference='{case.reference}']").count() == 0
    sign_out(page)

    sign_in("outsider_head")
    row = page.locator(f"[data-test=queue-row][data-reference='{case.reference}']")
    assert row.count() == 1
    row.locator("[data-test=case-link]").click()
    page.wait_for_url(f"**/cases/{case.reference}/")
    assert page.locator("[data-test=returns] [data-test=return]").count() == 1
    assert event_actions(page) == ["created", "routed", "returned", "routed_manually"]
    case.refresh_from_db()
    assert (case.owner, case.status) == (city.outsider, Status.ROUTED)


def test_a_city_level_matter_goes_up_and_the_city_office_approves_it(page, sign_in, snapshot, city, log_case):
    # Sở Xây dựng prepares a detailed-plan adjustment; the City Committee decides it. No consultee is required,
    # so the submission waits for nothing but the head's summary.
    plan = CaseType.objects.create(code="urban-plan", name="Điều chỉnh quy hoạch chi tiết 1/500", processing_days=10)
    AuthorityRule.objects.create(case_type=plan, owner=city.owner, decision_level=DecisionLevel.CITY_COMMITTEE,
                                 legal_basis="Luật Quy hoạch đô thị 2009, Điều 44")
    case = log_case(title="Điều chỉnh quy hoạch chi tiết chợ An Dương", case_type=plan, locality=city.commune)
    assert case.owner == city.owner

    sign_in("head")
    page.goto(f"/cases/{case.reference}/")
    page.locator("[data-test=action-accept] [data-test=action-button]").click()
    page.wait_for_selector(f"[data-test=status][data-status={Status.IN_PROGRESS}]")
    assert page.locator("[data-test=message-success]").is_visible()
    assert page.locator("[data-test=action-resolve]").count() == 0  # the City Committee decides, not the unit
    form = open_action(page, "submit")
    form.locator("textarea[name=summary]").fill("Tờ trình số 45/TTr-SXD về điều chỉnh quy hoạch chợ An Dương")
    form.locator("[data-test=action-button]").click()
    confirm(page)
    page.wait_for_selector(f"[data-test=status][data-status={Status.SUBMITTED}]")
    assert page.locator("[data-test=submissions] [data-test=submission]").get_attribute("data-outcome") == ""
    sign_out(page)

    sign_in("city_office")
    page.wait_for_url("**/submissions/")  # the city office starts at its queue
    row = page.locator(f"[data-test=submission-row][data-reference='{case.reference}']")
    assert "Tờ trình số 45/TTr-SXD" in row.inner_text()
    assert city.owner.name in row.inner_text()
    row.locator("select[name=outcome]").select_option(Outcome.APPROVED)
    row.locator("textarea[name=note]").fill("Quyết định số 1234/QĐ-UBND")
    snapshot("submissions")
    row.locator("[data-test=decide-submit]").click()
    confirm(page)
    page.wait_for_selector("[data-test=message-success]")
    assert page.url.endswith("/submissions/")
    assert page.locator("[data-test=submissions-empty]").is_visible()

    page.goto(f"/cases/{case.reference}/")
    assert page.get_attribute("[data-test=status]", "data-status") == Status.RESOLVED
    assert page.get_attribute("[data-test=case-outcome]", "data-outcome") == Outcome.APPROVED
    assert page.get_attribute("[data-test=submission]", "data-outcome") == Outcome.APPROVED
    case.refresh_from_db()
    assert (case.status, case.outcome, case.resolution) == (Status.RESOLVED, Outcome.APPROVED,
                                                            "Quyết định số 1234/QĐ-UBND")
    snapshot("detail-decided")


def test_the_applicant_is_asked_for_a_supplement_on_a_printable_letter(page, sign_in, snapshot, city, log_case):
    case = log_case(title="Xin cấp phép xây dựng nhà ở riêng lẻ số 25 Lạch Tray", applicant_name="Đỗ Thị Mai",
                    applicant_contact="0904 111 222")
    sign_in("specialist")
    page.goto(f"/cases/{case.reference}/")
    page.locator("[data-test=action-accept] [data-test=action-button]").click()
    page.wait_for_selector(f"[data-test=status][data-status={Status.IN_PROGRESS}]")
    form = open_action(page, "request-supplement")
    form.locator("textarea[name=items]").fill("Bản vẽ thiết kế có chữ ký của chủ đầu tư\n"
                                              "Giấy chứng nhận quyền sử dụng đất (bản sao chứng thực)")
    form.locator("[data-test=action-button]").click()
    page.wait_for_selector("[data-test=supplement]")
    assert page.get_attribute("[data-test=status]", "data-status") == Status.AWAITING_SUPPLEMENT

    page.click("[data-test=supplement-letter-link]")
    page.wait_for_url(f"**/cases/{case.reference}/supplement-letter/")
    letter = page.locator("[data-test=supplement-letter]")
    assert page.get_attribute("html", "lang") == "vi"
    assert page.inner_text("[data-test=letter-reference]") == case.reference
    assert page.inner_text("[data-test=letter-applicant]") == "Đỗ Thị Mai"
    assert page.inner_text("[data-test=letter-received-on]") == f"{local_date(case.received_at):%d/%m/%Y}"
    items = letter.locator("[data-test=letter-items] li")
    assert [items.nth(i).inner_text() for i in range(items.count())] == [
        "Bản vẽ thiết kế có chữ ký của chủ đầu tư", "Giấy chứng nhận quyền sử dụng đất (bản sao chứng thực)"]
    assert page.inner_text("[data-test=letter-handler]") == "Phạm Minh Tuấn"
    assert page.locator("[data-test=print]").is_visible()
    snapshot("supplement-letter")
    # On paper: the letter alone, without the navigation bar or the buttons.
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.locator("[data-test=print]").is_visible()
    assert letter.is_visible()
    assert re.search(r"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", letter.inner_text())
    assert Case.unscoped.get(pk=case.pk).supplement_requested_at is not None
