"""`manage.py check_invariants` (cityops.invariants): a city brought through every move by the services holds
every invariant; each kind of damage, done here past the services, is found, named, and exits with status 1.

The damage is what a crash, a lost lock or a hand-edited row would leave: an event written twice or beside
another, a status its trail does not lead to, an assignee the trail never named, a notice or a deadline mark
twice (past a dropped index), a trail rewritten past its trigger, an acknowledged case that is gone, a notice
mailed twice.
"""

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.audit_chain import chain
from cases.deadlines import flag_overdue
from cases.models import Case, CaseEvent, DeadlineMark, EventAction, NoticeKind, Notification, Outcome, Status
from cases.notifications import send_pending_mail
from cases.services import (
    case_assign,
    case_decide,
    case_set_key_task,
    case_transfer,
)
from cityops import invariants
from core.audit import resume_statements, suspend_statements
from core.refusals import Refused
from tests.support.world import local_datetime

POSTGRES = connection.vendor == "postgresql"
CHECKS = ["duplicate_events", "duplicate_notices", "duplicate_deadline_marks", "duplicate_mails", "one_assignee",
          "state_machine", "audit_chain", "acknowledged_cases"]


def check(*args: str) -> tuple[int, str]:
    """The command's exit status and what it printed (the error's sentence last)."""
    out = io.StringIO()
    try:
        call_command("check_invariants", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def failed(*args: str) -> dict[str, dict]:
    """The failing checks by name, from the JSON the command prints."""
    status, output = check("--json", *args)
    report = json.loads(output[:output.rindex("}") + 1])
    assert status == (1 if report["failed"] else 0)
    return {result["name"]: result for result in report["checks"] if not result["ok"]}


def execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def pending_checks_now() -> None:
    """PostgreSQL checks a test's foreign keys at its transaction's end; a schema change waits for none."""
    if POSTGRES:
        execute("SET CONSTRAINTS ALL IMMEDIATE")


def trail(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case).order_by("id"))


def append_event(case, **fields) -> CaseEvent:
    """An event written past the services (as a script or a hand-made fix would), linked to its case's chain, so
    that only the invariant it breaks shows."""
    event = CaseEvent(**{"case_id": case.pk, "at": timezone.now(), "from_status": case.status,
                         "to_status": case.status, **fields})
    chain([event], CaseEvent.objects.last_digest(case.pk))
    [event] = CaseEvent.objects.bulk_create([event])
    return event


@pytest.fixture
def mail_dir(settings, tmp_path) -> Path:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


@dataclasses.dataclass
class Demo:
    """A small city's cases in every status, reached through the services, swept and mailed."""

    triage: Case
    routed: Case
    in_progress: Case
    awaiting_supplement: Case
    submitted: Case
    resolved: Case
    reworked: Case
    transferred: Case
    consulted: Case
    late: Case

    def cases(self) -> list[Case]:
        return [getattr(self, name.name) for name in dataclasses.fields(self)]

    def references(self) -> list[str]:
        return [case.reference for case in self.cases()]


@pytest.fixture
def demo(city, stages, consulting, mail_dir) -> Demo:
    user = city.user
    # A routed case refused a move (the refusal is on its trail), and one in progress reassigned (notified).
    routed = stages.routed()
    in_progress = case_assign(case=stages.in_progress(), actor=user("head"), assignee=user("deputy"))
    with pytest.raises(Refused):
        case_decide(case=in_progress, actor=user("city_office"), outcome=Outcome.APPROVED)
    reworked = case_decide(case=stages.submitted(), actor=user("city_office"), outcome=Outcome.REWORK)
    consulted = consulting.case()
    answered, = consulting.ask(consulted)
    consulting.answer(answered)
    # A second round, left unanswered: the sweep deems it agreed when its deadline has passed.
    consulting.ask(consulted)
    case_set_key_task(case=consulted, actor=user("head"), key_task=True)
    late = stages.in_progress(received_at=local_datetime(2025, 3, 3))
    others = {"triage": stages.triage(), "awaiting_supplement": stages.awaiting_supplement(),
              "submitted": stages.submitted(), "resolved": stages.resolved()}
    # Last: the rules, edited, now give permits to the outsider, and the owner passes this one on.
    transferred = case_transfer(case=stages.misrouted(), actor=user("head"), to=city.outsider,
                                reason="Thuộc thẩm quyền Sở Tài chính theo quy định mới")
    demo = Demo(routed=routed, in_progress=in_progress, reworked=reworked, transferred=transferred,
                consulted=consulted, late=late, **others)
    result = flag_overdue(now=timezone.now() + dt.timedelta(days=30))
    assert result.deemed_agreed == 1 and result.notices
    assert send_pending_mail()[0] > 0
    return demo


