"""What `manage.py backup` and `manage.py restore` share: the PostgreSQL client programs, how they reach the
configured server, and the backup files' names and checksums."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg2.extensions import make_dsn

PREFIX = "cityops-"
# libpq's own connection options that DATABASE_URL may carry as query parameters (?sslmode=require); the rest of
# OPTIONS (isolation level, pool, ...) is Django's and means nothing to pg_dump.
LIBPQ_OPTIONS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout", "options",
                 "target_session_attrs", "application_name")
CHUNK = 1024 * 1024


def postgres_settings(command: str) -> dict:
    """The default database's settings, or a refusal when it is not PostgreSQL."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        raise CommandError(
            f"manage.py {command} works with PostgreSQL only, and the default database is "
            f"{connection.vendor} ({connection.settings_dict['ENGINE']}). Set DATABASE_URL to the site's "
            f"PostgreSQL database (postgres://user@host:5432/name); the embedded SQLite file is backed up by "
            f"copying it while the site is stopped.")
    return connection.settings_dict


def conninfo(db: dict, name: str | None = None) -> str:
    """A libpq connection string for database `name` (the configured one unless told) on the configured server.

    A connection string rather than -h/-p/-U options: the database name is then never read as an option or as
    a connection string of its own, whatever it contains. The password is not in it (see `client_env`)."""
    params = {"dbname": name or db["NAME"], "host": db.get("HOST") or None, "port": db.get("PORT") or None,
              "user": db.get("USER") or None}
    options = db.get("OPTIONS") or {}
    params.update({key: options[key] for key in LIBPQ_OPTIONS if options.get(key) not in (None, "")})
    return make_dsn(**{key: str(value) for key, value in params.items() if value is not None})


def client_env(db: dict) -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the password in PGPASSWORD, where `ps` does not show it."""
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def client_program(name: str) -> str:
    """The full path of a PostgreSQL client program, or a refusal that says what to install."""
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} is not on PATH: install the PostgreSQL client programs (Debian: "
                           f"postgresql-client), of the server's major version or newer.")
    return path


def run_client(argv: list[str], db: dict) -> None:
    """Run a PostgreSQL client program; its error output becomes the refusal when it fails."""
    result = subprocess.run(argv, env=client_env(db), capture_output=True, text=True, check=False)  # noqa: S603 - a list argv of our own, no shell
    if result.returncode != 0:
        program = Path(argv[0]).name
        raise CommandError(f"{program} failed (exit status {result.returncode}):\n{result.stderr.strip()}")


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(dump: Path) -> Path:
    """cityops-<ts>.dump -> cityops-<ts>.sha256, beside it."""
    return dump.with_suffix(".sha256")
