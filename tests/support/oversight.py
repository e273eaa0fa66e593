"""Two hand-counted Novembers of 2026 for the oversight reports' tests, made through the case services with a
settable clock, so the rows are the ones the application writes: one for the staff report (per person), one
for the department report (per unit). Each function's docstring is its hand count."""

import datetime as dt

import pytest

from cases.models import Case
from cases.services import (
    case_accept,
    case_assign,
    case_consult,
    case_request_supplement,
    case_resolve,
    case_return,
    case_submit,
    case_transfer,
    consultation_respond,
    deem_silent_consultations_agreed,
)
from core.refusals import Refused
from departments.models import AuthorityRule, CaseType
from tests.support.world import local_datetime

LATER = dt.date(2026, 12, 31)  # a due date that keeps background work off the overdue figure
# Staff report lines low enough that the staff November puts someone on each list.
LOW_LINES = {"min_cases_for_rate": 1, "review_on_time_below": 50, "review_overdue_at_least": 2,
             "review_late_returns_at_least": 1, "review_refusals_at_least": 1,
             "review_late_consultations_at_least": 1, "commend_cases_at_least": 1, "commend_on_time_at_least": 100}


def refused(service, **kwargs):
    """The code of the refusal the service must raise."""
    with pytest.raises(Refused) as refusal:
        service(**kwargs)
    return refusal.value.code


