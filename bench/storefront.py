"""Storefront page latency against a baseline page, in-process through the full stack.

The baseline renders Oscar's layout (same middleware, base template, basket
and navigation) with no page content, so each ratio says what a page's own
content costs. Requests are interleaved round-robin so that machine noise
falls on every page alike. Reads the store's database: run ``make seed`` first.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import percentile

MIN_PRODUCTS = 100


def _pages() -> dict[str, str] | None:
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    Category = get_model("catalogue", "Category")
    products = Product.objects.browsable().filter(is_public=True)
    if products.count() < MIN_PRODUCTS:
        return None
    product = products.order_by("id")[len(products) // 2]
    category = Category.objects.filter(depth=2).order_by("path").first() or Category.objects.first()
    return {
        "baseline (layout only)": "/__bench/baseline/",
        "home (Wagtail)": "/",
        "catalogue": "/catalogue/",
        "category": category.get_absolute_url(),
        "product": product.get_absolute_url(),
        "search": "/search/?q=steel",
        "content page": "/delivery/",
    }


def run(*, requests: int) -> int:
    pages = _pages()
    if pages is None:
        print(f"The store has fewer than {MIN_PRODUCTS} products: run `make seed` first.")
        return 2
    client = Client()
    timings: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    for name, url in pages.items():  # warm caches and templates; check the page works
        for _ in range(3):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            if response.status_code != 200:
                print(f"{name}: {url} answered {response.status_code}")
                return 1
        queries[name] = len(captured)
    for _ in range(requests):
        for name, url in pages.items():
            started = time.perf_counter()
            client.get(url)
            timings[name].append((time.perf_counter() - started) * 1000)
            reset_queries()

    base = statistics.median(timings["baseline (layout only)"])
    print(f"{requests} requests per page, {connection.vendor} database")
    print(f"{'page':<24}{'median ms':>10}{'p95 ms':>9}{'queries':>9}{'ratio':>8}")
    for name, values in timings.items():
        median = statistics.median(values)
        print(
            f"{name:<24}{median:>10.1f}{percentile(values, 0.95):>9.1f}"
            f"{queries[name]:>9}{median / base:>8.2f}"
        )
    return 0
