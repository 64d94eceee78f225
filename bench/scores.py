"""Scoring the store's customers at shop scale: RFM and CLV for 100,000 customers.

Generates 100,000 customers (60,000 accounts ``sbench-<n>`` and 40,000 guests
``sbench-g<n>@example.invalid``) and their orders over two years with PostgreSQL
``COPY``: everyone's first order on a day spread over the two years, and repeat orders
after it for about half of them (a geometric number, a few customers with dozens; 2 %
of orders cancelled), about 250,000 orders in all. Their profiles are created in bulk
from the orders (order count, revenue, average order value and last order, as
``ecrm.services.profiles_refresh`` computes them), then it times scoring them all,
once each (the nightly task's work):

* RFM: ``ecrm.scores.rfm_refresh`` (quintiles and groups written to every profile);
* CLV: ``ecrm.scores.clv_refresh`` (every order read with its customer resolved,
  BG/NBD and Gamma-Gamma fitted, every customer's predictions written back, and the
  holdout fit), with its parts timed separately as well;

against a baseline measured in the same run: reading the (id, user, e-mail, date, total)
row of every order once, which CLV cannot do without. Goal: RFM plus CLV under 30 s.

Everything generated is deleted afterwards (with the fits the run recorded), as are
leftovers of an interrupted run; still, prefer a throwaway database (``--migrate`` on one).
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta, timezone

from bench.common import copy_rows

PREFIX = "sbench"
USERS, GUESTS, HISTORY_DAYS, GOAL_SECONDS = 60_000, 40_000, 730, 30.0
NOW = datetime.now(timezone.utc)
PRICES = [4, 12, 30, 75, 150, 400]


def _orders_of(rng: random.Random, customer: int, users: list[int], site: int):
    """A customer's orders: the first one, then (for about half) repeats after it."""
    first = NOW - timedelta(days=rng.random() * HISTORY_DAYS)
    repeats = 0
    if rng.random() < 0.5:
        repeats = 1 + int(rng.expovariate(1 / 2.0))  # mean ~2.5, a long tail
        if rng.random() < 0.01:  # a few very loyal customers
            repeats += rng.randint(20, 60)
    dates = [first] + sorted(first + (NOW - first) * rng.random() for _ in range(repeats))
    user, email = (users[customer], "") if customer < USERS else (None, f"{PREFIX}-g{customer - USERS}@example.invalid")
    base = rng.choice(PRICES)  # customers have a typical spend
    for n, placed in enumerate(dates):
        total = base * rng.randint(1, 3)
        yield (f"{PREFIX}-{customer}-{n}", "GBP", f"{total:.2f}", f"{total / 1.2:.2f}", "0.00", "0.00", "Free",
               "free", "Cancelled" if rng.random() < 0.02 else "Complete", email, placed, user, site, False)


