"""The product page with its three recommendation slots against the same page without
them, in-process through the full stack, in the same run (goal: at most 1.15).

Both pages are Oscar's product view with the shop's template; the baseline's template
only empties the slots' block (bench/templates/bench/product_without_slots.html). A
version is trained on the store's data into a private Redis prefix first (run
``make seed`` first), so the slots have real lists to walk. Pages are requested
round-robin (with and without, anonymous and signed in) over a sample of products so
machine noise falls on both alike.
"""

from __future__ import annotations

import random
import statistics
import time

from django.test import Client

from bench.common import percentile
from bench.trained import private_trained_version

PRODUCTS = 50


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


def run(*, requests: int) -> int:
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
            pages = {(who, slots): browser for who, browser in visitors.items() for slots in (True, False)}
            timings: dict[tuple[str, bool], list[float]] = {page: [] for page in pages}
            slot_links = {}

            def url(product, slots: bool) -> str:
                return product.get_absolute_url() if slots else f"/__bench/product-without-slots/{product.pk}/"

            for (who, slots), browser in pages.items():  # warm up, and check both pages work
                for product in sample:
                    response = browser.get(url(product, slots))
                    if response.status_code != 200:
                        print(f"{url(product, slots)} answered {response.status_code}")
                        return 1
                    slot_links[(who, slots)] = slot_links.get((who, slots), 0) + response.content.count(
                        b"data-ecrm-token")
            for round_ in range(requests):
                product = sample[round_ % len(sample)]
                for (who, slots), browser in pages.items():
                    started = time.perf_counter()
                    browser.get(url(product, slots))
                    timings[(who, slots)].append((time.perf_counter() - started) * 1000)
    except RuntimeError as error:
        print(error)
        return 2
    print(f"{requests} requests per page over {PRODUCTS} products; v{version.pk} serving from a private prefix")
    print(f"{'visitor':<12}{'page':<16}{'median ms':>10}{'p95 ms':>9}{'links/page':>11}{'ratio':>8}")
    for who in visitors:
        base = statistics.median(timings[(who, False)])
        for slots in (False, True):
            values = timings[(who, slots)]
            print(f"{who:<12}{'3 slots' if slots else 'no slots':<16}{statistics.median(values):>10.1f}"
                  f"{percentile(values, 0.95):>9.1f}{slot_links[(who, slots)] / PRODUCTS:>11.1f}"
                  f"{statistics.median(values) / base:>8.2f}")
    print("goal: the page with three slots at most 1.15 × the page without them")
    return 0
