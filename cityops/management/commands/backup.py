"""`manage.py backup`: the PostgreSQL database and the uploaded files, as three files that belong together.

    cityops-<UTC time>.dump            pg_dump's custom format, without owners (restore as any role)
    cityops-<UTC time>-media.tar.gz    MEDIA_ROOT (the case files), an empty archive if there is none yet
    cityops-<UTC time>.sha256          both files' SHA-256, in `sha256sum --check` format

Each file is written under a temporary name and renamed once all three are complete, so a failed or interrupted
run leaves no half file that looks like a backup. `manage.py restore` reads them back. The restore command
imports the connection helpers below, so that both speak to the server alike.
"""

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
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


def write_media_archive(media_root: Path, target: Path) -> None:
    """MEDIA_ROOT's contents with paths relative to it, so they extract into whatever folder restore is given."""
    with tarfile.open(target, "w:gz") as archive:
        if media_root.is_dir():
            for entry in sorted(media_root.iterdir()):
                archive.add(entry, arcname=entry.name)


class Command(BaseCommand):
    help = ("Back up the PostgreSQL database (pg_dump, custom format) and MEDIA_ROOT (a .tar.gz), with a .sha256 "
            "of both, into --output-dir; prints the paths written.")

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", default="var/backups",
                            help="Folder for the backup files (default: var/backups, made if missing).")

    def handle(self, *args, **options):
        db = postgres_settings("backup")
        pg_dump = client_program("pg_dump")
        output_dir = Path(options["output_dir"])
        output_dir.mkdir(parents=True, exist_ok=True)
        # One moment names all three files, so that a listing pairs them without reading them.
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        dump = output_dir / f"{PREFIX}{stamp}.dump"
        media = output_dir / f"{PREFIX}{stamp}-media.tar.gz"
        sums = checksum_path(dump)
        finals = [dump, media, sums]
        existing = [path for path in finals if path.exists()]
        if existing:
            raise CommandError(f"{existing[0]} already exists; run the backup again in a second.")
        # Dot-prefixed temporary names in the same folder: renamed within one file system, never mistaken for
        # a finished backup by a listing of cityops-*.
        temps = {path: path.with_name(f".{path.name}.partial") for path in finals}
        renamed: list[Path] = []
        try:
            run_client([pg_dump, "--format=custom", "--no-owner", f"--file={temps[dump]}",
                        f"--dbname={conninfo(db)}"], db)
            write_media_archive(Path(settings.MEDIA_ROOT), temps[media])
            temps[sums].write_text("".join(f"{sha256_of_file(temps[path])}  {path.name}\n" for path in (dump, media)),
                                   encoding="utf-8")
            # The checksum file last: its presence says the other two are complete.
            for path in finals:
                os.replace(temps[path], path)
                renamed.append(path)
        except BaseException:
            # Interrupted too (Ctrl-C): nothing of this run is left, neither temporary nor final.
            for path in finals:
                temps[path].unlink(missing_ok=True)
            for path in renamed:
                path.unlink(missing_ok=True)
            raise
        for path in finals:
            self.stdout.write(str(path))
