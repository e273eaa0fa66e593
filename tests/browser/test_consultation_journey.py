"""Consultations in a real browser: a city-level land case whose rule requires two opinions goes from the
owner's request, through one agreement and one disagreement, the head's refused submission and the
reconciliation, to the City Committee's approval; then the consultation report shows it.

The land rule of the shared city: Sở Nông nghiệp và Môi trường owns it, the City Committee decides, and
Sở Xây dựng and Sở Tài chính must give their opinions. The UI runs in Vietnamese; elements are found by
ids, names, data-test attributes and URLs.
"""

import pytest

from cases.models import Consultation, EventAction, Outcome, Position, Reconciliation, Status
from tests.browser.steps import confirm

pytestmark = pytest.mark.browser

QUESTION = "Đề nghị cho ý kiến về phương án giao đất xây dựng chợ An Dương"
DISAGREEMENT = "Chưa xác định nguồn vốn bồi thường, giải phóng mặt bằng"
SETTLEMENT = "Đã thống nhất tại cuộc họp liên ngành: bồi thường từ nguồn vốn ngân sách thành phố năm 2027"


def open_action(page, action):
    page.click(f"[data-test=action-toggle-{action}]")
    page.wait_for_selector(f"#action-{action}.collapse.show")
    return page.locator(f"[data-test=action-{action}]")


def sign_out(page):
    page.click("[data-test=logout]")
    page.wait_for_url("**/accounts/login/")


def answer_from_the_inbox(page, case, position, comment="", snapshot=None):
    page.click("[data-test=nav-consultations]")
    page.wait_for_url("**/consultations/")
    assert page.inner_text("[data-test=nav-open-consultations]") == "1"
    row = page.locator(f"[data-test=inbox-row][data-reference='{case.reference}']")
    assert QUESTION in row.locator("[data-test=question]").inner_text()
    assert row.locator("[data-test=requesting-unit]").inner_text() == "Sở Nông nghiệp và Môi trường"
    row.locator("[data-test=respond-toggle]").click()
    # Unfolded (`show`), not still sliding open.
    form = page.locator(f"[data-test=respond-row].show[data-id='{row.get_attribute('data-id')}']")
    form.wait_for()
    form.locator(f"input[name=position][value={position}]").check()
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    if snapshot:
        snapshot()
    form.locator("[data-test=respond-submit]").click()
    page.wait_for_selector("[data-test=message-success]")
    assert page.url.endswith("/consultations/")
    assert page.locator("[data-test=inbox-empty]").is_visible()  # nothing open any more
    assert page.locator("[data-test=nav-open-consultations]").count() == 0


