"""``manage.py ecrm_rebuild_aggregates --from YYYY-MM-DD --to YYYY-MM-DD`` (or ``--days N``):
recompute the reports' daily aggregates for those days from tracking's sessions and events;
``--customers`` (alone or with a range): every order's resolved customer, which the
Customers report reads (``ecrm.customer_orders``).

The aggregates are kept current batch by batch (``ecrm.aggregates_pending``), the
customers order by order; rebuild a range after a retention purge, a replay of old
events, or to credit first touches with identity links learnt since, and the customers
after loading orders or links outside the store (SQL, a migration). Days are local dates
in ``TIME_ZONE``; each rebuild is one transaction, so the reports show either the old
figures or the new ones, and consumers storing events meanwhile do not wait for it.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from ecrm.aggregates import aggregates_rebuild
from ecrm.customer_orders import customer_orders_refresh

MAX_DAYS = 3660


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option} {text!r} is not a date: write YYYY-MM-DD") from None


class Command(BaseCommand):
    help = "Recompute the daily traffic, product and funnel aggregates for a range of days."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument("--days", type=int, help="the last N days, today included (instead of --from)")
        parser.add_argument("--customers", action="store_true",
                            help="also (or only, without a range) every order's resolved customer")

    def handle(self, *args, first=None, last=None, days=None, customers=False, **options):
        today = timezone.localdate()
        if days is not None and first is not None:
            raise CommandError("give either --days or --from, not both")
        if customers:
            started = time.monotonic()
            with transaction.atomic():
                written = customer_orders_refresh()
            self.stdout.write(f"Customers of {written} orders resolved in {time.monotonic() - started:.1f} s.")
            if days is None and first is None:
                return
        if days is None and first is None:
            raise CommandError("say which days: --from YYYY-MM-DD [--to YYYY-MM-DD], or --days N, "
                               "or --customers")
        last_day = _date(last, "--to") if last else today
        if days is not None:
            if not 1 <= days <= MAX_DAYS:
                raise CommandError(f"--days must be between 1 and {MAX_DAYS}")
            first_day = last_day - timedelta(days=days - 1)
        else:
            first_day = _date(first, "--from")
        if first_day > last_day:
            raise CommandError(f"--from {first_day} is after --to {last_day}")
        if (last_day - first_day).days >= MAX_DAYS:
            raise CommandError(f"at most {MAX_DAYS} days at a time")
        started = time.monotonic()
        totals = aggregates_rebuild(first_day, last_day)
        self.stdout.write(f"Aggregates for {first_day} to {last_day} rebuilt in {time.monotonic() - started:.1f} s: "
                          f"{totals.get('sessions', 0)} sessions, {totals.get('orders', 0)} orders, "
                          f"{totals.get('product_sessions', 0)} product views and adds by session.")
