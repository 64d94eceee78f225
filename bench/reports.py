"""The marketing reports at shop scale: 1,000,000 events and 100,000 orders over 180 days.

Generates 200,000 sessions of five events each (half of them ending in an order, by
50,000 customers who each browse from about three devices), 300 products in 10
categories, with PostgreSQL ``COPY``; builds the daily aggregates from scratch with
``aggregates_rebuild`` (timed); then, for 30 and 180 days, renders each report page
(traffic and campaigns, product conversion, default funnel) as a marketer and times it
against the same report computed by a naive query over the raw sessions and events in
the same run (the ratio), checking both give the same numbers. Goal: every page < 1 s.
It also times what keeping the aggregates costs the tracking consumer: ``store`` of a
500-event batch with the aggregates' receiver (which only records the batch as pending)
and without it, interleaved; and what counting those batches costs the worker that does
it off the consumer's path (``ecrm.aggregates_pending.pending_apply``).

Everything generated is prefixed ``rbench`` and deleted afterwards (the aggregates of the
days touched are rebuilt from what is left), so prefer a throwaway database (``make bench``).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import timedelta

from bench.common import copy_rows

PREFIX = "rbench"
SESSIONS, ORDERS, CUSTOMERS, VISITORS, PRODUCTS, HISTORY_DAYS = 200_000, 100_000, 50_000, 150_000, 300, 180
TARGET_MS = 1000
CHANNELS = [("google", "organic", "", "google.com"), ("bing", "organic", "", "bing.com"), ("direct", "none", "", ""),
            ("newsletter", "email", "spring-sale", ""), ("newsletter", "email", "weekly", ""),
            ("facebook", "social", "launch", "facebook.com"), ("instagram", "social", "creators", "instagram.com"),
            ("google", "cpc", "brand", "google.com"), ("google", "cpc", "generic-pans", "google.com"),
            ("blog.example.org", "referral", "", "blog.example.org"), ("reddit.com", "referral", "", "reddit.com")]


def _products(rng: random.Random) -> list[str]:
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model

    Product, ProductClass = get_model("catalogue", "Product"), get_model("catalogue", "ProductClass")
    ProductCategory = get_model("catalogue", "ProductCategory")
    product_class, _ = ProductClass.objects.get_or_create(name=f"{PREFIX} goods", defaults={"slug": f"{PREFIX}-goods"})
    products = Product.objects.bulk_create([
        Product(title=f"{PREFIX} product {n}", slug=f"{PREFIX}-product-{n}", upc=f"{PREFIX}-{n}",
                structure="standalone", product_class=product_class, is_public=True) for n in range(PRODUCTS)])
    categories = [create_from_breadcrumbs(f"{PREFIX} shop > {PREFIX} category {n}") for n in range(10)]
    ProductCategory.objects.bulk_create([ProductCategory(product=p, category=categories[i % 10])
                                         for i, p in enumerate(products)])
    return [str(p.pk) for p in products]


def _generate(rng: random.Random, now) -> None:
    from django.db import connection

    started = time.monotonic()
    products = _products(rng)
    pages = [f"/catalogue/{PREFIX}-product-{n}_{n}/" for n in range(200)] + ["/", "/offers/", "/blog/"]
    terms = [f"cast iron {word}" for word in ("pan", "skillet", "pot", "grill", "wok")] + [f"term {n}" for n in range(400)]
    ordering = set(rng.sample(range(SESSIONS), ORDERS))
    sessions, events, links = [], [], {}
    for n in range(SESSIONS):
        visitor = rng.randrange(VISITORS)
        anon, customer = f"{PREFIX}-v{visitor}", f"{PREFIX}-u{visitor % CUSTOMERS}"
        start = now - timedelta(seconds=rng.randrange(HISTORY_DAYS * 86400 - 3600))
        source, medium, campaign, referrer = rng.choice(CHANNELS)
        term = rng.choice(terms) if medium == "organic" and rng.random() < 0.3 else ""
        key = f"{PREFIX}{n:014d}"
        user = customer if n in ordering else ""
        if n in ordering:
            chosen = rng.sample(products, rng.randint(1, 3))
            names = [("Product Viewed", {"product_id": chosen[0]}), ("Product Added", {"product_id": chosen[0]}),
                     ("Cart Viewed", {}), ("Checkout Started", {}),
                     ("Order Completed", {"order_id": f"{PREFIX}-{n}", "total": round(rng.uniform(5, 500), 2),
                                          "products": [{"product_id": p} for p in chosen]})]
            links[(anon, customer)] = start
        else:
            names = [("", {})] + [("Product Viewed", {"product_id": rng.choice(products)}) for _ in range(3)]
            names.append(("Product Added", {"product_id": names[-1][1]["product_id"]}) if rng.random() < 0.5
                         else ("Product Viewed", {"product_id": rng.choice(products)}))
        for i, (name, properties) in enumerate(names):
            when = start + timedelta(seconds=40 * i)
            events.append((f"{PREFIX}-{n}-{i}", "track" if name else "page", name, "", anon,
                           user if name == "Order Completed" else "", key, when, when, "browser",
                           json.dumps({"page": {"path": rng.choice(pages)}}), json.dumps(properties), "{}", when))
        sessions.append((key, anon, user, start, start + timedelta(seconds=160), rng.choice(pages), source, medium,
                         campaign, referrer, term, 1, 5, n in ordering, rng.choice(("desktop", "mobile", "tablet"))))
    print(f"  {len(sessions):,} sessions, {len(events):,} events drawn in {time.monotonic() - started:.1f} s", flush=True)
    copy_rows("tracking_session", ["key", "visitor", "user_id", "started_at", "last_event_at", "entry_path", "source",
                               "medium", "campaign", "referrer_domain", "search_terms", "page_count", "event_count",
                               "converted", "device"], sessions)
    copy_rows("tracking_event", ["message_id", "type", "event", "name", "anonymous_id", "user_id", "session_id",
                             "timestamp", "received_at", "source", "context", "properties", "traits", "stored_at"],
          events)
    copy_rows("tracking_identitylink", ["kind", "identifier", "user_id", "first_seen_at", "via"],
          (("anonymous", anon, user, when, PREFIX) for (anon, user), when in links.items()))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) tracking_session, tracking_event, tracking_identitylink")
    print(f"  copied and analysed at {time.monotonic() - started:.1f} s", flush=True)


def _cleanup() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    get_user_model().objects.filter(username=f"{PREFIX}-staff").delete()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_event WHERE message_id LIKE %s", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM tracking_session WHERE key LIKE %s OR visitor LIKE %s", [f"{PREFIX}%", f"{PREFIX}-%"])
        cursor.execute("DELETE FROM tracking_identitylink WHERE via = %s", [PREFIX])
        cursor.execute("DELETE FROM catalogue_productcategory WHERE product_id IN "
                       "(SELECT id FROM catalogue_product WHERE upc LIKE %s)", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM catalogue_product WHERE upc LIKE %s", [f"{PREFIX}-%"])
        cursor.execute("DELETE FROM catalogue_productclass WHERE slug = %s", [f"{PREFIX}-goods"])
        cursor.execute("DELETE FROM catalogue_category WHERE name LIKE %s", [f"{PREFIX} %"])


def _consumer_cost(now, rounds: int = 20, batch: int = 500) -> tuple[float, float, float]:
    """The tracking consumer's ``store`` of a batch (as in ``bench/pipeline.py``: 5,000
    visitors browsing) with the aggregates' receiver and without it, interleaved: p50 ms
    each; then the worker's count of the batches recorded as pending: ms per batch."""
    from django.utils import timezone

    from ecrm.aggregates_pending import pending_apply
    from ecrm.models import PendingAggregates
    from ecrm.receivers import queue_stored_events_for_the_daily_aggregates
    from tracking.consumer import store
    from tracking.messages import normalise
    from tracking.signals import events_stored

    rng, start, n = random.Random(11), now - timedelta(hours=2), 0
    names = ["Product Viewed"] * 6 + ["Product List Viewed"] * 2 + ["Product Added", "Cart Viewed"]
    timings = {True: [], False: []}
    for round_number in range(rounds):
        for counted in ((True, False) if round_number % 2 else (False, True)):
            entries = []
            for _ in range(batch):
                n += 1
                message = normalise({"type": "track", "event": rng.choice(names), "messageId": f"{PREFIX}-c{n}",
                                     "anonymousId": f"{PREFIX}-cv{rng.randrange(5000)}",
                                     "timestamp": (start + timedelta(milliseconds=200 * n)).isoformat(),
                                     "properties": {"product_id": str(rng.randrange(300))},
                                     "context": {"page": {"path": "/catalogue/"}}}, received_at=timezone.now())
                message.update(source="browser", write_key_id=None)
                entries.append((b"0-0", {b"m": json.dumps(message).encode()}))
            if not counted:
                events_stored.disconnect(dispatch_uid="ecrm.events_stored.aggregates")
            try:
                began = time.perf_counter()
                store(entries)
                timings[counted].append((time.perf_counter() - began) * 1000)
            finally:
                events_stored.connect(queue_stored_events_for_the_daily_aggregates,
                                      dispatch_uid="ecrm.events_stored.aggregates")
    batches = PendingAggregates.objects.count()
    began = time.perf_counter()
    pending_apply()
    applied = (time.perf_counter() - began) * 1000 / max(1, batches)
    return statistics.median(timings[True][2:]), statistics.median(timings[False][2:]), applied


