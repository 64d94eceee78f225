"""The Customers report and the KPI digest at shop scale: 100,000 orders of 40,000 customers.

Generates customers (Django users ``cbench-<n>`` and guests ``cbench-g<n>@example.invalid``,
a few thousand of those guests claimed by an account through an e-mail identity link),
their orders over two years (one line each, on the store's products when it has some),
and 200,000 sessions, with PostgreSQL ``COPY``; resolves every order's customer into
``CustomerOrder`` as ``ecrm_rebuild_aggregates --customers`` does (timed: the rows are
kept incrementally in production); then times
``ecrm.dashboard.customer_report_views.customers_report`` (a year, twelve monthly
cohorts) and the digest's figures (daily and weekly, as the hourly task computes them),
both from those rows, against the same figures computed directly (every order read and
resolved at query time, ``direct=True`` / ``store_orders``), checking they agree, and
against a baseline measured in the same run: reading the (id, user, e-mail, date,
total) row of every order. Medians of three runs each.

Everything generated is deleted afterwards, as are leftovers of an interrupted run;
still, prefer a throwaway database (``make bench``).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from bench.common import copy_rows

PREFIX = "cbench"
USERS, GUESTS, CLAIMED, ORDERS, SESSIONS, RUNS = 24_000, 16_000, 2_000, 100_000, 200_000, 3
NOW = datetime.now(timezone.utc)
PRICES = [4, 12, 30, 75, 150, 400]


def _generate(rng: random.Random) -> None:
    from django.contrib.sites.models import Site
    from django.db import connection
    from oscar.core.loading import get_model

    started = time.monotonic()
    copy_rows("auth_user", ["password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
                        "is_active", "date_joined"],
          (("!", False, f"{PREFIX}-{n}", "", "", f"{PREFIX}-{n}@example.invalid", False, True, NOW)
           for n in range(USERS)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM auth_user WHERE username LIKE %s ORDER BY id", [f"{PREFIX}-%"])
        users = [row[0] for row in cursor.fetchall()]
    copy_rows("tracking_identitylink", ["kind", "identifier", "user_id", "first_seen_at", "via"],
          (("email", f"{PREFIX}-g{n}@example.invalid", str(users[n]), NOW, PREFIX) for n in range(CLAIMED)))
    site = Site.objects.get_current().pk
    customers = USERS + GUESTS

    def orders():
        for n in range(ORDERS):
            # Half the orders from a few loyal customers (Pareto-like), half from anyone.
            c = (int(rng.paretovariate(1.2)) - 1) % customers if rng.random() < 0.5 else rng.randrange(customers)
            total = rng.choice(PRICES) * rng.randint(1, 3)
            user, email = (users[c], "") if c < USERS else (None, f"{PREFIX}-g{c - USERS}@example.invalid")
            yield (f"{PREFIX}-{n}", "GBP", f"{total:.2f}", f"{total / 1.2:.2f}", "0.00", "0.00", "Free", "free",
                   "Cancelled" if n % 50 == 0 else "Complete", email,
                   NOW - timedelta(days=rng.random() * 730), user, site, False)

    copy_rows("order_order", ["number", "currency", "total_incl_tax", "total_excl_tax", "shipping_incl_tax",
                          "shipping_excl_tax", "shipping_method", "shipping_code", "status", "guest_email",
                          "date_placed", "user_id", "site_id", "analytics_tracked"], orders())
    products = list(get_model("catalogue", "Product").objects.values_list("pk", flat=True)[:500]) or [None]
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, total_incl_tax FROM order_order WHERE number LIKE %s", [f"{PREFIX}-%"])
        placed = cursor.fetchall()
    copy_rows("order_line", ["order_id", "partner_name", "partner_sku", "partner_line_reference", "partner_line_notes",
                         "title", "quantity", "line_price_incl_tax", "line_price_excl_tax",
                         "line_price_before_discounts_incl_tax", "line_price_before_discounts_excl_tax",
                         "unit_price_incl_tax", "status", "product_id", "allocation_cancelled", "num_allocated"],
          ((pk, "bench", "", "", "", "bench line", 1, total, total, total, total, total, "", rng.choice(products),
            False, 0) for pk, total in placed))
    copy_rows("tracking_session", ["key", "visitor", "user_id", "started_at", "last_event_at", "entry_path", "source",
                               "medium", "campaign", "referrer_domain", "search_terms", "page_count", "event_count",
                               "converted", "device"],
          ((f"{PREFIX}-{n}", f"{PREFIX}-v{n}", "", NOW - timedelta(minutes=n), NOW - timedelta(minutes=n), "/",
            "direct", "none", "", "", "", 3, 5, n % 30 == 0, "desktop") for n in range(SESSIONS)))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) auth_user, order_order, order_line, tracking_identitylink, tracking_session")
    print(f"  generated in {time.monotonic() - started:.1f} s", flush=True)


def _cleanup() -> None:
    """Delete what a run generated (children first; FKs are deferred, so raw SQL)."""
    from django.db import connection, transaction

    orders = "SELECT id FROM order_order WHERE number LIKE %s"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM order_line WHERE order_id IN ({orders})", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM order_order WHERE number LIKE %s", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM ecrm_customerorder WHERE order_id NOT IN (SELECT id FROM order_order)")
        cursor.execute("DELETE FROM tracking_session WHERE key LIKE %s", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM tracking_identitylink WHERE via = %s", [PREFIX])
        cursor.execute("DELETE FROM auth_user WHERE username LIKE %s", [f"{PREFIX}-%"])


def _median_seconds(function) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(*, requests: int) -> int:
    from django.db import connection
    from django.utils import timezone as tz
    from oscar.core.loading import get_model

    from ecrm.customer_orders import customer_orders_refresh
    from ecrm.customer_reports import store_orders
    from ecrm.dashboard.customer_report_views import customers_report
    from ecrm.digest import digest_content, period_ending

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (COPY): run `make bench` or set DATABASE_URL to a PostgreSQL database")
        return 2
    Order = get_model("order", "Order")
    _cleanup()
    try:
        print(f"Generating {USERS + GUESTS:,} customers, {ORDERS:,} orders and {SESSIONS:,} sessions…", flush=True)
        _generate(random.Random(42))
        total = Order.objects.count()
        started = time.perf_counter()
        customer_orders_refresh()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) ecrm_customerorder")
        resolved = time.perf_counter() - started
        baseline = _median_seconds(lambda: list(Order.objects.values_list(
            "pk", "user_id", "guest_email", "date_placed", "total_incl_tax").iterator(chunk_size=5000)))
        now = tz.now()
        report = _median_seconds(lambda: customers_report(days=365, months=12, now=now))
        direct = _median_seconds(lambda: customers_report(days=365, months=12, now=now, direct=True))
        same = customers_report(days=365, months=12, now=now) == customers_report(days=365, months=12, now=now,
                                                                                  direct=True)
        today = tz.localdate()
        digest = _median_seconds(lambda: [digest_content(frequency, today) for frequency in ("daily", "weekly")])

        def digests_direct():
            purchases = store_orders(until=period_ending("daily", today).until)
            return [digest_content(frequency, today, purchases) for frequency in ("daily", "weekly")]

        digest_direct = _median_seconds(digests_direct)
        same = same and [digest_content(f, today) for f in ("daily", "weekly")] == digests_direct()
    finally:
        started = time.monotonic()
        _cleanup()
        print(f"  generated data deleted in {time.monotonic() - started:.1f} s", flush=True)
    print(f"{total:,} orders in the store; baseline (every order's row read): {baseline:.2f} s; every order's "
          f"customer resolved into CustomerOrder (the rebuild) in {resolved:.1f} s")
    print(f"{'what':<50}{'seconds':>9}{'ratio':>8}")
    for label, seconds in (("Customers report (365 days, 12 cohorts)", report),
                           ("  the same, every order resolved per request", direct),
                           ("KPI digest figures (daily + weekly)", digest),
                           ("  the same, every order resolved per request", digest_direct)):
        print(f"{label:<50}{seconds:>9.2f}{seconds / baseline:>8.1f}")
    print(f"report under 1 s: {'met' if report < 1 else 'NOT met'}; same figures both ways: {'yes' if same else 'NO'}")
    return 0 if same else 1
