"""`manage.py restore DUMP --media-archive TAR`: a backup of `manage.py backup` put back, PostgreSQL only.

Never over live data: the target database is a new one (--into-database, made here) or the configured one when it
holds no table yet, and the media folder must be empty. The checksum file beside the dump is checked first when it
is there. The restore runs in one transaction, so a failure leaves the database as empty as it was; the files
extracted so far and a database made here are removed again. The audit tables' append-only triggers are part of
the schema and come back with it (data loads with COPY, which the triggers let through as inserts).
"""

import shutil
import tarfile
from pathlib import Path

import psycopg2
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg2 import sql

from cityops.backups import (
    checksum_path,
    client_program,
    conninfo,
    postgres_settings,
    run_client,
    sha256_of_file,
)
from core.audit import PG_ROW_TRIGGER

# Where CREATE DATABASE and DROP DATABASE are sent from, as createdb does.
MAINTENANCE_DB = "postgres"

TABLES_SQL = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
"""
# The row trigger of every audit table, and whether it fires always (also in replica mode), as core.audit sets it.
TRIGGERS_SQL = "SELECT count(*), count(*) FILTER (WHERE tgenabled = 'A') FROM pg_trigger WHERE tgname = %s"


def connect(db: dict, name: str):
    kwargs = {"password": str(db["PASSWORD"])} if db.get("PASSWORD") else {}
    connection = psycopg2.connect(conninfo(db, name), **kwargs)
    connection.autocommit = True
    return connection


def query_one(db: dict, name: str, statement: str, params=None) -> tuple:
    connection = connect(db, name)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchone()
    finally:
        connection.close()


def database_exists(db: dict, name: str) -> bool:
    return query_one(db, MAINTENANCE_DB, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)", [name])[0]


def maintenance(db: dict, statement: sql.Composable) -> None:
    # Outside a transaction: PostgreSQL refuses CREATE and DROP DATABASE inside one.
    connection = connect(db, MAINTENANCE_DB)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def create_database(db: dict, name: str) -> None:
    # From template0, as pg_restore's manual advises: whatever was added to template1 would clash with the dump.
    maintenance(db, sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))


def drop_database(db: dict, name: str) -> None:
    maintenance(db, sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def read_checksums(path: Path) -> dict[str, str]:
    """{file name: sha256} from a `sha256sum` listing (text or binary mode)."""
    listed = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _sep, name = line.strip().partition(" ")
        if digest:
            listed[name.strip().lstrip("*")] = digest.lower()
    return listed


def clear_folder(folder: Path) -> None:
    """Remove what this run extracted; the folder was empty before it, so everything in it is ours."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


class Command(BaseCommand):
    help = ("Restore a backup of `manage.py backup`: the dump into a new database (--into-database) or the "
            "configured one if it has no tables, and the media archive into an empty folder.")

    def add_arguments(self, parser):
        parser.add_argument("dump", help="The cityops-<time>.dump file (pg_dump's custom format).")
        parser.add_argument("--media-archive", required=True, help="The cityops-<time>-media.tar.gz file.")
        parser.add_argument("--into-database",
                            help="Create this database on the configured server and restore into it; refused if it "
                                 "exists. Without it, the configured database, which must hold no table.")
        parser.add_argument("--media-root", help="Folder to extract the files into (default: MEDIA_ROOT); it must be "
                                                 "empty or missing.")

    def handle(self, *args, **options):
        db = postgres_settings("restore")
        pg_restore = client_program("pg_restore")
        dump, archive = Path(options["dump"]), Path(options["media_archive"])
        for path in (dump, archive):
            if not path.is_file():
                raise CommandError(f"{path} is not a file.")
        self.check_sums(dump, archive)
        media_root = Path(options["media_root"] or settings.MEDIA_ROOT)
        if media_root.exists() and (not media_root.is_dir() or any(media_root.iterdir())):
            raise CommandError(f"The media folder {media_root} is not empty: restore the files into an empty or new "
                               f"folder (--media-root), never over the ones a site may be serving.")
        name, created = self.prepare_database(db, options["into_database"])
        try:
            media_root.mkdir(parents=True, exist_ok=True)
            files = self.extract(archive, media_root)
            # One transaction: a failure halfway leaves no half-restored schema behind.
            run_client([pg_restore, "--no-owner", "--exit-on-error", "--single-transaction",
                        f"--dbname={conninfo(db, name)}", str(dump)], db)
        except BaseException:
            if media_root.is_dir():
                clear_folder(media_root)
            if created:
                drop_database(db, name)
            raise
        protected, always = query_one(db, name, TRIGGERS_SQL, [PG_ROW_TRIGGER])
        self.stdout.write(f"Restored {dump} into database {name}; {files} files into {media_root}.")
        self.stdout.write(f"{protected} audit tables have their append-only trigger ({always} firing always).")
        if always != protected:
            self.stderr.write("Some append-only triggers do not fire always: ALTER TABLE ... ENABLE ALWAYS TRIGGER "
                              "append_only on them, as core/audit.py does, before the site starts.")
        self.stdout.write("Next: point DATABASE_URL at it (and MEDIA_ROOT at the files), then run "
                          "`manage.py migrate --check` and `manage.py verify_audit` before starting the site.")

    def check_sums(self, dump: Path, archive: Path) -> None:
        sums = checksum_path(dump)
        if not sums.is_file():
            self.stderr.write(f"No {sums.name} beside the dump: the files' checksums are not checked.")
            return
        listed = read_checksums(sums)
        if dump.name not in listed:
            raise CommandError(f"{sums} does not list {dump.name}: it belongs to another backup.")
        for path in (dump, archive):
            if path.name not in listed:
                self.stderr.write(f"{sums.name} does not list {path.name}: its checksum is not checked.")
            elif sha256_of_file(path) != listed[path.name]:
                raise CommandError(f"{path} does not match its SHA-256 in {sums}: the file is damaged or was "
                                   f"changed since the backup; nothing was restored.")

    def prepare_database(self, db: dict, into: str | None) -> tuple[str, bool]:
        """The database to restore into, and whether this run created it."""
        if into:
            if database_exists(db, into):
                raise CommandError(f"The database {into} already exists: --into-database makes a new one; name "
                                   f"another, or drop that one first.")
            create_database(db, into)
            return into, True
        name = db["NAME"]
        if not database_exists(db, name):
            create_database(db, name)
            return name, True
        (tables,) = query_one(db, name, TABLES_SQL)
        if tables:
            raise CommandError(f"The configured database {name} already holds {tables} tables: restore into a new "
                               f"database with --into-database NAME and point DATABASE_URL at it.")
        return name, False

    def extract(self, archive: Path, media_root: Path) -> int:
        # The "data" filter refuses absolute paths, paths out of the folder, links pointing out of it and device
        # files, and drops set-uid bits: an archive is only ever a folder of plain files.
        try:
            with tarfile.open(archive, "r:*") as tar:
                members = tar.getmembers()
                tar.extractall(media_root, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise CommandError(f"Could not extract {archive}: {error}") from error
        return sum(1 for member in members if member.isfile())
