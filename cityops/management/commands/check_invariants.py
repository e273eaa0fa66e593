"""Check, read-only, what the whole database must hold (cityops.invariants): safe to run on a live site.

Exit status 1 when an invariant is broken, so that a script, a monitor or the crash harness can act on it.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cityops import invariants


class Command(BaseCommand):
    help = ("Check every case's trail (no duplicate event, a valid path through the state machine to the case's "
            "status, an intact hash chain), one assignee per accepted case, no duplicate notice or deadline mark, "
            "and optionally that acknowledged cases exist and no notice was mailed twice. Reads only; exits with "
            "status 1 if a check fails.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--acknowledged", type=Path, metavar="FILE",
                            help="a file of case references, one a line, that clients were answered 201 for")
        parser.add_argument("--mail-dir", type=Path, metavar="DIR",
                            help="the folder of Django's file-based mail backend, to find notices mailed twice")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the results as JSON")
        parser.add_argument("--chunk-size", type=int, default=invariants.CHUNK_SIZE,
                            help="rows fetched at a time from the event stream")

    def handle(self, *args, acknowledged=None, mail_dir=None, as_json=False, chunk_size=invariants.CHUNK_SIZE,
               **options):
        if acknowledged is not None and not acknowledged.is_file():
            raise CommandError(f"{acknowledged}: no such file")
        if mail_dir is not None and not mail_dir.is_dir():
            raise CommandError(f"{mail_dir}: no such folder")
        references = invariants.read_references(acknowledged) if acknowledged is not None else None
        report = invariants.check_all(acknowledged=references, mail_dir=mail_dir, chunk_size=chunk_size)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for result in report.results:
                self.stdout.write(_line(result))
                for example in result.examples:
                    self.stdout.write(f"      - {example.detail}")
        failed = report.failed
        if failed:
            raise CommandError(f"{len(failed)} of {len(report.results)} invariants broken: {', '.join(failed)}",
                               returncode=1)
        if not as_json:
            self.stdout.write(f"All {len(report.results)} invariants hold.")


def _line(result: invariants.CheckResult) -> str:
    if result.skipped:
        return f"skip  {result.name}: {result.skipped}"
    checked = f"{result.checked:,}"
    if result.ok:
        return f"ok    {result.name}: {result.title} ({checked} {result.unit})"
    count = f"{result.count:,}"
    return f"FAIL  {result.name}: {count} of {checked} {result.unit} break it: {result.title}"
