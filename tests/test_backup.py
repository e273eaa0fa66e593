"""A backup restored into a new database serves what the original served: the same cases, events and files.

`manage.py backup` writes the dump, the media archive and their checksums; `manage.py restore` puts them into a
database of its own making and an empty folder. Both databases are then read the way the site is read, in a
process of its own pointed at each (tests/support/served_checksums.py), and the answers compared checksum by
checksum. The restored trail must still pass `verify_audit` and keep its append-only triggers.
"""

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from cases.models import Attachment, Case, CaseEvent
from cases.services import attachment_add
from core.audit import PG_TRIGGERS
from tests.support.cases import PDF_BYTES, docx_bytes, png_bytes
from tests.support.databases import database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROJECT = Path(settings.BASE_DIR)
SUBPROCESS_TIMEOUT = 120
STAMP = r"\d{8}T\d{6}Z"
TRIGGERS_SQL = ("SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = ANY(%s) ORDER BY 1, 2")

# Names with Vietnamese letters: the archive and the download must carry them unchanged.
FILES = [
    ("Biên bản kiểm tra.pdf", PDF_BYTES, "application/pdf"),
    ("Ảnh hiện trạng.png", png_bytes(), "image/png"),
    ("Tờ trình.docx", docx_bytes(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("backup and restore are pg_dump and pg_restore: PostgreSQL only (CI runs this on PostgreSQL)")




def connect(name: str):
    db = connection.settings_dict
    raw = psycopg2.connect(dbname=name, host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                           password=db["PASSWORD"] or None)
    raw.autocommit = True
    return raw


def drop_database(name: str) -> None:
    maintenance = connect("postgres")
    try:
        with maintenance.cursor() as cursor:
            # FORCE: a subprocess that failed half-way may still hold a connection.
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        maintenance.close()


def site_process(args: list[str], *, database: str, media_root: Path) -> subprocess.CompletedProcess:
    """A process of the site (test settings, DEBUG unset) against `database` and `media_root`."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url(database),
           "MEDIA_ROOT": str(media_root), "PYTHONUNBUFFERED": "1"}
    env.pop("DEBUG", None)
    return subprocess.run([sys.executable, *args], cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=SUBPROCESS_TIMEOUT, check=False)


def served(database: str, media_root: Path) -> dict:
    result = site_process(["-m", "tests.support.served_checksums"], database=database, media_root=media_root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def triggers(name: str) -> list[tuple]:
    raw = connect(name)
    try:
        with raw.cursor() as cursor:
            cursor.execute(TRIGGERS_SQL, [list(PG_TRIGGERS)])
            return cursor.fetchall()
    finally:
        raw.close()


def triggers_or_none(name: str):
    """The triggers of database `name`, or None when there is no such database."""
    try:
        return triggers(name)
    except psycopg2.OperationalError:
        return None


@pytest.fixture
def cases_with_files(city, stages, media_root):
    """Cases at several stages (each with its trail of events) and three real files on two of them."""
    clerk = city.user("clerk")
    routed, in_progress = stages.routed(), stages.in_progress(title="Xin cấp phép sửa chữa nhà ở")
    stages.resolved(title="Xin cấp phép xây dựng nhà xưởng")
    stages.awaiting_supplement(title="Xin cấp phép cải tạo mặt tiền")
    stages.triage(title="Kiến nghị về lấn chiếm vỉa hè")
    for case, (name, content, mime) in zip([routed, in_progress, in_progress], FILES, strict=True):
        attachment_add(case=case, actor=clerk, upload=SimpleUploadedFile(name, content, content_type=mime))
    return Case.unscoped.all()


def run_backup(output_dir: Path) -> tuple[Path, Path, Path]:
    out = io.StringIO()
    call_command("backup", output_dir=str(output_dir), stdout=out)
    dump, archive, sums = (Path(line) for line in out.getvalue().split())
    return dump, archive, sums


def test_a_backup_restored_into_a_new_database_serves_the_same_cases_events_and_files(cases_with_files,
                                                                                       media_root, tmp_path):
    dump, archive, sums = run_backup(tmp_path / "backups")

    stamp = re.fullmatch(rf"cityops-({STAMP})\.dump", dump.name).group(1)
    assert (archive.name, sums.name) == (f"cityops-{stamp}-media.tar.gz", f"cityops-{stamp}.sha256")
    # Only the three finished files: no temporary name is left behind.
    assert sorted(path.name for path in dump.parent.iterdir()) == sorted([dump.name, archive.name, sums.name])
    assert sums.read_text().splitlines() == [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}"
                                             for path in (dump, archive)]

    restored_db = f"cityops_restore_{uuid.uuid4().hex[:12]}"
    restored_media = tmp_path / "restored-media"
    try:
        call_command("restore", str(dump), media_archive=str(archive), into_database=restored_db,
                     media_root=str(restored_media), stdout=io.StringIO())

        original_db = connection.settings_dict["NAME"]
        original = served(original_db, media_root)
        restored = served(restored_db, restored_media)

        assert restored == original
        cases = original["cases"]
        assert len(cases) == Case.unscoped.count() == 5
        assert sum(case["event_count"] for case in cases.values()) == CaseEvent.objects.count() > len(cases)
        files = {item["name"]: item["sha256"] for case in cases.values() for item in case["attachments"].values()}
        assert len(files) == Attachment.objects.count() == len(FILES)
        assert sorted(files.values()) == sorted(hashlib.sha256(content).hexdigest() for _name, content, _mime in FILES)

        # The trail's hash chain holds on the copy, and reads the same as on the original.
        checks = [site_process(["manage.py", "verify_audit"], database=name, media_root=folder)
                  for name, folder in ((restored_db, restored_media), (original_db, media_root))]
        assert [check.returncode for check in checks] == [0, 0], [check.stderr for check in checks]
        assert checks[0].stdout == checks[1].stdout

        # The append-only triggers came back, firing always, and refuse a change on the copy too.
        assert triggers(restored_db) == triggers(original_db)
        assert {state for _table, _trigger, state in triggers(restored_db)} == {"A"}
        copy = connect(restored_db)
        try:
            with pytest.raises(psycopg2.errors.RestrictViolation), copy.cursor() as cursor:
                cursor.execute("UPDATE cases_caseevent SET note = 'rewritten'")
        finally:
            copy.close()
    finally:
        drop_database(restored_db)


def test_restore_refuses_a_damaged_file_a_database_with_tables_and_an_existing_database(cases_with_files,
                                                                                        tmp_path):
    dump, archive, sums = run_backup(tmp_path / "backups")
    empty_media = tmp_path / "restored-media"
    nowhere = f"cityops_restore_{uuid.uuid4().hex[:12]}"

    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for path in (dump, archive, sums):
        shutil.copy(path, damaged / path.name)
    with (damaged / archive.name).open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(CommandError, match="does not match its SHA-256"):
        call_command("restore", str(damaged / dump.name), media_archive=str(damaged / archive.name),
                     into_database=nowhere, media_root=str(empty_media))

    # The configured database (this test's) has the site's tables.
    with pytest.raises(CommandError, match="already holds"):
        call_command("restore", str(dump), media_archive=str(archive), media_root=str(empty_media))

    with pytest.raises(CommandError, match="already exists"):
        call_command("restore", str(dump), media_archive=str(archive), into_database=connection.settings_dict["NAME"],
                     media_root=str(empty_media))

    # Nothing was made by the refusals: no database, no file.
    assert triggers_or_none(nowhere) is None
    assert not empty_media.exists() or not any(empty_media.iterdir())