@pytest.fixture
def acknowledged(demo, tmp_path) -> Path:
    path = tmp_path / "acknowledged.txt"
    path.write_text("# references answered 201\n" + "\n".join(demo.references()) + "\n\n", encoding="utf-8")
    return path


# --- a clean city ------------------------------------------------------------------------------------------------


def test_a_city_brought_through_the_services_holds_every_invariant(demo, acknowledged, mail_dir):
    assert {case.status for case in demo.cases()} == set(Status.values)

    status, output = check("--acknowledged", str(acknowledged), "--mail-dir", str(mail_dir))

    assert status == 0, output
    assert [line.split()[1].rstrip(":") for line in output.splitlines()[:len(CHECKS)]] == CHECKS
    assert all(line.startswith("ok ") for line in output.splitlines()[:len(CHECKS)]), output
    assert output.splitlines()[-1] == "All 8 invariants hold."


def test_without_the_optional_inputs_their_checks_are_skipped(demo):
    status, output = check()

    assert status == 0, output
    assert "skip  duplicate_mails: no mail folder given (--mail-dir)" in output
    assert "skip  acknowledged_cases: no file of references given (--acknowledged)" in output


def test_the_demo_city_holds_every_invariant(db):
    call_command("load_demo", "--quiet", stdout=io.StringIO())

    status, output = check()

    assert status == 0, output
    assert Case.unscoped.exists()


def test_the_json_names_each_check_with_its_counts(demo, acknowledged):
    status, output = check("--json", "--acknowledged", str(acknowledged))
    report = json.loads(output)

    assert (status, report["ok"], report["failed"]) == (0, True, [])
    assert [result["name"] for result in report["checks"]] == CHECKS
    trails = {result["name"]: result for result in report["checks"]}
    assert trails["state_machine"]["checked"] == len(demo.cases())
    assert trails["duplicate_events"]["checked"] == CaseEvent.objects.count()
    assert trails["acknowledged_cases"]["checked"] == len(demo.cases())
    assert trails["audit_chain"]["checked"] == len(demo.cases())
    assert trails["duplicate_mails"]["skipped"]


def test_every_event_action_has_its_moves():
    table = invariants.transitions()

    assert set(table) == set(EventAction.values)
    assert table[EventAction.ACCEPTED] == {Status.ROUTED: {Status.IN_PROGRESS}}
    assert table[EventAction.ASSIGNED][Status.ROUTED] == {Status.IN_PROGRESS}
    assert table[EventAction.DECIDED] == {Status.SUBMITTED: {Status.IN_PROGRESS, Status.RESOLVED}}
    assert Status.RESOLVED not in table[EventAction.KEY_TASK_SET]


def test_the_trails_are_read_in_the_same_queries_however_many_cases(stages):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            invariants.check_trails(chunk_size=2)
        return len(captured)

    stages.routed()
    few = queries()
    for _ in range(4):
        stages.resolved()

    assert queries() == few == 2


# --- each kind of damage is found --------------------------------------------------------------------------------


def test_an_event_written_twice_is_a_duplicate(demo):
    # The refusal recorded on the case (a status change repeated would also be a wrong move).
    last = trail(demo.in_progress)[-1]
    assert last.action == EventAction.REFUSED
    # The same row again, digests and all: a write repeated after its first one was thought lost.
    copy = CaseEvent(**{field.attname: getattr(last, field.attname) for field in CaseEvent._meta.concrete_fields
                        if not field.primary_key})
    [copy] = CaseEvent.objects.bulk_create([copy])

    broken = failed()

    assert set(broken) == {"duplicate_events", "audit_chain"}
    [example] = broken["duplicate_events"]["examples"]
    assert example["id"] == copy.pk
    assert f"case {demo.in_progress.reference}: event {copy.pk} (refused at " in example["detail"]
    assert f"repeats event {last.pk}" in example["detail"]


