"""The audit trails are append-only in the database too, and the case trail's hash chain shows what got past it.

Raw SQL cannot change or remove a case event, an oversight event or a version of an authority rule (nor the
consultees it named), whoever runs it; each database refuses in its own way (SQLite has no TRUNCATE), and
each runs its own cases here. Each case event carries the digest of its content and of the event before it:
`verify_audit` recomputes the chains and names the first broken event of a case whose trail a superuser
rewrote with the trigger switched off; the nightly job mails the admins of it.
"""

import datetime as dt
import hashlib
import io
import json
import re
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from cases.audit_chain import event_digest, verify_chains
from cases.models import CaseEvent, EventAction, Position, Status
from cases.services import case_accept, case_set_key_task, consultation_respond, deem_silent_consultations_agreed
from cases.tasks import verify_audit_nightly
from core.audit import protected_tables, resume_statements, suspend_statements
from tests.support.cases import assert_refused
from tests.support.concurrency import run_together
from tests.support.world import local_datetime, make_user

POSTGRES = connection.vendor == "postgresql"
AUDIT_TABLES = ["cases_caseevent", "departments_historicalauthorityrule",
                "departments_historicalauthorityrule_required_consultees", "oversight_oversightevent"]
# What each database is asked to do to a trail: SQLite has no TRUNCATE (its form of it is a DELETE without WHERE).
STATEMENTS = {"update": 'UPDATE "{table}" SET id = id', "delete": 'DELETE FROM "{table}"',
              **({"truncate": 'TRUNCATE "{table}" CASCADE'} if POSTGRES else {})}
EVENT_TABLE = "cases_caseevent"


def rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - one of this module's table names
        return cursor.fetchone()[0]


def execute(sql: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def check_foreign_keys_now() -> None:
    """A test writes its rows and then goes at the trail in one transaction, whose foreign keys PostgreSQL checks
    at its end; it truncates or alters no table with checks pending. Outside a test, the rows were committed."""
    if POSTGRES:
        execute("SET CONSTRAINTS ALL IMMEDIATE")


def as_superuser(sql: str, params: list) -> None:
    """What a superuser (or the tables' owner) can still do: switch the refusal off (on PostgreSQL `ALTER TABLE
    … DISABLE TRIGGER`, on SQLite `DROP TRIGGER`), change the trail, and switch it on again."""
    vendor = connection.vendor
    check_foreign_keys_now()
    for statement in suspend_statements(EVENT_TABLE, vendor):
        execute(statement)
    execute(sql, params)
    for statement in resume_statements(EVENT_TABLE, vendor):
        execute(statement)


def verify_audit() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        try:
            call_command("verify_audit", stdout=out, stderr=err)
        except CommandError as error:
            return error.returncode, out.getvalue(), err.getvalue() + str(error)
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def audit_rows(city, log_case, appraisal_type, inspection):
    """A row in every trail: a case's events, the rules' versions and their consultees, an inspection's event."""
    log_case()
    check_foreign_keys_now()
    counts = {table: rows(table) for table in AUDIT_TABLES}
    assert all(counts.values()), counts
    return counts


@pytest.fixture
def moved(stages):
    """A case brought through four moves: logged, routed, accepted, resolved."""
    return stages.resolved()


def trail(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case).order_by("id"))


# --- the database refuses ---------------------------------------------------------------------------------------


def test_the_migrations_protect_every_audit_table(db):
    assert protected_tables(connection) == AUDIT_TABLES


@pytest.mark.parametrize("statement", STATEMENTS)
@pytest.mark.parametrize("table", AUDIT_TABLES)
def test_raw_sql_cannot_change_or_remove_an_audit_row(audit_rows, table, statement):
    refusal = f"{table} is append-only: the audit trail is never changed or removed"
    with pytest.raises(IntegrityError, match=re.escape(refusal)), transaction.atomic():
        execute(STATEMENTS[statement].format(table=table))

    assert rows(table) == audit_rows[table]


def test_rewriting_an_event_s_actor_and_note_is_refused(city, moved):
    event = trail(moved)[-1]
    with pytest.raises(IntegrityError, match="cases_caseevent is append-only"), transaction.atomic():
        execute("UPDATE cases_caseevent SET actor_id = %s, note = %s WHERE id = %s",
                [city.user("clerk").pk, "Không có gì", event.pk])

    stored = CaseEvent.objects.get(pk=event.pk)
    assert (stored.actor, stored.note) == (city.user("head"), "Đã cấp giấy phép")


