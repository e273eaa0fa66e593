"""Set-based writes the ORM lacks: INSERT … SELECT, so a sweep never loads the rows it writes."""

from __future__ import annotations

from typing import Any, cast

from django.db import connection, models


def insert_from_select(model: type[models.Model], fields: list[str], rows: models.QuerySet) -> int:
    """Insert what `rows` selects into `model`'s `fields`, skipping rows that a unique constraint refuses.

    `rows` is a `values_list(...)` queryset giving one value per field, in the same order. The skipped
    conflicts are how concurrent runs stay single: each row is inserted once, whoever runs first.
    Returns the number of rows inserted.
    """
    sql, params = rows.order_by().query.sql_with_params()
    columns = ", ".join(connection.ops.quote_name(_column(model, name)) for name in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) {sql} ON CONFLICT DO NOTHING", params)
        return cursor.rowcount


def _column(model: type[models.Model], name: str) -> str:
    # The fields a sweep inserts are the model's own concrete fields, each stored in a column of its own.
    field = cast("models.Field[Any, Any]", model._meta.get_field(name))
    return cast(str, field.column)


def unlocked(rows: models.QuerySet) -> models.QuerySet:
    """`rows` minus those another transaction holds right now, locked for this one (FOR UPDATE SKIP LOCKED).

    For sweeps over the whole table: a person's action holds its case for its whole transaction, and a sweep
    waiting on it could deadlock with it (a submission deems silence on its own case's consultations too).
    The sweep passes such rows by and the next run takes them. A no-op on SQLite, which has one writer.
    """
    # The outer statement names the rows by key only: the locking subquery has judged them, and PostgreSQL
    # re-checks its condition on each row it locks, so filtering again would only scan them twice.
    locked = rows.order_by().select_for_update(skip_locked=True, of=("self",)).values("pk")
    return rows.model._default_manager.filter(pk__in=locked)
