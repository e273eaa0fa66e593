"""The staff report's figures per person against a hand count, the evidence behind each, the review and
commendation lists against the thresholds, and a query count that does not grow (DESIGN.md §2 rule 10).

Everything is made through the case services with a settable clock, so the rows are the ones the application
writes: resolutions, returns, refusals and answers, each at a chosen local moment of November 2026.
"""

import datetime as dt

from cases.models import Case, CaseEvent, Status
from departments.models import Role
from oversight.models import ReviewThresholds
from oversight.staff_figures import EVIDENCE, Figure, Period, ReviewReason, evidence, staff_figures
from tests.support.oversight import LOW_LINES, on, set_due
from tests.support.world import local_datetime, make_user

# November 2026, both ends included; the figures are read on Monday 7 December.
PERIOD = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
TODAY = dt.date(2026, 12, 7)


# username -> (handled, rated, on time, overdue now, late returns, refusals, consultations answered late)
EXPECTED = {
    "specialist": (4, 3, 1, 2, 1, 1, 0),
    "deputy": (1, 1, 1, 0, 0, 0, 0),
    "head": (0, 0, 0, 0, 0, 2, 0),
    "clerk": (0, 0, 0, 0, 0, 0, 0),
    "consulted_head": (0, 0, 0, 0, 0, 0, 1),
    "consulted_specialist": (0, 0, 0, 0, 0, 0, 1),
    "outsider_head": (0, 0, 0, 0, 0, 0, 0),
    "outsider_specialist": (0, 0, 0, 0, 0, 0, 0),
    "committee_head": (0, 0, 0, 0, 0, 0, 0),
}


def counts(person) -> tuple:
    return (person.handled, person.rated, person.on_time, person.overdue, person.late_returns, person.refusals,
            person.late_consultations)


def by_username(people) -> dict:
    return {person.user.username: person for person in people}


def test_each_persons_figures_match_the_hand_count(staff_city):
    people = by_username(staff_figures(period=PERIOD, today=TODAY))
    assert {username: counts(person) for username, person in people.items()} == EXPECTED
    specialist = people["specialist"]
    assert (specialist.handled_late, specialist.on_time_percent) == (2, 33)
    assert people["deputy"].on_time_percent == 100
    assert people["head"].on_time_rate is None  # nothing rated: no rate, rather than 0%


def test_only_the_units_own_staff_are_measured(staff_city):
    roles = {person.staff.role for person in staff_figures(period=PERIOD, today=TODAY)}
    assert roles == {Role.CLERK, Role.SPECIALIST, Role.DEPUTY, Role.HEAD}  # no inspector, Home Affairs, city office


def test_people_come_by_unit_then_name(staff_city):
    order = [person.user.username for person in staff_figures(period=PERIOD, today=TODAY)]
    # Units by name (Nông nghiệp, Tài chính, Xây dựng, then UBND thành phố); in each, by last name (Minh Tuấn,
    # Thị Hoa, Thị Lan, Văn Hùng).
    assert order[-5:] == ["specialist", "deputy", "clerk", "head", "committee_head"]
    assert set(order[:2]) == {"consulted_head", "consulted_specialist"}


def refs(rows) -> set:
    return {row.reference for row in rows}


def test_the_evidence_is_the_rows_behind_each_number(staff_city, city):
    cases = staff_city
    specialist = city.user("specialist")

    def rows(figure, person=specialist):
        return evidence(figure, person=person, period=PERIOD, today=TODAY)

    assert refs(rows(Figure.HANDLED)) == refs([cases[name] for name in "ABEF"])
    assert refs(rows(Figure.HANDLED_LATE)) == refs([cases["B"], cases["E"]])
    assert refs(rows(Figure.OVERDUE)) == refs([cases["H"], cases["I"]])
    assert [row.case_id for row in rows(Figure.LATE_RETURNS)] == [cases["L"].pk]
    assert [row.working_days_held for row in rows(Figure.LATE_RETURNS)] == [3]
    [refusal] = rows(Figure.REFUSALS)
    assert (refusal.case_id, refusal.payload["attempted"]) == (cases["own_return"].pk, "return")
    assert refs(rows(Figure.HANDLED, city.user("deputy"))) == {cases["G"].reference}
    assert {row.case_id for row in rows(Figure.REFUSALS, city.user("head"))} == {cases["own_transfer"].pk,
                                                                                 cases["own_submit"].pk}
    assert [row.pk for row in rows(Figure.LATE_CONSULTATIONS, city.user("consulted_specialist"))] == [
        cases["asked_late"].pk]