def test_two_events_in_one_place_of_a_trail_are_duplicates(demo):
    *_, before, last = trail(demo.routed)
    # A second writer that read the same last event, as if it had not waited for the case's row lock.
    fork = CaseEvent(case_id=demo.routed.pk, at=timezone.now(), action=EventAction.KEY_TASK_SET,
                     from_status=Status.ROUTED, to_status=Status.ROUTED)
    chain([fork], before.digest)
    CaseEvent.objects.bulk_create([fork])

    broken = failed()

    assert broken["duplicate_events"]["count"] == 1
    assert f"follows the same event as event {last.pk}" in broken["duplicate_events"]["examples"][0]["detail"]


def test_a_status_the_events_do_not_lead_to_is_found(demo):
    Case.unscoped.filter(pk=demo.in_progress.pk).update(status=Status.RESOLVED)

    status, output = check()

    assert status == 1
    assert "FAIL  state_machine: 1 of 10 cases break it" in output
    assert (f"case {demo.in_progress.reference}: its events end at “in_progress” but the case is “resolved”"
            in output)
    assert "invariants broken: state_machine" in output


def test_a_move_the_services_never_make_is_found(demo):
    # Proposing a resolution is for a case in progress, not one still waiting to be accepted.
    event = append_event(demo.routed, action=EventAction.PROPOSED, note="Đề xuất cấp phép")

    broken = failed()

    assert set(broken) == {"state_machine"}
    assert broken["state_machine"]["examples"] == [{
        "id": demo.routed.reference,
        "detail": f"case {demo.routed.reference}: event {event.pk} (proposed) goes from “routed” to “routed”, "
                  "which no move does"}]


def test_an_event_from_a_status_the_trail_was_not_in_is_found(demo):
    event = append_event(demo.resolved, action=EventAction.REFUSED, from_status=Status.IN_PROGRESS,
                         payload={"code": "invalid_transition"})

    broken = failed()

    assert set(broken) == {"state_machine"}
    assert (f"event {event.pk} (refused) starts from “in_progress” but the trail was at “resolved”"
            in broken["state_machine"]["examples"][0]["detail"])


def test_a_case_with_no_trail_is_found(demo, city):
    orphan = Case.unscoped.create(reference="SXD-250303-9999", pin="1234", title="Không qua tiếp nhận",
                                  case_type=city.permit, received_at=timezone.now())

    broken = failed()

    assert set(broken) == {"state_machine"}
    assert broken["state_machine"]["examples"][0]["id"] == orphan.reference


def test_a_second_assignee_the_trail_never_named_is_found(demo, city):
    # The trail says the head gave the case to the deputy; the row now names the specialist too.
    Case.unscoped.filter(pk=demo.in_progress.pk).update(assignee=city.user("specialist"))

    broken = failed()

    assert set(broken) == {"one_assignee"}
    assert broken["one_assignee"]["examples"] == [{
        "id": demo.in_progress.reference,
        "detail": f"case {demo.in_progress.reference}: assigned to specialist but its trail names deputy"}]


def test_an_accepted_case_without_an_assignee_and_a_routed_one_with_one_are_found(demo, city):
    Case.unscoped.filter(pk=demo.submitted.pk).update(assignee=None)
    Case.unscoped.filter(pk=demo.routed.pk).update(assignee=city.user("specialist"))

    details = [example["detail"] for example in failed()["one_assignee"]["examples"]]

    assert sorted(details) == sorted([
        f"case {demo.submitted.reference}: “submitted” with no assignee",
        f"case {demo.routed.reference}: “routed”, not yet accepted, yet assigned to specialist"])


def test_a_lost_acknowledged_case_is_found(demo, acknowledged):
    with acknowledged.open("a", encoding="utf-8") as lines:
        lines.write("SXD-260101-0042\n")

    status, output = check("--acknowledged", str(acknowledged))

    assert status == 1
    assert "FAIL  acknowledged_cases: 1 of 11 references break it" in output
    assert "case SXD-260101-0042 was acknowledged (201) but does not exist" in output


