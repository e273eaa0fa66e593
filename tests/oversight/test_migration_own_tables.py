"""Migration oversight 0003 takes violations' marks and notices out of the cases' tables.

A database that applied the first form of cases 0005 has a `violation_id` column in the cases' marks and
notices (and the marks' check constraint allowing a row of a violation alone). The test builds that database
as it was, with a mark and a notice of a violation in the old columns, migrates it, and finds them in
oversight's own tables, the old columns gone and the cases' constraints as their models now declare them.
"""

import datetime as dt
from importlib import import_module

import pytest
from django.db import connection, models
from django.db.migrations.executor import MigrationExecutor

from tests.support.world import local_datetime

BEFORE = [("cases", "0006_scoped_managers"), ("oversight", "0002_choices")]
# The first form's check: exactly one of a case, a consultation or a violation.
LEGACY_MARK_CHECK = ("ALTER TABLE cases_deadlinemark ADD CONSTRAINT deadline_mark_one_item CHECK ("
                     "(case_id IS NOT NULL AND consultation_id IS NULL AND violation_id IS NULL) OR "
                     "(case_id IS NULL AND consultation_id IS NOT NULL AND violation_id IS NULL) OR "
                     "(case_id IS NULL AND consultation_id IS NULL AND violation_id IS NOT NULL))")
# SQLite cannot add a check to a table: there the old check simply lets a violation's row in, and the migration
# makes the table again from the model.
SQLITE_LEGACY_MARK_CHECK = models.CheckConstraint(
    condition=models.Q(case__isnull=False, consultation__isnull=True)
    | models.Q(case__isnull=True), name="deadline_mark_one_item")


def legacy_column(model, apps) -> models.ForeignKey:
    field = models.ForeignKey(apps.get_model("oversight", "Violation"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+", db_index=False)
    field.set_attributes_from_name("violation")
    field.model = model
    return field


def columns(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


def constraints(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db(transaction=True)
def test_the_legacy_rows_move_to_oversight_and_the_columns_go():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    marks, notices = old.get_model("cases", "DeadlineMark"), old.get_model("cases", "Notification")
    try:
        legacy_database(old, marks, notices)
        check_the_move(old)
    finally:
        # Whatever happened, the test database ends as the migrations make it, for the tests after this one.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def legacy_database(old, marks, notices) -> None:
    """The cases' tables as the first form of cases 0005 left them."""
    with connection.schema_editor() as editor:
        if connection.vendor == "postgresql":
            editor.remove_constraint(marks, marks._meta.constraints[0])
            editor.add_field(marks, legacy_column(marks, old))
            editor.execute(LEGACY_MARK_CHECK)
        else:
            # SQLite alters a table by making it again from its model: the old check goes on the (historical,
            # throwaway) model itself.
            marks._meta.constraints = [SQLITE_LEGACY_MARK_CHECK]
            editor._remake_table(marks)
            editor.add_field(marks, legacy_column(marks, old))
        editor.add_field(notices, legacy_column(notices, old))


def check_the_move(old) -> None:

    # A transactional test before this one may have emptied the lists migration 0002 seeds: seed them again.
    import_module("oversight.migrations.0002_choices").create_choices(old, None)
    user = old.get_model("auth", "User").objects.create(username="thanhtra")
    unit = old.get_model("departments", "Department").objects.create(code="ttr", name="Thanh tra",
                                                                    kind="inspectorate")
    violation = old.get_model("oversight", "Violation").objects.create(
        person=user, department=unit, discovered_on=dt.date(2026, 11, 2), source="complaint",
        kind=old.get_model("oversight", "ViolationKind").objects.first(),
        severity=old.get_model("oversight", "Severity").objects.first(), description="Nhũng nhiễu",
        handler=user, due_date=dt.date(2027, 2, 1), recorded_by=user)
    flagged = local_datetime(2027, 2, 2, 10)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO cases_deadlinemark (violation_id, flag, due_date, flagged_at) "
                       "VALUES (%s, 'overdue', %s, %s)", [violation.pk, dt.date(2027, 2, 1), flagged])
        cursor.execute("INSERT INTO cases_notification (recipient_id, kind, violation_id, on_date, created_at, "
                       "mail_state, mail_attempts, mail_error) VALUES (%s, 'overdue', %s, %s, %s, 'sent', 1, '')",
                       [user.pk, violation.pk, dt.date(2027, 2, 1), flagged])

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from cases.models import DeadlineMark, Notification
    from oversight.models import ViolationMark, ViolationNotice

    assert list(ViolationMark.objects.values_list("violation_id", "flag", "due_date")) == [
        (violation.pk, "overdue", dt.date(2027, 2, 1))]
    assert list(ViolationNotice.objects.values_list("recipient_id", "kind", "violation_id", "mail_state")) == [
        (user.pk, "overdue", violation.pk, "sent")]
    assert not DeadlineMark.objects.exists() and not Notification.objects.exists()
    assert "violation_id" not in columns("cases_deadlinemark") | columns("cases_notification")
    assert "deadline_mark_one_item" in constraints("cases_deadlinemark")
    assert "one_case_deadline_notice" in constraints("cases_notification")


@pytest.mark.django_db(transaction=True)
def test_a_database_made_after_the_move_has_nothing_to_move():
    assert "violation_id" not in columns("cases_deadlinemark") | columns("cases_notification")
