"""``manage.py shop_seed_demo --seed 42``: build the deterministic demo store.

Same seed and end date, same store. Re-running adds nothing; a larger
``--customers`` adds only the new customers (and their share of visitors).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oscar.core.loading import get_model

from shop.demo.accounts import CUSTOMER_PASSWORD, format_logins
from shop.demo.generate import generate_catalogue, generate_customer
from shop.demo.simulation import Catalogue, Shopper, simulate_shopper
from shop.demo.sink import StoreSink
from shop.demo import store
from shop.pages.setup import ensure_demo_storefront

BATCH = 50
VISITOR_OFFSET = 1_000_000  # visitors draw tastes from their own streams
VISITOR_EVERY = 3  # one anonymous-only visitor per three customers


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if value < minimum:
        raise CommandError(f"--{name} must be at least {minimum} (got {value}).")
    return value


class Command(BaseCommand):
    help = "Build a realistic, deterministic demo store (catalogue, customers, 180 days of behaviour)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--days", type=int, default=180)
        parser.add_argument("--products", type=int, default=600)
        parser.add_argument("--end-date", help="last simulated day, YYYY-MM-DD (default: today, UTC)")

    def handle(self, *args, **options):
        started = time.monotonic()
        seed = options["seed"]
        customers = _positive("customers", options["customers"], 0)
        days = _positive("days", options["days"])
        products = _positive("products", options["products"], 24)
        end = self._end(options["end_date"])
        start = end - timedelta(days=days)
        self.say(f"Demo store: seed {seed}, {products} products, {customers} customers, "
                 f"{days} days from {start:%Y-%m-%d} to {end:%Y-%m-%d}.")

        specs = generate_catalogue(seed, products)
        self._check_same_seed(seed, specs)
        with transaction.atomic():
            store.ensure_countries()
            store.ensure_staff()
            products_by_upc, new_products = store.ensure_catalogue(specs)
        if new_products:
            self.say(f"Catalogue: {new_products} new products; indexing them for search…")
            call_command("update_index", "catalogue", verbosity=0)

        catalogue = Catalogue(specs)
        sink = StoreSink(products_by_upc)
        created = 0
        for first in range(0, customers, BATCH):
            batch = [generate_customer(seed, i, specs, days)
                     for i in range(first, min(first + BATCH, customers))]
            with transaction.atomic():
                users = store.create_customers(batch, start=start)
                for spec in batch:
                    if spec.index not in users:
                        continue  # seeded by an earlier run, with all its behaviour
                    events = simulate_shopper(seed, Shopper(f"c{spec.index}", spec, spec), catalogue,
                                              start=start, days=days)
                    sink.apply(events, user=users[spec.index], customer=spec,
                               anonymous_id=f"demo-c{spec.index}")
                    if spec.index % VISITOR_EVERY == 0:
                        self._visit(seed, spec.index // VISITOR_EVERY, specs, catalogue, sink,
                                    start, days)
                    created += 1
            done = min(first + BATCH, customers)
            if created and (done * 10 // customers) != (first * 10 // customers) or done == customers:
                self.say(f"  customers {done}/{customers} ({done * 100 // max(customers, 1)}%), "
                         f"{sink.counts['orders']} new orders, {time.monotonic() - started:.0f} s")
        with transaction.atomic():
            store.restock(specs)
        # The storefront: segments, a promotion, the home page arranged, a landing page.
        ensure_demo_storefront()
        self._summary(sink, created, time.monotonic() - started)

    def _visit(self, seed, index, specs, catalogue, sink, start, days) -> None:
        """An anonymous visitor who never signs in: browses, sometimes leaves a basket."""
        tastes = generate_customer(seed, VISITOR_OFFSET + index, specs, days)
        events = simulate_shopper(seed, Shopper(f"v{index}", None, tastes), catalogue,
                                  start=start, days=days)
        sink.apply(events, anonymous_id=f"demo-v{index}")

    def _end(self, raw: str | None) -> datetime:
        if raw is None:
            day = datetime.now(timezone.utc).date()
        else:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                raise CommandError(f"--end-date {raw!r} is not a date like 2026-11-22.") from None
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)

    def _check_same_seed(self, seed: int, specs) -> None:
        Product = get_model("catalogue", "Product")
        first = Product.objects.filter(upc=specs[0].upc).values_list("title", flat=True).first()
        if first is not None and first != specs[0].title:
            raise CommandError(
                f"This database was seeded with another --seed (product {specs[0].upc} is "
                f"{first!r}). Use the same seed, or start from an empty database."
            )

    def _summary(self, sink: StoreSink, created: int, elapsed: float) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models import Count

        Order = get_model("order", "Order")
        Basket = get_model("basket", "Basket")
        Category = get_model("catalogue", "Category")
        Product = get_model("catalogue", "Product")
        statuses = dict(Order.objects.values_list("status").annotate(n=Count("id")).order_by())
        abandoned = Basket.objects.filter(status=Basket.OPEN, lines__isnull=False).distinct().count()
        customers = get_user_model().objects.filter(is_staff=False).count()
        self.say("")
        self.say(f"Done in {elapsed:.0f} s. This run: {created} new customers, {sink.counts['sessions']} "
                 f"sessions, {sink.counts['views']} product views, {sink.counts['searches']} searches, "
                 f"{sink.counts['basket_additions']} basket additions, {sink.counts['orders']} orders.")
        self.say(f"The store: {Product.objects.count()} products in {Category.objects.count()} "
                 f"categories, {customers} customers, {sum(statuses.values())} orders "
                 f"({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}), "
                 f"{abandoned} open baskets with items.")
        self.say("Staff logins:\n" + format_logins())
        self.say(f"Customers sign in with their e-mail and the password {CUSTOMER_PASSWORD}.")

    def say(self, message: str) -> None:
        if self.verbosity > 0:  # noqa: set by BaseCommand.execute
            self.stdout.write(message)

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        return super().execute(*args, **options)
