"""Storefront page latency against a baseline page, in-process through the full stack.

The baseline renders Oscar's layout (same middleware, base template, basket
and navigation) with no page content, so each ratio says what a page's own
content costs. Requests are interleaved round-robin so that machine noise
falls on every page alike. Reads the store's database: run ``make seed`` first.

Then the home page's blocks with personalisation against the same layout without it
(``run_personalisation``): anonymous visitors get the HTML they all share plus one
fragment request for their own blocks, signed-in customers their own HTML.
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
    status = run_pages(requests=requests)
    print()
    return max(status, run_personalisation(requests=requests))


def run_pages(*, requests: int) -> int:
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


# --- The home page with personalisation against the same page without it -------------------

def _slot(heading: str, fallback: str) -> dict:
    return {"heading": heading, "fallback_heading": fallback, "count": 4}


def _home_bodies(segment, category) -> tuple[list, list]:
    """(personalised, plain): the same layout, five product rows of four each; the plain one's
    rows are the newest products and its hero has no segment variant."""
    hero = {"heading": "Made for the way you live", "text": "Kitchen, garden, outdoors.", "image": None,
            "button_text": "Browse", "button_url": "/catalogue/", "style": "light", "variants": []}
    variant = {**{k: v for k, v in hero.items() if k != "variants"}, "segment": str(segment.pk),
               "heading": "Welcome back"}
    targeted = dict(hero, variants=[variant])
    plain_row = {"heading": "New arrivals", "category_slug": "", "limit": 4}
    trending = {"category": category, "heading": "", "count": 4}
    personal = [("hero", targeted), ("for_you", _slot("Recommended for you", "Popular right now")),
                ("recently_viewed", _slot("Recently viewed", "Popular right now")),
                ("new_for_you", _slot("New arrivals for you", "New arrivals")),
                ("buy_again", _slot("Buy again", "Customers' favourites")),
                ("trending", trending), ("categories", {"heading": "Shop by category", "limit": 12})]
    plain = [("hero", hero)] + [("new_arrivals", plain_row)] * 4 + [
        ("trending", trending), ("categories", {"heading": "Shop by category", "limit": 12})]
    return personal, plain


def _deferred_request(html: bytes) -> str | None:
    from bench.product_page import _deferred_url

    return _deferred_url(html)


def run_personalisation(*, requests: int) -> int:
    """Two private landing pages (the home page's blocks) under the home page, deleted
    afterwards, with a private segment and a version trained into a private prefix."""
    import uuid

    from oscar.core.loading import get_model

    from bench.product_page import _signed_in_customer
    from bench.trained import private_trained_version
    from ecrm.models import Segment
    from shop.pages.models import HomePage, LandingPage

    tag = uuid.uuid4().hex[:8]
    home = HomePage.objects.first()
    if home is None:
        print("No home page: run `manage.py migrate` first.")
        return 2
    segment = Segment.objects.create(name=f"bench-{tag}", kind=Segment.STATIC)
    category = get_model("catalogue", "Category").objects.filter(depth=1).order_by("path").first()
    personal_body, plain_body = _home_bodies(segment, category)
    created = []
    try:
        for name, body in (("personal", personal_body), ("plain", plain_body)):
            page = home.add_child(instance=LandingPage(title=f"bench {name}", slug=f"bench-{name}-{tag}", body=body))
            page.save_revision().publish()
            home.refresh_from_db()
            created.append(page)
        with private_trained_version() as (version, _trained):
            return _measure_home(requests, created, _signed_in_customer(version))
    except RuntimeError as error:
        print(error)
        return 2
    finally:
        for page in created:
            page.delete()
        segment.delete()


def _measure_home(requests: int, created, signed_in) -> int:
    personal, plain = (page.url for page in created)
    visitors = {"anonymous": Client(), "someone else": Client()}
    visitors["anonymous"].cookies["ecrm_aid"] = "bench-visitor-1"
    visitors["someone else"].cookies["ecrm_aid"] = "bench-visitor-2"
    shared_a, shared_b = visitors["anonymous"].get(personal), visitors["someone else"].get(personal)
    fragment = _deferred_request(shared_a.content)
    if shared_a.status_code != 200 or fragment is None:
        print(f"the personalised page answered {shared_a.status_code}, deferred blocks: {fragment is not None}")
        return 1
    answer = visitors["anonymous"].get(fragment)
    if answer.status_code != 200:
        print(f"the fragment request answered {answer.status_code}: {answer.content[:200]!r}")
        return 1
    own_links = sum(html.count("data-ecrm-token") for html in answer.json()["fragments"].values())
    rows = {("anonymous", "without personalisation"): (visitors["anonymous"], plain),
            ("anonymous", "personalised (shared HTML)"): (visitors["anonymous"], personal),
            ("anonymous", "  + its fragment"): (visitors["anonymous"], fragment)}
    if signed_in is not None:
        rows[("signed in", "without personalisation")] = (signed_in, plain)
        rows[("signed in", "personalised (own HTML)")] = (signed_in, personal)
    timings = {row: [] for row in rows}
    for browser, url in rows.values():  # warm up
        for _ in range(3):
            browser.get(url)
    for _ in range(requests):
        for row, (browser, url) in rows.items():
            started = time.perf_counter()
            browser.get(url)
            timings[row].append((time.perf_counter() - started) * 1000)
            reset_queries()
    print(f"home page blocks, {requests} requests per row; the same HTML for two anonymous visitors: "
          f"{'yes' if shared_a.content == shared_b.content else 'NO'}; Cache-Control: {shared_a['Cache-Control']}; "
          f"the fragment brings {len(answer.json()['fragments'])} blocks, {own_links} recommendations")
    print(f"{'visitor':<12}{'page':<30}{'median ms':>10}{'p95 ms':>9}{'ratio':>8}")
    for (who, page), values in timings.items():
        base = statistics.median(timings[(who, "without personalisation")])
        print(f"{who:<12}{page:<30}{statistics.median(values):>10.1f}{percentile(values, 0.95):>9.1f}"
              f"{statistics.median(values) / base:>8.2f}")
    anonymous = [a + b for a, b in zip(timings[("anonymous", "personalised (shared HTML)")],
                                       timings[("anonymous", "  + its fragment")])]
    print(f"{'anonymous':<12}{'shared HTML + fragment':<30}{statistics.median(anonymous):>10.1f}"
          f"{percentile(anonymous, 0.95):>9.1f}"
          f"{statistics.median(anonymous) / statistics.median(timings[('anonymous', 'without personalisation')]):>8.2f}")
    return 0
