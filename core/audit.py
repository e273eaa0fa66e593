"""Audit trails that are only ever appended to (directive: rõ người, rõ việc, rõ trách nhiệm).

An event row is written once, in the transaction of the change it records, and never changed or removed:
the ORM refuses an update or a delete of one, whether of a row or of a queryset, and the database refuses
the same to raw SQL, whoever connects. Altering data is forbidden conduct at the one-stop desk (Decree
61/2018/NĐ-CP art. 5), so a trail that a stray `UPDATE` could rewrite would prove nothing.

The database's refusal is a trigger on each audit table, made by each app's migration from the statements
here (PostgreSQL and SQLite say it differently). It has no switch a session could turn: on PostgreSQL it
fires for every role and also in replica mode (`ENABLE ALWAYS`), so only the table's owner or a superuser,
by altering the table, can stop it — and that is what the case trail's hash chain is for.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import migrations, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.utils.translation import gettext_lazy as _

APPEND_ONLY = _("Audit events are append-only.")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(APPEND_ONLY)

    def delete(self):
        raise ValidationError(APPEND_ONLY)


class AppendOnlyModel(models.Model):
    """A row of an audit trail: saved once, never again, never deleted."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(APPEND_ONLY)


def changes(before: dict, after: dict) -> dict[str, list]:
    """{field: [old, new]} for every field whose value differs, as JSON-ready values (dates as ISO text)."""

    def plain(value):
        return value.isoformat() if hasattr(value, "isoformat") else value

    return {name: [plain(before.get(name)), plain(value)] for name, value in after.items()
            if before.get(name) != value}


# --- the database's refusal -------------------------------------------------------------------------------

# The one function every PostgreSQL trigger calls; it names the table it refused.
PG_FUNCTION = "audit_append_only"
# PostgreSQL names triggers per table; SQLite in one namespace, hence the table in its names.
PG_ROW_TRIGGER, PG_TRUNCATE_TRIGGER = "append_only", "append_only_truncate"
PG_TRIGGERS = (PG_ROW_TRIGGER, PG_TRUNCATE_TRIGGER)
REFUSAL = "is append-only: the audit trail is never changed or removed"


def _sqlite_trigger(table: str, operation: str) -> str:
    return f"{table}_append_only_{operation.lower()}"


def protect_statements(table: str, vendor: str) -> list[str]:
    """The SQL that makes the database refuse to change or remove a row of `table` (and, on PostgreSQL, to
    truncate it). Row-level: a statement that touches no row, such as the SET NULL of a deleted user who never
    acted, still runs."""
    if vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' {REFUSAL}', ERRCODE = 'restrict_violation';
END
$$""",
            f'CREATE TRIGGER {PG_ROW_TRIGGER} BEFORE UPDATE OR DELETE ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
            f'CREATE TRIGGER {PG_TRUNCATE_TRIGGER} BEFORE TRUNCATE ON "{table}" '
            f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
            # Also in replica mode: `session_replication_role` would otherwise be a switch around them.
            *_pg_enable(table),
        ]
    if vendor == "sqlite":
        return [f'CREATE TRIGGER "{_sqlite_trigger(table, operation)}" BEFORE {operation} ON "{table}" '
                f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSAL}'); END"
                for operation in ("UPDATE", "DELETE")]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def unprotect_statements(table: str, vendor: str) -> list[str]:
    """The SQL that takes `protect_statements` back (a migration's reverse)."""
    if vendor == "postgresql":
        return [
            *(f'DROP TRIGGER IF EXISTS {trigger} ON "{table}"' for trigger in PG_TRIGGERS),
            # The function is shared by every protected table: it goes with the last of them.
            f"""DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgfoid = to_regprocedure('{PG_FUNCTION}()')) THEN
        DROP FUNCTION IF EXISTS {PG_FUNCTION}();
    END IF;
END $$""",
        ]
    if vendor == "sqlite":
        return [f'DROP TRIGGER IF EXISTS "{_sqlite_trigger(table, operation)}"' for operation in ("UPDATE", "DELETE")]
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def suspend_statements(table: str, vendor: str) -> list[str]:
    """The table owner's maintenance (emptying a test or benchmark database): the refusal is stopped, in the
    transaction that runs `resume_statements` after the work. What it lets through on the case trail, the
    hash chain shows."""
    if vendor == "postgresql":
        return [f'ALTER TABLE "{table}" DISABLE TRIGGER {trigger}' for trigger in PG_TRIGGERS]
    return unprotect_statements(table, vendor)


def resume_statements(table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        return _pg_enable(table)
    return protect_statements(table, vendor)


def _pg_enable(table: str) -> list[str]:
    return [f'ALTER TABLE "{table}" ENABLE ALWAYS TRIGGER {trigger}' for trigger in PG_TRIGGERS]


def protected_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """The tables whose rows the database refuses to change, as its catalogue says (whichever app made them)."""
    if connection.vendor == "postgresql":
        sql = ("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
               "WHERE t.tgname = %s AND pg_table_is_visible(c.oid) ORDER BY c.relname")
        params = [PG_ROW_TRIGGER]
    elif connection.vendor == "sqlite":
        sql = ("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name = tbl_name || %s "
               "ORDER BY tbl_name")
        params = ["_append_only_update"]
    else:
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [table for (table,) in cursor.fetchall()]


def protect(schema_editor: BaseDatabaseSchemaEditor, *tables: str) -> None:
    """For a migration's RunPython: make the database refuse changes to `tables`."""
    for table in tables:
        for sql in protect_statements(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)


def unprotect(schema_editor: BaseDatabaseSchemaEditor, *tables: str) -> None:
    for table in tables:
        for sql in unprotect_statements(table, schema_editor.connection.vendor):
            schema_editor.execute(sql)


def protect_tables(*tables: str) -> migrations.RunPython:
    """The migration operation that makes the database refuse changes to `tables`, and takes that back."""

    def forwards(apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        protect(schema_editor, *tables)

    def backwards(apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        unprotect(schema_editor, *tables)

    return migrations.RunPython(forwards, backwards)
