"""``manage.py ecrm_apply_aggregates [--every SECONDS]``: count the batches the tracking
consumers stored into the reports' daily aggregates now (what beat's
``ecrm.tasks.apply_pending_aggregates`` does every few seconds), or keep doing it.

For a store that runs ``tracking_consume`` without Celery beat, and for benchmarks.
Runs beside beat's task without harm: one runner counts at a time, each batch once."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from ecrm.aggregates_pending import pending_apply


class Command(BaseCommand):
    help = "Count pending tracking batches into the daily aggregates (once, or every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, help="keep going, this many seconds between runs")

    def handle(self, *args, every=None, **options):
        if every is not None and not 0.1 <= every <= 3600:
            raise CommandError("--every must be between 0.1 and 3600 seconds")
        while True:
            started = time.monotonic()
            counted = pending_apply()
            if every is None:
                self.stdout.write(f"{counted} events counted into the daily aggregates.")
                return
            if options["verbosity"] > 1 and counted:
                self.stdout.write(f"{counted} events counted in {time.monotonic() - started:.2f} s")
            time.sleep(max(0.0, every - (time.monotonic() - started)))
