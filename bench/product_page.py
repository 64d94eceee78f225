"""The product page with its three recommendation slots — "Frequently bought together",
"You may also like" (up-sell) and "Recently viewed" — against the same page without them,
in-process through the full stack, in the same run (issue 8's goal: at most 1.15).

Both pages are Oscar's product view with the shop's template (which leaves out Oscar's own
"Recommended items" and "Products you recently viewed" lists: the slots replace them); the
baseline's template only empties the slots' block
(bench/templates/bench/product_without_slots.html). An anonymous visitor's slots are measured
both ways ``RECOMMENDER_SLOT_RENDERING`` allows: in the HTML ("inline"), and the HTML every
anonymous visitor shares ("deferred": bought together and up-sell in it, "Recently viewed"
as its fallback, "Popular right now") with, separately, the one fragment request that brings
the visitor's own. The signed-in customer has personal lists in the version and gets all
three inline. A version is trained on the store's data into a private Redis prefix first
(run ``make seed`` first), so the slots have real lists to walk. Pages are requested
round-robin (with and without, anonymous and signed in) over a sample of products so machine
noise falls on both alike; each page's slots, links and (warm) SQL queries are counted too.

Figures (``bench/run.py --only product_page``, 100 requests per page) are in
docs/benchmarks.md, with the machine's load average next to them.
"""

from __future__ import annotations

import random
import statistics
import time
from contextlib import nullcontext

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.common import percentile
from bench.trained import private_trained_version

PRODUCTS = 50
COUNTED = 10  # products whose pages' SQL queries are counted, after the warm-up


def _signed_in_customer(version) -> Client | None:
    """A client logged in as a customer the version has personal lists for."""
    from django.contrib.auth import get_user_model

    from recommender.publish import client, key

    people = [p for p in client().hkeys(key(version.pk, "for_you")) if p.isdigit()]
    user = get_user_model().objects.filter(pk__in=people[:50], is_active=True).order_by("pk").first()
    if user is None:
        return None
    browser = Client()
    browser.force_login(user)
    return browser


def _deferred_url(html: bytes) -> str | None:
    """The request recommender/deferred.js makes for a page's deferred slots (one, batched)."""
    import html as html_module
    import re
    from urllib.parse import urlencode

    found = re.findall(rb'data-ecrm-deferred-url="([^"]*)" data-ecrm-deferred="([^"]*)"', html)
    if not found:
        return None
    url = html_module.unescape(found[0][0].decode())
    return f"{url}{'&' if '?' in url else '?'}{urlencode([('f', html_module.unescape(key.decode())) for _u, key in found])}"


# (visitor, page): "no slots" is the baseline; anonymous visitors get the slots either in the
# HTML ("inline") or the shared fallback plus one fragment request ("deferred", the default).
PAGES = [("anonymous", "no slots"), ("anonymous", "3 slots, inline"), ("anonymous", "3 slots, deferred"),
         ("anonymous", "  + its fragment"), ("signed in", "no slots"), ("signed in", "3 slots")]


def run(*, requests: int) -> int:
    from django.test import override_settings
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    products = list(Product.objects.browsable().filter(is_public=True).order_by("pk"))
    if len(products) < 100:
        print("The store has fewer than 100 products: run `make seed` first.")
        return 2
    sample = random.Random(7).sample(products, PRODUCTS)
    try:
        with private_trained_version() as (version, _trained):
            visitors = {"anonymous": Client(), "signed in": _signed_in_customer(version)}
            visitors = {who: browser for who, browser in visitors.items() if browser is not None}
            pages = [(who, page) for who, page in PAGES if who in visitors]
            timings: dict[tuple[str, str], list[float]] = {page: [] for page in pages}
            slot_links: dict[tuple[str, str], int] = {}
            slot_counts: dict[tuple[str, str], int] = {}
            queries: dict[tuple[str, str], int] = {}

            def get(who: str, page: str, product, counting: bool = False) -> tuple[float, bytes, int]:
                """(milliseconds, content, status) of one request; the fragment after its page.
                ``counting``: its SQL queries are counted (not while timing)."""
                url = product.get_absolute_url() if page != "no slots" else \
                    f"/__bench/product-without-slots/{product.pk}/"
                rendering = "inline" if page == "3 slots, inline" else "deferred"
                if page == "  + its fragment":
                    with override_settings(RECOMMENDER_SLOT_RENDERING="deferred"):
                        url = _deferred_url(visitors[who].get(url).content)
                    if url is None:
                        raise RuntimeError("the deferred page has no deferred slot")
                with override_settings(RECOMMENDER_SLOT_RENDERING=rendering), \
                        CaptureQueriesContext(connection) if counting else nullcontext() as captured:
                    started = time.perf_counter()
                    response = visitors[who].get(url)
                    elapsed = (time.perf_counter() - started) * 1000
                if counting:
                    queries[(who, page)] = queries.get((who, page), 0) + len(captured)
                return elapsed, response.content, response.status_code

            for who, page in pages:  # warm up, and check every page works
                for product in sample:
                    _ms, content, status = get(who, page, product)
                    if status != 200:
                        print(f"{who} {page.strip()} of product {product.pk} answered {status}")
                        return 1
                    slot_links[(who, page)] = slot_links.get((who, page), 0) + content.count(b"data-ecrm-token")
                    slot_counts[(who, page)] = slot_counts.get((who, page), 0) + content.count(b"data-ecrm-slot-name")
            for who, page in pages:  # warm: the SQL queries of each page
                for product in sample[:COUNTED]:
                    get(who, page, product, counting=True)
            for round_ in range(requests):
                product = sample[round_ % len(sample)]
                for who, page in pages:
                    timings[(who, page)].append(get(who, page, product)[0])
    except RuntimeError as error:
        print(error)
        return 2
    print(f"{requests} requests per page over {PRODUCTS} products; v{version.pk} serving from a private prefix")
    print(f"{'visitor':<12}{'page':<20}{'median ms':>10}{'p95 ms':>9}{'slots':>7}{'links':>7}{'SQL':>6}{'ratio':>8}")
    for who, page in pages:
        values = timings[(who, page)]
        base = statistics.median(timings[(who, "no slots")])
        print(f"{who:<12}{page:<20}{statistics.median(values):>10.1f}{percentile(values, 0.95):>9.1f}"
              f"{slot_counts[(who, page)] / PRODUCTS:>7.1f}{slot_links[(who, page)] / PRODUCTS:>7.1f}"
              f"{queries[(who, page)] / COUNTED:>6.1f}{statistics.median(values) / base:>8.2f}")
    print(f"slots, links: per page (over all {PRODUCTS} products); SQL: queries per page, warm ({COUNTED} products)")
    print("goal: the page with three slots at most 1.15 × the page without them")
    return 0