def test_a_statement_that_touches_no_row_still_runs(audit_rows):
    # Row triggers: deleting a user who never changed a rule sets no version's author to NULL, and is not refused.
    with transaction.atomic():
        execute("UPDATE departments_historicalauthorityrule SET history_user_id = NULL WHERE history_user_id = -1")

    assert rows("departments_historicalauthorityrule") == audit_rows["departments_historicalauthorityrule"]


def test_the_trails_are_still_appended_to(city, audit_rows, inspection, stages):
    execute("INSERT INTO oversight_oversightevent (at, action, inspection_id, note, payload) "
            "VALUES (%s, %s, %s, %s, %s)",
            [local_datetime(2026, 11, 3, 9), "inspection_recorded", inspection.pk, "Bổ sung biên bản", "{}"])
    case = stages.routed()
    case_accept(case=case, actor=city.user("specialist"))

    assert rows("oversight_oversightevent") == audit_rows["oversight_oversightevent"] + 1
    assert [event.action for event in trail(case)] == [EventAction.CREATED, EventAction.ROUTED, EventAction.ACCEPTED]


# --- the hash chain ------------------------------------------------------------------------------------------


def test_each_event_follows_the_one_before_it(moved):
    events = trail(moved)

    assert [event.action for event in events] == [EventAction.CREATED, EventAction.ROUTED, EventAction.ACCEPTED,
                                                  EventAction.RESOLVED]
    assert events[0].previous_digest == ""
    assert [event.previous_digest for event in events[1:]] == [event.digest for event in events[:-1]]
    assert all(re.fullmatch("[0-9a-f]{64}", event.digest) for event in events)
    assert [event.digest for event in events] == [event_digest(event) for event in events]


