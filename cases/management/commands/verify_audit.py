"""Check the case trail's hash chain by hand: the same check as the nightly Celery job (cases.audit_chain).

Exit status 1 when a chain is broken, so that a script or a monitor can act on it.
"""

from django.core.management.base import BaseCommand, CommandError

from cases.audit_chain import describe_break, summary, verify_chains


class Command(BaseCommand):
    help = ("Recompute the digest of every case event and check each case's chain; names the first broken event "
            "of each broken case and exits with status 1 if there is one.")

    def handle(self, *args, **options):
        report = verify_chains()
        if report.holds:
            self.stdout.write(summary(report))
            return
        for broken in report.breaks:
            self.stderr.write(describe_break(broken))
        raise CommandError(summary(report), returncode=1)
