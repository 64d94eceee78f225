"""``manage.py tracking_replay``: try quarantined events again (after a fix)."""

from django.core.management.base import BaseCommand

from tracking.replay import replay


class Command(BaseCommand):
    help = "Store quarantined events again; those that still fail stay quarantined with the new reason."

    def handle(self, *args, **options):
        replayed, failed = replay()
        self.stdout.write(f"Replayed {replayed} events; {failed} still quarantined.")