def test_the_digest_is_the_sha256_of_the_event_s_canonical_json(city, moved):
    # Written out in full: an auditor with the rows and this definition can check the trail without CityOps.
    accepted = trail(moved)[2]
    canonical = json.dumps({
        "action": "accepted", "actor": city.user("specialist").pk, "at": accepted.at.astimezone(dt.UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%f+00:00"), "case": moved.pk, "from_department": None, "from_status": "routed",
        "note": "", "payload": {"assignee": "specialist"}, "previous_digest": trail(moved)[1].digest,
        "to_department": None, "to_status": "in_progress",
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    assert accepted.digest == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize(("field", "value"), [
    ("note", "Đã cấp giấy phép."), ("actor_id", None), ("action", EventAction.DECIDED),
    ("at", local_datetime(2026, 1, 2, 3)), ("payload", {"assignee": "deputy"}), ("to_status", Status.SUBMITTED),
    ("from_department_id", 1), ("case_id", 0), ("previous_digest", "0" * 64),
])
def test_the_digest_covers_every_part_of_the_event(moved, field, value):
    event = trail(moved)[-1]
    setattr(event, field, value)

    assert event_digest(event) != event.digest


def test_an_event_written_outside_the_services_is_chained_too(city, moved):
    event = CaseEvent.objects.create(case=moved, actor=city.user("admin"), action=EventAction.CORRECTED,
                                     from_status=Status.RESOLVED, to_status=Status.RESOLVED, digest="f" * 64)

    assert event.previous_digest == trail(moved)[-2].digest
    assert event.digest == event_digest(event) != "f" * 64


def test_events_are_bulk_written_only_chained(moved):
    with pytest.raises(ValueError, match="chained"):
        CaseEvent.objects.bulk_create([CaseEvent(case=moved, action=EventAction.CORRECTED)])

    assert len(trail(moved)) == 4


def test_a_refusal_and_the_silence_sweep_join_the_chain(city, consulting, clock):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    consulting.ask(case)
    assert_refused(case_accept, code="invalid_transition", attempted="accept", case=case,
                   actor=city.user("specialist"))
    clock.set(local_datetime(2026, 5, 7, 9))

    assert deem_silent_consultations_agreed() == 1

    events = trail(case)
    assert [event.action for event in events[-3:]] == [EventAction.CONSULTED, EventAction.REFUSED,
                                                       EventAction.DEEMED_AGREED]
    assert [event.previous_digest for event in events[1:]] == [event.digest for event in events[:-1]]
    assert verify_chains().holds


def test_a_move_locks_its_case_once_and_reads_one_digest(city, stages):
    case = stages.routed()
    with CaptureQueriesContext(connection) as queries:
        case_accept(case=case, actor=city.user("specialist"))

    statements = [query["sql"] for query in queries]
    digest_reads = [sql for sql in statements if sql.startswith("SELECT") and '"cases_caseevent"."digest"' in sql]
    assert len(digest_reads) == 1, statements
    # The row lock of the move is the chain's too (SQLite has none: it runs one writer at a time).
    assert sum("FOR UPDATE" in sql for sql in statements) == (1 if POSTGRES else 0), statements


# --- verify_audit and the nightly job -----------------------------------------------------------------------------


def test_verify_audit_says_the_chain_holds(moved, stages):
    stages.routed()

    assert verify_audit() == (0, "Checked 6 events of 2 cases: the chain holds.\n", "")


def test_verify_audit_names_an_event_rewritten_past_the_trigger(city, moved, stages):
    untouched = stages.routed()
    accepted = trail(moved)[2]

    as_superuser("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["Chấp nhận theo chỉ đạo", accepted.pk])

    status, _out, err = verify_audit()
    assert status == 1
    assert f"case {moved.reference}: event {accepted.pk} (at " in err
    assert "action “Accepted”) does not match its digest" in err
    assert "Checked 6 events of 2 cases: 1 case has a broken chain." in err
    assert untouched.reference not in err


def test_verify_audit_names_the_event_after_a_removed_one(moved):
    events = trail(moved)

    as_superuser("DELETE FROM cases_caseevent WHERE id = %s", [events[2].pk])

    status, _out, err = verify_audit()
    assert status == 1
    assert f"event {events[3].pk} (at " in err
    assert "does not follow the event before it" in err


def test_a_rewrite_with_a_new_digest_breaks_the_link_to_the_next_event(moved):
    events = trail(moved)
    forged = events[1]
    forged.note = "Chuyển theo quy tắc khác"
    # A careful forger writes the digest the rewritten event would have had: the event after it still names
    # the old one.
    as_superuser("UPDATE cases_caseevent SET note = %s, digest = %s WHERE id = %s",
                 [forged.note, event_digest(forged), forged.pk])

    [broken] = verify_chains().breaks
    assert (broken.reference, broken.event_id, broken.problem) == (moved.reference, events[2].pk, "link")


def test_the_nightly_job_is_quiet_while_the_chain_holds(moved, mailoutbox):
    assert verify_audit_nightly.delay().get() == "chain holds: 4 events of 1 cases"
    assert mailoutbox == []


def test_the_nightly_job_mails_the_active_superusers_of_a_break(city, moved, mailoutbox, settings):
    retired, without_address = make_user("retired_admin", superuser=True), make_user("admin_2", superuser=True)
    retired.is_active, without_address.email = False, ""
    retired.save(update_fields=["is_active"])
    without_address.save(update_fields=["email"])
    resolved = trail(moved)[-1]
    as_superuser("UPDATE cases_caseevent SET actor_id = %s WHERE id = %s", [city.user("clerk").pk, resolved.pk])
    settings.LANGUAGE_CODE = "en"  # the mail is in the site's language, whatever the worker's

    assert verify_audit_nightly.delay().get() == "1 broken chains; 1 admins mailed"

    [message] = mailoutbox
    assert message.to == [city.user("admin").email]
    assert message.subject == "[CityOps] The audit trail of 1 case was changed"
    assert (f"- case {moved.reference}: event {resolved.pk} (at ") in message.body
    assert "action “Resolved”) does not match its digest" in message.body
    assert "Checked 4 events of 1 cases: 1 case has a broken chain." in message.body


# --- the test database is still emptied ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_the_trails_and_leaves_them_protected(city, moved):
    call_command("flush", interactive=False, verbosity=0)

    assert {table: rows(table) for table in AUDIT_TABLES} == dict.fromkeys(AUDIT_TABLES, 0)
    assert protected_tables(connection) == AUDIT_TABLES


# --- the migration that filled the digests ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_events_written_before_the_chain_get_their_digests_in_order():
    before = [("cases", "0008_description_length")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    unit = old.get_model("departments", "Department").objects.create(code="sxd", name="Sở Xây dựng",
                                                                    kind="department")
    kind = old.get_model("departments", "CaseType").objects.create(code="permit", name="Cấp phép",
                                                                  processing_days=15)
    Case, Event = old.get_model("cases", "Case"), old.get_model("cases", "CaseEvent")
    cases = [Case._base_manager.create(reference=f"SXD-261109-000{n}", case_type=kind, owner=unit, status="routed",
                                 received_at=local_datetime(2026, 11, 9, 9), title="Hồ sơ", pin="1234")
             for n in (1, 2)]
    # The two cases' events interleave: each chain follows its own case, in id order.
    for n, action in enumerate(["created", "created", "routed", "routed", "accepted"]):
        Event.objects.create(case=cases[n % 2], action=action, at=local_datetime(2026, 11, 9, 9, n),
                             note=f"Bước {n}", payload={"step": n})

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    for case in cases:
        events = list(CaseEvent.objects.filter(case_id=case.pk).order_by("id"))
        assert [event.previous_digest for event in events] == ["", *(event.digest for event in events[:-1])]
        assert [event.digest for event in events] == [event_digest(event) for event in events]
    report = verify_chains()
    assert (report.events, report.cases, report.holds) == (5, 2, True)
    assert protected_tables(connection) == AUDIT_TABLES


# --- at the same moment (PostgreSQL row locks) ----------------------------------------------------------------


@pytest.mark.skipif(not POSTGRES, reason="SQLite runs one writer at a time; the race for a case's last event "
                                         "needs PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("repeat", range(3))
def test_events_written_at_once_still_form_one_chain(city, consulting, clock, repeat):
    clock.set(local_datetime(2026, 4, 20, 9))
    case = consulting.case()
    ours, theirs = consulting.ask(case, city.consulted, city.outsider, justification="Dự án dùng vốn ngân sách")

    def answer(consultation, actor):
        def move():
            consultation_respond(consultation=consultation, actor=city.user(actor), position=Position.AGREE)
            return "ok"
        return move

    def refused(actor):
        return lambda: case_accept(case=case, actor=city.user(actor))

    # Two answers (each locks its consultation, then the case for its event), two refusals (written after their
    # rollback) and a move holding the case: five writers on one trail.
    outcomes = run_together(answer(ours, "consulted_specialist"), answer(theirs, "outsider_specialist"),
                            refused("outsider_head"), refused("consulted_head"),
                            lambda: case_set_key_task(case=case, actor=city.user("head"), key_task=True) and "ok")

    assert sorted(map(str, outcomes)) == ["not_owner", "not_owner", "ok", "ok", "ok"]
    events = trail(case)
    assert len({event.previous_digest for event in events}) == len(events)
    report = verify_chains()
    assert report.holds, report.breaks


@pytest.mark.skipif(not POSTGRES, reason="SQLite runs one writer at a time; the race for a case's last event "
                                         "needs PostgreSQL's row locks")
@pytest.mark.django_db(transaction=True)
def test_a_second_writer_waits_for_the_first_and_follows_its_event(city, stages):
    case = stages.routed()
    appended, waiting = threading.Event(), threading.Event()
    errors = []

    def write(note: str, *, first: bool) -> None:
        try:
            with transaction.atomic():
                if not first:
                    appended.wait(10)
                    waiting.set()
                CaseEvent.objects.create(case=case, action=EventAction.ATTACHMENT_ADDED, note=note)
                if first:
                    appended.set()
                    waiting.wait(10)
                    # The second writer is at the case's row lock now; without the lock it would read the last
                    # digest at once, before this event is committed, and both would follow the same event.
                    time.sleep(0.3)
        except Exception as error:  # noqa: BLE001 - reported below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(note,), kwargs={"first": first})
               for note, first in (("bien-ban.pdf", True), ("ban-ve.pdf", False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    first, second = trail(case)[-2:]
    assert (first.note, second.note, second.previous_digest) == ("bien-ban.pdf", "ban-ve.pdf", first.digest)
    assert verify_chains().holds