def test_every_figure_equals_the_count_of_its_evidence(staff_city):
    """The report and its evidence pages read the same querysets: they cannot disagree, for anyone."""
    for person in staff_figures(period=PERIOD, today=TODAY):
        shown = {Figure.HANDLED: person.handled, Figure.HANDLED_LATE: person.handled_late,
                 Figure.OVERDUE: person.overdue, Figure.LATE_RETURNS: person.late_returns,
                 Figure.REFUSALS: person.refusals, Figure.LATE_CONSULTATIONS: person.late_consultations}
        assert set(shown) == set(EVIDENCE)
        for figure, value in shown.items():
            assert evidence(figure, person=person.user, period=PERIOD, today=TODAY).count() == value, (
                person.user.username, figure)


# --- the edges, one at a time ----------------------------------------------------------------------------


def test_a_resolution_at_23_30_on_the_due_day_is_on_time(staff_city, city):
    case = Case.unscoped.get(pk=staff_city["A"].pk)
    assert case.resolved_at == local_datetime(2026, 11, 10, 23, 30)
    late = evidence(Figure.HANDLED_LATE, person=city.user("specialist"), period=PERIOD, today=TODAY)
    assert case.reference not in refs(late)


def test_the_period_is_read_in_local_days(staff_city, city):
    specialist = city.user("specialist")

    def handled(since, until):
        return refs(evidence(Figure.HANDLED, person=specialist, period=Period(since, until), today=TODAY))

    cases = staff_city
    # 00:10 local on 1 November is still 31 October in UTC: inside; 23:50 on 31 October: outside.
    assert handled(on(11, 1), on(11, 1)) == {cases["B"].reference}
    assert handled(on(10, 31), on(10, 31)) == {cases["D"].reference}
    # 00:10 local on 1 December (30 November in UTC) is outside a period that ends on 30 November.
    assert handled(on(11, 30), on(11, 30)) == set()
    assert handled(on(12, 1), on(12, 1)) == {cases["C"].reference}


def test_a_reassigned_case_counts_for_whoever_held_it_at_resolution(staff_city, city):
    g = Case.unscoped.get(pk=staff_city["G"].pk)
    assert g.events.filter(action="accepted", actor=city.user("specialist")).exists()
    assert g.assignee == city.user("deputy")
    assert g.reference not in refs(evidence(Figure.HANDLED, person=city.user("specialist"), period=PERIOD,
                                            today=TODAY))


def test_a_not_owner_refusal_is_not_counted_but_is_recorded(staff_city, city):
    outsider = city.user("outsider_specialist")
    assert CaseEvent.objects.filter(actor=outsider, action="refused", payload__code="not_owner").count() == 1
    assert evidence(Figure.REFUSALS, person=outsider, period=PERIOD, today=TODAY).count() == 0


def test_overdue_now_reads_today_not_the_period(staff_city, city):
    specialist = city.user("specialist")
    cases = staff_city
    # On 2 December only H (due 1 December) is late; on 8 December J (due the 7th) is too; K never (clock stopped).
    assert refs(evidence(Figure.OVERDUE, person=specialist, period=PERIOD, today=on(12, 2))) == {
        cases["H"].reference}
    assert refs(evidence(Figure.OVERDUE, person=specialist, period=PERIOD, today=on(12, 8))) == refs(
        [cases["H"], cases["I"], cases["J"]])
    assert Case.unscoped.get(pk=cases["K"].pk).status == Status.AWAITING_SUPPLEMENT


def test_the_unit_filter_keeps_its_people_and_their_figures(staff_city, city):
    people = staff_figures(period=PERIOD, today=TODAY, departments=[city.consulted])
    assert {person.user.username: counts(person) for person in people} == {
        name: EXPECTED[name] for name in ("consulted_head", "consulted_specialist")}
    owner = by_username(staff_figures(period=PERIOD, today=TODAY, departments=[city.owner]))
    assert set(owner) == {"specialist", "deputy", "head", "clerk"}
    assert {name: counts(person) for name, person in owner.items()} == {name: EXPECTED[name] for name in owner}
    assert staff_figures(period=PERIOD, today=TODAY, departments=[city.inspectorate]) == []


# --- the two lists ---------------------------------------------------------------------------------------


