"""``manage.py ecrm_refresh_scores``: RFM scores and groups, predicted lifetime value and
churn risk for every customer, then the segments that use them."""

from django.core.management.base import BaseCommand

from ecrm.scores import clv_refresh, rfm_refresh
from ecrm.segments import segments_refresh


class Command(BaseCommand):
    help = "Recompute every customer's scores (RFM), then the segments."

    def handle(self, *args, **options):
        def progress(done, total):
            if options["verbosity"]:
                self.stdout.write(f"\rRFM: {done:,} of {total:,} customers", ending="")
                self.stdout.flush()

        scored = rfm_refresh(progress=progress)
        if options["verbosity"]:
            self.stdout.write(f"\rRFM: scored {scored:,} customers with orders.")
            self.stdout.write("Lifetime value: fitting BG/NBD and Gamma-Gamma on the orders…")
        fit = clv_refresh()
        segments_refresh()
        if options["verbosity"]:
            if fit.error:
                self.stdout.write(f"Lifetime value: not fitted ({fit.error}); RFM scores are kept.")
            else:
                self.stdout.write(f"Lifetime value: {fit.customers:,} customers scored; segments refreshed.")
