"""``manage.py ecrm_refresh_scores``: RFM scores and groups for every customer (and lifetime
value once fitted), then the segments that use them."""

from django.core.management.base import BaseCommand

from ecrm.scores import rfm_refresh
from ecrm.segments import segments_refresh


class Command(BaseCommand):
    help = "Recompute every customer's scores (RFM), then the segments."

    def handle(self, *args, **options):
        def progress(done, total):
            if options["verbosity"]:
                self.stdout.write(f"\rRFM: {done:,} of {total:,} customers", ending="")
                self.stdout.flush()

        scored = rfm_refresh(progress=progress)
        segments_refresh()
        if options["verbosity"]:
            self.stdout.write(f"\rScored {scored:,} customers with orders; segments refreshed.")