def listed(people):
    review = {person.user.username: person.review_reasons for person in people if person.review_reasons}
    commend = {person.user.username for person in people if person.commendable}
    return review, commend


def test_the_default_lines_list_the_head_for_review_and_no_one_for_commendation(staff_city):
    thresholds = ReviewThresholds.current()
    assert (thresholds.min_cases_for_rate, thresholds.review_refusals_at_least) == (5, 2)
    review, commend = listed(staff_figures(period=PERIOD, today=TODAY))
    # The specialist's 33% rests on 3 rated cases, fewer than the 5 the rate needs; his other figures are under
    # their lines. The head's two refused attempts reach the line of 2.
    assert review == {"head": [ReviewReason.REFUSALS]}
    assert commend == set()


def lines(**changes) -> ReviewThresholds:
    return ReviewThresholds(**(LOW_LINES | changes))


def test_lower_lines_list_each_reason_and_a_commendation(staff_city):
    review, commend = listed(staff_figures(period=PERIOD, today=TODAY, thresholds=lines()))
    assert review == {
        "specialist": [ReviewReason.ON_TIME, ReviewReason.OVERDUE, ReviewReason.LATE_RETURNS, ReviewReason.REFUSALS],
        "head": [ReviewReason.REFUSALS],
        "consulted_head": [ReviewReason.LATE_CONSULTATIONS],
        "consulted_specialist": [ReviewReason.LATE_CONSULTATIONS],
    }
    # The deputy: one case, on time, nothing against her.
    assert commend == {"deputy"}


def test_a_line_of_zero_switches_its_test_off(staff_city):
    review, _commend = listed(staff_figures(period=PERIOD, today=TODAY, thresholds=lines(
        review_refusals_at_least=0, review_overdue_at_least=0, review_on_time_below=0)))
    assert review == {"specialist": [ReviewReason.LATE_RETURNS],
                      "consulted_head": [ReviewReason.LATE_CONSULTATIONS],
                      "consulted_specialist": [ReviewReason.LATE_CONSULTATIONS]}
    assert "head" not in review  # two refusals, but that test is off


def test_the_rate_needs_enough_rated_cases_for_either_list(staff_city):
    review, commend = listed(staff_figures(period=PERIOD, today=TODAY, thresholds=lines(min_cases_for_rate=4)))
    # The specialist has 3 rated cases, the deputy 1: neither rate counts.
    assert ReviewReason.ON_TIME not in review["specialist"]
    assert commend == set()
    review, _commend = listed(staff_figures(period=PERIOD, today=TODAY, thresholds=lines(min_cases_for_rate=3)))
    assert ReviewReason.ON_TIME in review["specialist"]


def test_commendation_needs_enough_cases_and_a_clean_record(staff_city):
    _review, commend = listed(staff_figures(period=PERIOD, today=TODAY, thresholds=lines(commend_cases_at_least=2)))
    assert commend == set()
    # With every review test off, the specialist is on no list; his 33% still keeps him from commendation.
    off = lines(review_on_time_below=0, review_overdue_at_least=0, review_late_returns_at_least=0,
                review_refusals_at_least=0, review_late_consultations_at_least=0, commend_on_time_at_least=0)
    review, commend = listed(staff_figures(period=PERIOD, today=TODAY, thresholds=off))
    assert review == {}
    # Nothing against the deputy; the specialist is kept off by his overdue work, late return and refusal.
    assert commend == {"deputy"}


# --- cost ------------------------------------------------------------------------------------------------


def test_the_figures_cost_the_same_queries_however_many_people_and_cases(staff_city, city, stages, log_case,
                                                                           django_assert_num_queries):
    ReviewThresholds.current()
    # The staff list, one grouped count per figure (handled and on time share one), the thresholds.
    with django_assert_num_queries(7):
        staff_figures(period=PERIOD, today=TODAY)
    with django_assert_num_queries(7):
        staff_figures(period=PERIOD, today=TODAY, departments=[city.owner])
    for number in range(6):
        unit = [city.owner, city.consulted, city.ward][number % 3]
        make_user(f"extra{number}", department=unit, role=Role.SPECIALIST)
        case = stages.in_progress(title=f"Thêm {number}")
        set_due(case, on(11, 2))
    with django_assert_num_queries(7):
        people = staff_figures(period=PERIOD, today=TODAY)
    assert len(people) == len(EXPECTED) + 6
    assert by_username(people)["specialist"].overdue == EXPECTED["specialist"][3] + 6
