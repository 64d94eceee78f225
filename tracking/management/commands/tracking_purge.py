"""``manage.py tracking_purge [--days N]``: delete events older than the retention period."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tracking.defaults import setting
from tracking.models import Event, QuarantinedEvent


class Command(BaseCommand):
    help = "Delete tracked events older than TRACKING_RETENTION_DAYS (or --days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="keep this many days (default: TRACKING_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, days, dry_run, **options):
        days = setting("TRACKING_RETENTION_DAYS") if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        events = Event.objects.filter(timestamp__lt=cutoff)
        quarantined = QuarantinedEvent.objects.filter(quarantined_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"Would delete {events.count()} events and {quarantined.count()} "
                              f"quarantined entries older than {cutoff:%Y-%m-%d}.")
            return
        deleted, _ = events.delete()
        deleted_quarantine, _ = quarantined.delete()
        self.stdout.write(f"Deleted {deleted} events and {deleted_quarantine} quarantined entries "
                          f"older than {cutoff:%Y-%m-%d}.")
