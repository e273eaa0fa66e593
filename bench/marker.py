"""The one-row table that says what a kept benchmark data set was built from: its sizes, the migrations (a
digest of their files) and the local day it is for, when it was generated, how long the build took, and the
counts the benchmark checks against. A data set is reused only when all three match."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection


def schema_fingerprint() -> str:
    """A digest of the project's migration files: a data set loaded under another schema is built again."""
    digest = hashlib.sha1(usedforsecurity=False)
    for app in apps.get_app_configs():
        folder = Path(app.path) / "migrations"
        if Path(settings.BASE_DIR) in folder.parents:
            for path in sorted(folder.glob("*.py")):
                digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Built:
    built_on: dt.date
    generated_at: dt.datetime
    build_seconds: float
    counts: dict


def _loads(value):
    return json.loads(value) if isinstance(value, str) else value


class Marker:
    def __init__(self, table: str, *, day_note: str):
        self.table = table
        # Why a data set of another day is not reused, said in the log.
        self.day_note = day_note

    def _rows(self, columns: str) -> list[tuple]:
        kind = "jsonb" if connection.vendor == "postgresql" else "text"
        moment = "timestamptz" if connection.vendor == "postgresql" else "text"
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (spec {kind} NOT NULL, built_on date NOT NULL, "
                           f"generated_at {moment} NOT NULL, build_seconds double precision NOT NULL, "
                           f"counts {kind} NOT NULL)")
            cursor.execute(f"SELECT {columns} FROM {self.table}")
            return cursor.fetchall()

    def matching(self, spec: dict, today: dt.date) -> Built | None:
        """What was built, when it was built from `spec` under today's migrations for `today`."""
        rows = self._rows("spec, built_on, generated_at, build_seconds, counts")
        if len(rows) != 1:
            return None
        stored, built_on, generated_at, seconds, counts = rows[0]
        if _loads(stored) != spec | {"schema": schema_fingerprint()} or str(built_on) != today.isoformat():
            return None
        if isinstance(generated_at, str):
            generated_at = dt.datetime.fromisoformat(generated_at).replace(tzinfo=dt.UTC)
        return Built(today, generated_at, seconds, _loads(counts))

    def mismatch(self, spec: dict) -> str:
        """Why the data set there cannot be reused (for the log), or '' when there is none."""
        rows = self._rows("spec, built_on")
        if not rows:
            return ""
        stored, built_on = rows[0]
        stored = _loads(stored)
        if {key: value for key, value in stored.items() if key != "schema"} != spec:
            return "the data set there was built with other sizes"
        if stored.get("schema") != schema_fingerprint():
            return "the migrations changed since the data set there was built"
        return f"the data set there was built on {built_on}; {self.day_note}"

    def write(self, spec: dict, *, built_on: dt.date, generated_at: dt.datetime, seconds: float, counts: dict) -> None:
        self._rows("1")
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {self.table}")
            cursor.execute(f"INSERT INTO {self.table} VALUES (%s, %s, %s, %s, %s)",
                           [json.dumps(spec | {"schema": schema_fingerprint()}), built_on.isoformat(),
                            connection.ops.adapt_datetimefield_value(generated_at), seconds, json.dumps(counts)])
