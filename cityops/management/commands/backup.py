"""`manage.py backup`: the PostgreSQL database and the uploaded files, as three files that belong together.

    cityops-<UTC time>.dump            pg_dump's custom format, without owners (restore as any role)
    cityops-<UTC time>-media.tar.gz    MEDIA_ROOT (the case files), an empty archive if there is none yet
    cityops-<UTC time>.sha256          both files' SHA-256, in `sha256sum --check` format

Each file is written under a temporary name and renamed once all three are complete, so a failed or interrupted
run leaves no half file that looks like a backup. `manage.py restore` reads them back. What it shares with
the restore command is in `cityops/backups.py`.
"""

import datetime as dt
import os
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cityops.backups import (
    PREFIX,
    checksum_path,
    client_program,
    conninfo,
    postgres_settings,
    run_client,
    sha256_of_file,
)


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