def _median_ms(function, repeat: int) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


def run(*, requests: int) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from ecrm.aggregates import aggregates_rebuild, day_bounds, default_funnel
    from ecrm.dashboard.report_views import report_period
    from ecrm.funnel_data import funnel_traces
    from ecrm.funnels import DEFAULT_STEPS, funnel
    from ecrm.product_conversion import product_conversion, product_conversion_raw
    from ecrm.traffic import traffic_rows, traffic_rows_raw

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (COPY): run `make bench` or set DATABASE_URL to a PostgreSQL database")
        return 2
    rng, now = random.Random(7), timezone.now()
    first_day, last_day = report_period(HISTORY_DAYS)
    _cleanup()
    rows, with_aggregates, without, counting = [], 0.0, 1.0, 0.0
    try:
        print(f"Generating {SESSIONS:,} sessions with {SESSIONS * 5:,} events and {ORDERS:,} orders…", flush=True)
        _generate(rng, now)
        # Half its batches go uncounted (the receiver is off): the rebuild below counts them.
        with_aggregates, without, counting = _consumer_cost(now)
        started = time.monotonic()
        totals = aggregates_rebuild(first_day, last_day)
        print(f"  aggregates rebuilt from scratch for {HISTORY_DAYS} days in {time.monotonic() - started:.1f} s "
              f"({totals})", flush=True)
        client = Client()
        client.force_login(get_user_model().objects.create_superuser(f"{PREFIX}-staff", f"{PREFIX}@example.com", "x"))
        repeat = max(3, min(requests, 7))
        for days in (30, 180):
            first, last = report_period(days)
            since, _until = day_bounds(first, last)
            reports = [
                ("traffic by source", f"traffic/?dimension=source&days={days}",
                 lambda: traffic_rows("source", first, last), lambda: traffic_rows_raw("source", first, last), None),
                ("traffic by campaign", f"traffic/?dimension=campaign&days={days}",
                 lambda: traffic_rows("campaign", first, last), lambda: traffic_rows_raw("campaign", first, last), None),
                ("product conversion", f"products/?days={days}",
                 lambda: product_conversion(first, last), lambda: product_conversion_raw(first, last), None),
                ("default funnel", f"funnel/?days={days}", lambda: default_funnel(first, last),
                 lambda: funnel(funnel_traces(DEFAULT_STEPS, since, timezone.now(), ""), DEFAULT_STEPS),
                 lambda result: list(result.values())),
            ]
            for name, url, aggregated, naive, shape in reports:
                path = f"/dashboard/customers/support-desk/reports/{url}"
                assert client.get(path).status_code == 200  # warm up: templates, connection
                page_ms, _ = _median_ms(lambda: client.get(path), repeat)
                query_ms, fast = _median_ms(aggregated, repeat)
                naive_ms, slow = _median_ms(naive, 1 if days == 180 else 2)
                same = (shape or (lambda r: r))(fast) == (shape or (lambda r: r))(slow)
                rows.append((name, days, page_ms, query_ms, naive_ms, same))
    finally:
        started = time.monotonic()
        _cleanup()
        aggregates_rebuild(first_day, last_day)
        print(f"  generated data deleted, aggregates rebuilt without it in {time.monotonic() - started:.1f} s",
              flush=True)
    print(f"Reports over {SESSIONS * 5:,} events, {SESSIONS:,} sessions and {ORDERS:,} orders ({HISTORY_DAYS} days); "
          "page = the dashboard page rendered from the aggregates (median), naive = the same figures computed "
          "from the raw sessions and events")
    print(f"{'report':<22}{'days':>5}{'page ms':>10}{'query ms':>10}{'naive ms':>11}{'naive/page':>12}{'same':>6}")
    for name, days, page_ms, query_ms, naive_ms, same in rows:
        print(f"{name:<22}{days:>5}{page_ms:>10.1f}{query_ms:>10.1f}{naive_ms:>11.1f}{naive_ms / page_ms:>12.1f}"
              f"{'yes' if same else 'NO':>6}")
    print(f"tracking consumer, store() of a 500-event batch (5,000 visitors browsing): p50 {with_aggregates:.0f} ms "
          f"with the aggregates' receiver (the batch recorded as pending), {without:.0f} ms without "
          f"({with_aggregates / without:.2f}x); counting them off the consumer's path: {counting:.0f} ms a batch")
    slowest = max(page for _n, _d, page, *_ in rows)
    print(f"slowest page {slowest:.0f} ms (goal < {TARGET_MS} ms for every report: "
          f"{'met' if slowest < TARGET_MS else 'NOT met'}); all numbers agree: {all(r[-1] for r in rows)}")
    return 0 if all(r[-1] for r in rows) else 1