def _generate(rng: random.Random) -> int:
    from django.contrib.sites.models import Site
    from django.db import connection

    started = time.monotonic()
    copy_rows("auth_user", ["password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
                        "is_active", "date_joined"],
          (("!", False, f"{PREFIX}-{n}", "", "", f"{PREFIX}-{n}@example.invalid", False, True, NOW)
           for n in range(USERS)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM auth_user WHERE username LIKE %s ORDER BY id", [f"{PREFIX}-%"])
        users = [row[0] for row in cursor.fetchall()]
    site = Site.objects.get_current().pk
    copy_rows("order_order", ["number", "currency", "total_incl_tax", "total_excl_tax", "shipping_incl_tax",
                          "shipping_excl_tax", "shipping_method", "shipping_code", "status", "guest_email",
                          "date_placed", "user_id", "site_id", "analytics_tracked"],
          (row for customer in range(USERS + GUESTS) for row in _orders_of(rng, customer, users, site)))
    with connection.cursor() as cursor:
        # Profiles as profiles_refresh computes their order figures (every order of the
        # person, cancelled ones included), in one statement.
        cursor.execute("""
            INSERT INTO ecrm_profile (person_key, user_id, email, phone, first_name, last_name, traits,
                session_count, product_views, basket_adds, order_count, revenue, average_order_value,
                last_order_at, favourite_categories, favourite_brands, first_touch, last_touch, devices,
                region, rfm_group, refreshed_at, first_seen_at, last_seen_at)
            SELECT person, MAX(o.user_id), MAX(COALESCE(u.email, o.guest_email)), '', '', '', '{}',
                0, 0, 0, COUNT(*), SUM(o.total_incl_tax), ROUND(SUM(o.total_incl_tax) / COUNT(*), 2),
                MAX(o.date_placed), '[]', '[]', '{}', '{}', '[]', '', '', NOW(), MIN(o.date_placed),
                MAX(o.date_placed)
            FROM (SELECT order_order.*, CASE WHEN user_id IS NULL THEN 'email:' || LOWER(guest_email)
                                             ELSE user_id::text END AS person
                  FROM order_order WHERE number LIKE %s) o LEFT JOIN auth_user u ON u.id = o.user_id
            GROUP BY person""", [f"{PREFIX}-%"])
        profiles = cursor.rowcount
        cursor.execute("VACUUM (ANALYZE) auth_user, order_order, ecrm_profile")
    print(f"  generated in {time.monotonic() - started:.1f} s", flush=True)
    return profiles


def _person_keys_sql() -> str:
    return ("SELECT id::text FROM auth_user WHERE username LIKE %(p)s "
            "UNION ALL SELECT 'email:' || LOWER(guest_email) FROM order_order "
            "WHERE number LIKE %(p)s AND user_id IS NULL")


def _cleanup(fits: list[int] = ()) -> None:
    """Delete what a run generated (children first; FKs are deferred, so raw SQL)."""
    from django.db import connection, transaction

    like = {"p": f"{PREFIX}-%"}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM ecrm_profile WHERE person_key IN ({_person_keys_sql()})", like)
        cursor.execute("DELETE FROM order_order WHERE number LIKE %(p)s", like)
        cursor.execute("DELETE FROM auth_user WHERE username LIKE %(p)s", like)
        if fits:
            cursor.execute("DELETE FROM ecrm_scorefit WHERE id = ANY(%s)", [list(fits)])


def _clv_parts(today) -> dict[str, float]:
    """The parts of ``clv_refresh`` before its writes, each timed (in a second run, after
    the timed one): what the whole is made of."""
    from ecrm.clv import fit_models, predictions, summarise
    from ecrm.defaults import setting
    from ecrm.scores import store_purchases

    parts, started = {}, time.perf_counter()
    purchases = store_purchases()
    parts["orders read and resolved to customers"] = time.perf_counter() - started
    started = time.perf_counter()
    summary = summarise(purchases, today)
    parts["per-customer summary"] = time.perf_counter() - started
    started = time.perf_counter()
    fitted = fit_models(summary)
    parts["BG/NBD + Gamma-Gamma fit"] = time.perf_counter() - started
    started = time.perf_counter()
    predictions(fitted, horizon_months=setting("ECRM_CLV_HORIZON_MONTHS"),
                discount_rate=setting("ECRM_CLV_DISCOUNT_RATE"))
    parts["per-customer predictions"] = time.perf_counter() - started
    return parts


def run(*, requests: int) -> int:
    from django.db import connection
    from django.utils.timezone import localdate
    from oscar.core.loading import get_model

    from ecrm.models import Profile
    from ecrm.scores import clv_refresh, rfm_refresh

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (COPY): run it with DATABASE_URL set to a PostgreSQL database")
        return 2
    Order = get_model("order", "Order")
    _cleanup()
    fits, parts = [], {}
    try:
        print(f"Generating {USERS + GUESTS:,} customers with their orders and profiles…", flush=True)
        profiles = _generate(random.Random(42))
        orders = Order.objects.count()
        baselines = []
        for _ in range(3):
            started = time.perf_counter()
            list(Order.objects.values_list("pk", "user_id", "guest_email", "date_placed", "total_incl_tax")
                 .iterator(chunk_size=5000))
            baselines.append(time.perf_counter() - started)
        baseline = statistics.median(baselines)
        started = time.perf_counter()
        scored_rfm = rfm_refresh()
        rfm = time.perf_counter() - started
        started = time.perf_counter()
        fit = clv_refresh()
        clv = time.perf_counter() - started
        fits.append(fit.pk)
        if fit.error:
            print(f"CLV fit failed: {fit.error}")
            return 1
        scored_clv = Profile.objects.filter(probability_alive__isnull=False).count()
        parts = _clv_parts(localdate())
    finally:
        started = time.monotonic()
        _cleanup(fits)
        print(f"  generated data deleted in {time.monotonic() - started:.1f} s", flush=True)
    print(f"{profiles:,} customers with {orders:,} orders in the store; RFM scored {scored_rfm:,} profiles, "
          f"CLV {scored_clv:,} ({fit.customers:,} customers fitted)")
    print(f"baseline (every order's row read once): {baseline:.2f} s")
    print(f"{'what':<48}{'seconds':>9}{'ratio':>8}")
    for label, seconds in (("RFM (rfm_refresh)", rfm), ("CLV (clv_refresh)", clv),
                           *((f"  of which: {name}", seconds) for name, seconds in parts.items()),
                           ("  the rest (profiles written, holdout fit)", clv - sum(parts.values())),
                           ("RFM + CLV", rfm + clv)):
        print(f"{label:<48}{seconds:>9.2f}{seconds / baseline:>8.1f}")
    print(f"goal: RFM + CLV under {GOAL_SECONDS:.0f} s: {'met' if rfm + clv < GOAL_SECONDS else 'NOT met'}")
    return 0