def test_a_notice_written_twice_past_its_index_is_a_duplicate(demo):
    notice = Notification.objects.filter(kind=NoticeKind.OVERDUE, consultation__isnull=True).first()
    pending_checks_now()
    execute('DROP INDEX "one_case_deadline_notice"')
    copy = Notification.objects.create(recipient=notice.recipient, kind=notice.kind, case=notice.case,
                                       on_date=notice.on_date)

    broken = failed()

    assert set(broken) == {"duplicate_notices"}
    [example] = broken["duplicate_notices"]["examples"]
    assert example["id"] == copy.pk
    assert example["detail"].startswith(f"cases.notification one_case_deadline_notice: 2 notices for "
                                        f"recipient={notice.recipient_id}, kind=overdue, case={notice.case_id}, ")


@pytest.mark.skipif(not POSTGRES, reason="SQLite keeps a one-to-one's uniqueness in the table itself")
def test_a_deadline_mark_written_twice_past_its_constraint_is_a_duplicate(demo):
    mark = DeadlineMark.objects.get(case=demo.late)
    pending_checks_now()
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, DeadlineMark._meta.db_table)
    [name] = [name for name, spec in constraints.items() if spec["unique"] and spec["columns"] == ["case_id"]]
    execute(f'ALTER TABLE "{DeadlineMark._meta.db_table}" DROP CONSTRAINT "{name}"')
    DeadlineMark.objects.create(case=demo.late, flag=mark.flag, due_date=mark.due_date, flagged_at=mark.flagged_at)

    broken = failed()

    assert set(broken) == {"duplicate_deadline_marks"}
    assert broken["duplicate_deadline_marks"]["examples"][0]["detail"].startswith(
        f"cases {demo.late.pk}: 2 deadline marks")


def test_an_event_rewritten_past_its_trigger_breaks_the_audit_chain(demo):
    accepted = trail(demo.resolved)[2]
    pending_checks_now()
    # What only the tables' owner or a superuser can do: switch the refusal off, rewrite, switch it on again.
    for statement in suspend_statements(CaseEvent._meta.db_table, connection.vendor):
        execute(statement)
    execute("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["Chấp nhận theo chỉ đạo", accepted.pk])
    for statement in resume_statements(CaseEvent._meta.db_table, connection.vendor):
        execute(statement)

    broken = failed()

    assert set(broken) == {"audit_chain"}
    [example] = broken["audit_chain"]["examples"]
    assert example["id"] == accepted.pk
    assert f"case {demo.resolved.reference}: event {accepted.pk}" in example["detail"]
    assert "does not match its digest" in example["detail"]


def test_a_notice_mailed_twice_is_found(demo, mail_dir):
    [mailbox] = mail_dir.glob("*.log")
    first = mailbox.read_bytes().split(invariants.MAIL_SEPARATOR)[0]
    # The worker was killed after the mail went and before "sent" was committed: the next run mailed it again.
    (mail_dir / "again.log").write_bytes(first + invariants.MAIL_SEPARATOR)

    broken = failed("--mail-dir", str(mail_dir))

    assert set(broken) == {"duplicate_mails"}
    [example] = broken["duplicate_mails"]["examples"]
    assert broken["duplicate_mails"]["count"] == 1
    assert "[CityOps]" in example["detail"]
    assert example["detail"].endswith("2 times; 1 sent notices make it")


def test_a_mail_cut_short_by_a_kill_is_not_counted(demo, mail_dir):
    [mailbox] = mail_dir.glob("*.log")
    mails = len(list(invariants.mails_in(mail_dir)))
    (mail_dir / "cut.log").write_bytes(b"Content-Type: text/plain; charset=\"utf-8\"\nMIME-Ver")

    assert len(list(invariants.mails_in(mail_dir))) == mails
    assert not failed("--mail-dir", str(mail_dir))


def test_a_missing_input_file_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("check_invariants", "--acknowledged", str(tmp_path / "missing.txt"))
