"""The overdue sweep by hand: the same code as the periodic Celery job (DESIGN.md §5)."""

from django.core.management.base import BaseCommand

from cases import deadlines, notifications


class Command(BaseCommand):
    help = "Flag overdue and due-soon cases and consultations, clear stale flags and notify; prints what it did."

    def handle(self, *args, **options):
        result = deadlines.flag_overdue()
        self.stdout.write(str(result))
        if notifications.pending_mail_exists():
            notifications.queue_mail()