def on(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def set_due(case, due_date):
    Case.unscoped.filter(pk=case.pk).update(due_date=due_date)


def staff_november(city, stages, consulting, clock) -> dict:
    """November 2026 in the shared city, hand-counted (period 1–30 November, read on 7 December).

    Phạm Minh Tuấn (specialist, Sở Xây dựng):
      handled 4: A on its due day at 23:30 (on time); B at 00:10 on 1 November, still 31 October in UTC (late
      by one working day); E two working days late; F without a due date (counted, not rated): rated 3, on
      time 1. Not counted: C at 00:10 on 1 December (30 November in UTC), D at 23:50 on 31 October, and G,
      which he accepted but the head gave to the deputy.
      overdue now 2: H (due 1 December) and I (due 4 December); J is due today, K waits for the applicant.
      late returns 1: L returned three working days after arrival; M the next working day (on time).
      refusals 1: a return of a case within his unit's authority; another in December is outside.
    Lê Thị Hoa (deputy): handled 1 (G, reassigned to her, on time).
    Trần Văn Hùng (head): refusals 2 (a transfer and a submission of own-authority cases).
    Sở Nông nghiệp và Môi trường: the specialist and the head each answered one consultation late; the
      specialist's on-time answer (23:00 on the due day) and late answer in December don't count.
    Sở Tài chính's specialist tried to return Sở Xây dựng's case: refused `not_owner`, which is not counted.
    """
    user = city.user
    clock.set(local_datetime(2026, 10, 26, 9))
    handled = {name: stages.in_progress(title=f"Hồ sơ {name}") for name in "ABCDEFG"}
    for name, due in {"A": on(11, 10), "B": on(10, 29), "C": on(11, 30), "D": on(10, 30), "E": on(11, 20),
                      "F": None, "G": on(11, 20)}.items():
        set_due(handled[name], due)
    case_assign(case=handled["G"], actor=user("head"), assignee=user("deputy"))
    overdue = {name: stages.in_progress(title=f"Đang xử lý {name}") for name in "HIJK"}
    for name, due in {"H": on(12, 1), "I": on(12, 4), "J": on(12, 7), "K": on(12, 1)}.items():
        set_due(overdue[name], due)
    case_request_supplement(case=overdue["K"], actor=user("specialist"), items="Bản vẽ mặt bằng")
    own = {name: stages.routed(title=f"Thuộc thẩm quyền {name}") for name in ("return", "transfer", "outsider",
                                                                                "december")}
    own["submit"] = stages.in_progress(title="Thuộc thẩm quyền, trình nhầm")
    set_due(own["submit"], LATER)

    def resolve(name, year, month, day, hour, minute=0):
        clock.set(local_datetime(year, month, day, hour, minute))
        case_resolve(case=handled[name], actor=user("head"), note="Đã giải quyết")

    resolve("D", 2026, 10, 31, 23, 50)
    resolve("B", 2026, 11, 1, 0, 10)

    clock.set(local_datetime(2026, 11, 2, 9))
    stall = CaseType.objects.create(code="market-stall", name="Cho thuê ki-ốt chợ", processing_days=10)
    stall_rule = AuthorityRule.objects.create(case_type=stall, owner=city.owner, legal_basis="Quyết định 12/2026")
    misfiled = {name: stages.routed(title=f"Ki-ốt {name}", case_type=stall) for name in "LM"}
    stall_rule.owner = city.outsider  # the rules, as corrected, give these to Sở Tài chính
    stall_rule.save()
    asked = {}
    for name in ("late", "on_time", "december", "head_late"):
        case = consulting.case(title=f"Thẩm định {name}")
        [asked[name]] = consulting.ask(case)
        set_due(case, LATER)
    assert asked["late"].due_date == on(11, 5)

    clock.set(local_datetime(2026, 11, 3, 10))
    case_return(case=misfiled["M"], actor=user("specialist"), reason="Không thuộc chức năng của Sở")
    clock.set(local_datetime(2026, 11, 5, 10))
    case_return(case=misfiled["L"], actor=user("specialist"), reason="Không thuộc chức năng của Sở")
    clock.set(local_datetime(2026, 11, 5, 23))
    consulting.answer(asked["on_time"])
    clock.set(local_datetime(2026, 11, 6, 10))
    consulting.answer(asked["late"])
    consulting.answer(asked["head_late"], actor="consulted_head")

    resolve("A", 2026, 11, 10, 23, 30)
    resolve("G", 2026, 11, 12, 10)
    assert refused(case_return, case=own["return"], actor=user("specialist"), reason="Trả lại") == \
        "within_own_authority"
    clock.set(local_datetime(2026, 11, 13, 10))
    assert refused(case_transfer, case=own["transfer"], actor=user("head"), to=city.outsider,
                   reason="Chuyển Sở Tài chính") == "within_own_authority"
    clock.set(local_datetime(2026, 11, 14, 10))
    assert refused(case_submit, case=own["submit"], actor=user("head"), summary="Tờ trình") == "within_own_authority"
    assert refused(case_return, case=own["outsider"], actor=user("outsider_specialist"), reason="Trả lại") == \
        "not_owner"
    resolve("F", 2026, 11, 16, 10)
    resolve("E", 2026, 11, 25, 10)
    resolve("C", 2026, 12, 1, 0, 10)
    clock.set(local_datetime(2026, 12, 1, 10))
    consulting.answer(asked["december"])
    clock.set(local_datetime(2026, 12, 2, 10))
    assert refused(case_return, case=own["december"], actor=user("specialist"), reason="Trả lại") == \
        "within_own_authority"

    clock.set(local_datetime(2026, 12, 7, 10))
    return {**handled, **overdue, **misfiled, **{f"own_{k}": v for k, v in own.items()},
            **{f"asked_{k}": v for k, v in asked.items()}}



def units_november(city, log_case, clock) -> dict:
    """The city as of Friday 20 November 2026, 10:00; the period is 1–20 November.

    Sở Xây dựng (permits: 15 working days; Sở Tài chính is the permit rule's required consultee):
      resolved in the period 6 (working days taken 3, 4, 6, 15, 15, 21; median of six: (6 + 15) / 2 = 10.5):
        A received Mon 2/11, resolved Thu 5/11: 3 days, due 23/11, on time;
        G received Mon 2/11, resolved Fri 6/11: 4 days, on time;
        B received Mon 2/11, resolved Tue 10/11: 6 days, on time;
        C received Thu 15/10, due Thu 5/11, resolved at 23:30 on 5/11: 15 days, on time (its due day);
        D received Fri 16/10, due Fri 6/11, resolved Sat 7/11 at 06:00 local (still 6/11 in UTC): late;
        F received Thu 1/10, due Thu 22/10, resolved Sun 1/11 at 00:30 local (31/10 in UTC): 21 days, late,
          and inside the period by its local day;
      so 4 of 6 on time, 67 %;
      X received Thu 1/10, resolved Sat 31/10 at 23:00 local: outside the period;
      open 4: OV (in progress, due 22/10: overdue), S (awaiting the applicant's supplement: clock stopped, not
        overdue though past due), R (routed 18/11), T (a signage case routed 2/11, due 30/11);
      returns: signage cases the rule has since given to Sở Tài chính, one returned the next working day (on
        time), one three working days after arrival (late); one late return in October, outside;
      refused attempts by its staff: within_own_authority 2 (head transfers OV, specialist returns R),
        target_not_competent 1 (head transfers T to Sở NN&MT), not_owner 1 (specialist accepts Sở NN&MT's
        case); one more refusal in October, outside;
      consultations: asked Sở NN&MT and Sở Tài chính on OV on 2/11 (due 9/11): sent 2, received none.
    Sở Nông nghiệp và Môi trường (forestry: 10 working days, decided by the unit):
      resolved 1, imported without a due date: not rated (no rate), 7 working days (median 7); open 1;
      consultations: answered Sở Xây dựng's late (11/11), asked Sở Tài chính on 12/11 (due 19/11): sent 1.
    Sở Tài chính: no case; as the unit asked: received 2, silent 1 (the required opinion on OV, deemed agreed
      on 10/11), owed overdue 1 (Sở NN&MT's, due 19/11).
    No other unit did anything.
    """
    sxd, snnmt, stc = city.owner, city.consulted, city.outsider
    head, specialist = city.user("head"), city.user("specialist")
    signage = CaseType.objects.create(code="signage", name="Cấp phép biển quảng cáo", processing_days=20)
    signage_rule = AuthorityRule.objects.create(case_type=signage, owner=sxd, legal_basis="Nghị định 70/2026")
    forestry = CaseType.objects.create(code="forestry", name="Khai thác rừng trồng", processing_days=10)
    AuthorityRule.objects.create(case_type=forestry, owner=snnmt, legal_basis="Luật Lâm nghiệp 2017")

    def give_signage_to(unit):
        signage_rule.owner = unit
        signage_rule.save()

    def logged(at, **fields):
        clock.set(at)
        return log_case(received_at=at, **fields)

    def accepted(at, actor=specialist, **fields):
        return case_accept(case=logged(at, **fields), actor=actor)

    def resolve(case, at, actor=head):
        clock.set(at)
        return case_resolve(case=case, actor=actor, note="Đã giải quyết")

    cases = {}
    # October: the old cases, and what happens before the period.
    cases["F"] = accepted(local_datetime(2026, 10, 1, 9), title="F")
    cases["X"] = accepted(local_datetime(2026, 10, 1, 9), title="X")
    # OV alone is logged while the rule requires Sở Tài chính's opinion: the others are resolved without
    # consultations, which a required opinion would hold.
    city.permit_rule.required_consultees.set([stc])
    cases["OV"] = accepted(local_datetime(2026, 10, 1, 9), title="OV")
    city.permit_rule.required_consultees.clear()
    old_return = logged(local_datetime(2026, 10, 1, 9), title="Biển hiệu cũ", case_type=signage)
    cases["S"] = accepted(local_datetime(2026, 10, 1, 9), title="S")
    clock.set(local_datetime(2026, 10, 2, 9))
    case_request_supplement(case=cases["S"], actor=specialist, items="Bản vẽ mặt bằng")
    cases["C"] = accepted(local_datetime(2026, 10, 15, 9), title="C")
    cases["D"] = accepted(local_datetime(2026, 10, 16, 9), title="D")
    clock.set(local_datetime(2026, 10, 5, 9))
    assert refused(case_transfer, case=cases["OV"], actor=head, to=stc, reason="Tháng 10") == "within_own_authority"
    give_signage_to(stc)
    clock.set(local_datetime(2026, 10, 30, 9))
    case_return(case=old_return, actor=specialist, reason="Thuộc Sở Tài chính")
    give_signage_to(sxd)
    resolve(cases["X"], local_datetime(2026, 10, 31, 23))

    # November.
    resolve(cases["F"], local_datetime(2026, 11, 1, 0, 30))
    cases["A"] = accepted(local_datetime(2026, 11, 2, 9), title="A")
    cases["G"] = accepted(local_datetime(2026, 11, 2, 9), title="G")
    cases["B"] = accepted(local_datetime(2026, 11, 2, 9), title="B")
    on_time_return = logged(local_datetime(2026, 11, 2, 9), title="Biển hiệu 1", case_type=signage)
    late_return = logged(local_datetime(2026, 11, 2, 9), title="Biển hiệu 2", case_type=signage)
    cases["T"] = logged(local_datetime(2026, 11, 2, 9), title="T", case_type=signage)
    give_signage_to(stc)
    forestry_resolved = case_accept(case=logged(local_datetime(2026, 11, 2, 9), title="Rừng 1", case_type=forestry),
                                    actor=city.user("consulted_specialist"))
    Case.unscoped.filter(pk=forestry_resolved.pk).update(due_date=None)  # imported from the old system
    clock.set(local_datetime(2026, 11, 2, 10))
    asked = case_consult(case=cases["OV"], actor=specialist, departments=[snnmt, stc], question="Ý kiến",
                         justification="Công trình gần rừng phòng hộ")
    clock.set(local_datetime(2026, 11, 3, 10))
    case_return(case=on_time_return, actor=specialist, reason="Thuộc Sở Tài chính")
    resolve(cases["A"], local_datetime(2026, 11, 5, 10))
    resolve(cases["C"], local_datetime(2026, 11, 5, 23, 30))
    clock.set(local_datetime(2026, 11, 5, 15))
    case_return(case=late_return, actor=specialist, reason="Thuộc Sở Tài chính")
    resolve(cases["G"], local_datetime(2026, 11, 6, 10))
    resolve(cases["D"], local_datetime(2026, 11, 7, 6))
    clock.set(local_datetime(2026, 11, 9, 9))
    assert refused(case_transfer, case=cases["OV"], actor=head, to=stc, reason="Chuyển") == "within_own_authority"
    forestry_open = logged(local_datetime(2026, 11, 9, 9), title="Rừng 2", case_type=forestry)
    resolve(cases["B"], local_datetime(2026, 11, 10, 10))
    deem_silent_consultations_agreed()
    clock.set(local_datetime(2026, 11, 11, 9))
    consultation_respond(consultation=asked[0], actor=city.user("consulted_specialist"), position="agree")
    resolve(forestry_resolved, local_datetime(2026, 11, 11, 14), actor=city.user("consulted_head"))
    clock.set(local_datetime(2026, 11, 12, 9))
    forestry_open = case_accept(case=forestry_open, actor=city.user("consulted_specialist"))
    case_consult(case=forestry_open, actor=city.user("consulted_specialist"), departments=[stc],
                 question="Giá thuê", justification="Liên quan nguồn thu ngân sách")
    assert refused(case_transfer, case=cases["T"], actor=head, to=snnmt, reason="Nhầm") == "target_not_competent"
    clock.set(local_datetime(2026, 11, 13, 9))
    assert refused(case_accept, case=forestry_open, actor=specialist) == "not_owner"
    cases["R"] = logged(local_datetime(2026, 11, 18, 9), title="R")
    assert refused(case_return, case=cases["R"], actor=specialist, reason="Không") == "within_own_authority"
    clock.set(local_datetime(2026, 11, 20, 10))
    return cases