def test_two_opinions_a_disagreement_reconciled_and_the_city_approves(page, sign_in, snapshot, city, log_case):
    case = log_case(title="Giao đất xây dựng chợ An Dương", case_type=city.land, locality=city.commune,
                    amount=12_500_000_000)
    assert (case.owner, set(case.rule_snapshot["required_consultees"])) == (city.consulted, {"sxd", "stc"})

    # The owner accepts the case and asks both units the rule names; they are offered first, already checked.
    sign_in("consulted_head")
    page.goto(f"/cases/{case.reference}/")
    page.locator("[data-test=action-accept] [data-test=action-button]").click()
    page.wait_for_selector(f"[data-test=status][data-status={Status.IN_PROGRESS}]")
    form = open_action(page, "consult")
    required = form.locator("[data-test=consult-required] [data-test=consult-unit]")
    codes = [required.nth(i).get_attribute("data-code") for i in range(required.count())]
    assert codes == case.rule_snapshot["required_consultees"]  # in the rule's order
    assert all(required.nth(i).locator("input").is_checked() for i in range(required.count()))
    assert not form.locator("[data-test=consult-others] input:checked").count()
    form.locator("textarea[name=question]").fill(QUESTION)
    snapshot("consult-form")
    form.locator("[data-test=action-button]").click()
    page.wait_for_selector("[data-test=message-success]")
    rows = page.locator("[data-test=consultations] [data-test=consultation]")
    assert sorted(rows.nth(i).get_attribute("data-unit") for i in range(rows.count())) == ["stc", "sxd"]
    assert {rows.nth(i).get_attribute("data-status") for i in range(rows.count())} == {"open"}
    sign_out(page)

    # Sở Xây dựng agrees from its inbox; Sở Tài chính disagrees, with its reasons.
    sign_in("specialist")
    answer_from_the_inbox(page, case, Position.AGREE, snapshot=lambda: snapshot("consultation-inbox"))
    sign_out(page)
    sign_in("outsider_specialist")
    answer_from_the_inbox(page, case, Position.DISAGREE, DISAGREEMENT)
    sign_out(page)

    # The owner's head tries to submit and is told why not.
    sign_in("consulted_head")
    page.goto(f"/cases/{case.reference}/")
    disagreement = page.locator("[data-test=consultation][data-unit=stc]")
    assert disagreement.get_attribute("data-position") == Position.DISAGREE
    assert DISAGREEMENT in disagreement.locator("[data-test=consultation-comment]").inner_text()
    form = open_action(page, "submit")
    form.locator("textarea[name=summary]").fill("Tờ trình số 88/TTr-SNNMT về giao đất xây dựng chợ An Dương")
    form.locator("[data-test=action-button]").click()
    confirm(page)
    alert = page.locator("[data-test=message-error][data-refusal]")
    alert.wait_for()
    refusal = case.events.filter(action=EventAction.REFUSED).get()
    assert (refusal.payload["code"], refusal.actor) == ("unresolved_disagreement", city.user("consulted_head"))
    assert refusal.note in alert.inner_text()
    assert city.outsider.name in alert.inner_text()

    # The head records how the disagreement was settled; then the submission passes.
    disagreement = page.locator("[data-test=consultation][data-unit=stc]")
    disagreement.locator("[data-test=reconcile-toggle]").click()
    # Unfolded, not still sliding open: a click on a form that is still moving can land beside its button.
    reconcile = disagreement.locator(".collapse.show [data-test=action-reconcile]")
    reconcile.wait_for()
    reconcile.locator("textarea[name=note]").fill(SETTLEMENT)
    # The refusal above is still on the page until the answer to this form replaces it.
    with page.expect_navigation():
        reconcile.locator("[data-test=action-button]").click()
    # Either the settlement shows, or the page says why not (which the assertion then reports).
    page.wait_for_selector("[data-test=consultation][data-unit=stc] [data-test=reconciliation], "
                           "[data-test=message-error]")
    assert not page.locator("[data-test=message-error]").count(), page.inner_text("[data-test=message-error]")
    assert SETTLEMENT in page.inner_text("[data-test=consultation][data-unit=stc] [data-test=reconciliation]")
    snapshot("consultations-reconciled")
    form = open_action(page, "submit")
    form.locator("textarea[name=summary]").fill("Tờ trình số 88/TTr-SNNMT về giao đất xây dựng chợ An Dương")
    form.locator("[data-test=action-button]").click()
    confirm(page)
    page.wait_for_selector(f"[data-test=status][data-status={Status.SUBMITTED}]")
    sign_out(page)

    # The city office records the City Committee's approval from its queue.
    sign_in("city_office")
    page.wait_for_url("**/submissions/")
    row = page.locator(f"[data-test=submission-row][data-reference='{case.reference}']")
    row.locator("select[name=outcome]").select_option(Outcome.APPROVED)
    row.locator("textarea[name=note]").fill("Quyết định số 2345/QĐ-UBND")
    row.locator("[data-test=decide-submit]").click()
    confirm(page)
    page.wait_for_selector("[data-test=message-success]")
    page.goto(f"/cases/{case.reference}/")
    assert page.get_attribute("[data-test=status]", "data-status") == Status.RESOLVED
    assert page.get_attribute("[data-test=case-outcome]", "data-outcome") == Outcome.APPROVED

    # The report: the owner asked twice, both required; Sở Tài chính answered on time.
    page.click("[data-test=nav-reports]")
    page.click("[data-test=nav-report-consultations]")
    page.wait_for_url("**/reports/consultations/")
    owner = page.locator("[data-test=figures-row][data-unit=snnmt]")
    assert owner.locator("[data-test=sent]").inner_text() == "2"
    assert owner.locator("[data-test=non-required-share]").inner_text() == "0%"
    finance = page.locator("[data-test=figures-row][data-unit=stc]")
    assert finance.locator("[data-test=received]").inner_text() == "1"
    assert finance.locator("[data-test=on-time-rate]").inner_text() == "100%"
    snapshot("consultation-report")

    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.RESOLVED, Outcome.APPROVED)
    positions = dict(Consultation.unscoped.filter(case=case).values_list("department__code", "position"))
    assert positions == {"sxd": Position.AGREE, "stc": Position.DISAGREE}
    assert Reconciliation.objects.get(consultation__case=case).note == SETTLEMENT
