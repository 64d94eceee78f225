"""``recommendations_for`` latency with Redis, against a bare Redis read in the same run.

Trains on the store's own data (run ``make seed`` first) into a private Redis prefix,
then times each slot (all eight, with the shop's rules) for a sample of customers and
products, warm (each product served once before): p50 and p99 (goal: p99 under 2 ms) and
the ratio to one ``GET`` of a published list, which is the floor. Two kinds of people the
model has never seen are timed too, with three product views each in their recent activity
(as tracking's consumer leaves it): an anonymous visitor ("session": the neighbours of
what they viewed) and a brand-new customer ("fresh": factors recalculated on the fly from
the item factors).
"""

from __future__ import annotations

import random
import statistics
import time

from bench.common import percentile
from bench.trained import private_trained_version

SAMPLES = 1000


def run(*, requests: int) -> int:  # noqa: ARG001 - a fixed sample per slot
    from oscar.core.loading import get_model

    Product = get_model("catalogue", "Product")
    if Product.objects.count() < 100:
        print("The store has fewer than 100 products: run `make seed` first.")
        return 2
    try:
        with private_trained_version() as (version, trained):
            timings = _measure(version, Product)
    except RuntimeError as error:
        print(error)
        return 2
    floor = statistics.median(timings["Redis GET (floor)"])
    print(f"trained and published v{version.pk} in {trained:.1f} s ({version.interactions:,} interactions, "
          f"{version.users:,} people, {version.items:,} products); {SAMPLES} calls per slot, in-process")
    print(f"{'slot':<22} {'p50 ms':>8} {'p99 ms':>8} {'p50 / floor':>12}")
    for slot, values in timings.items():
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"{slot:<22} {p50:>8.2f} {p99:>8.2f} {p50 / floor:>12.1f}")
    print(f"visitor: {_sources['visitor']}; new customer: {_sources['newcomer']} (sources of their first items)")
    print("goal: p99 under 2 ms")
    return 0


def _measure(version, Product) -> dict[str, list[float]]:
    from oscar.core.loading import get_class, get_model

    from recommender.publish import client, key
    from recommender.serving import recommendations_for

    r = client()
    people = list(r.hkeys(key(version.pk, "for_you")))
    products = list(Product.objects.filter(is_public=True).values_list("pk", flat=True))
    rng = random.Random(42)
    persons = [rng.choice(people) for _ in range(SAMPLES)]
    visitors, newcomers = _unseen_people(rng, products)
    items = list(Product.objects.filter(pk__in=[rng.choice(products) for _ in range(SAMPLES)]))
    # A basket of two products for "complete your order" (its lines read once, as a page would).
    basket = get_model("basket", "Basket").objects.create()
    basket.strategy = get_class("partner.strategy", "Selector")().strategy()
    try:
        for product in items[:2]:
            basket.add_product(product)
        basket.all_lines()
        calls = {  # slot -> call(person, product, visitor, newcomer)
            "for_you": lambda p, item, v, n: recommendations_for(person=p, k=8),
            "discover": lambda p, item, v, n: recommendations_for(slot="discover", person=p, k=8),
            "buy_again": lambda p, item, v, n: recommendations_for(slot="buy_again", person=p, k=8),
            "bought_together": lambda p, item, v, n: recommendations_for(slot="bought_together", product=item, k=4),
            "similar": lambda p, item, v, n: recommendations_for(slot="similar", product=item, k=4),
            "upsell": lambda p, item, v, n: recommendations_for(slot="upsell", person=p, product=item, k=4),
            "complete_order": lambda p, item, v, n: recommendations_for(slot="complete_order", person=p,
                                                                        basket=basket, k=4),
            "trending": lambda p, item, v, n: recommendations_for(slot="trending", product=item, k=4),
            "for_you, visitor": lambda p, item, v, n: recommendations_for(person=v, k=8),
            "for_you, new customer": lambda p, item, v, n: recommendations_for(person=n, k=8),
        }
        rows = list(zip(persons, items * (SAMPLES // max(1, len(items)) + 1), visitors, newcomers))
        # Warm up: connections, each process's catalogue of the products it serves (a product
        # then costs a query again only after it changes) and its rules.
        for row in rows:
            for call in calls.values():
                call(*row)
        timings: dict[str, list[float]] = {"Redis GET (floor)": [], **{slot: [] for slot in calls}}
        popular = key(version.pk, "popular")
        for row in rows:
            t = time.perf_counter()
            r.get(popular)
            timings["Redis GET (floor)"].append((time.perf_counter() - t) * 1000)
            for slot, call in calls.items():
                t = time.perf_counter()
                call(*row)
                timings[slot].append((time.perf_counter() - t) * 1000)
    finally:
        basket.delete()
    return timings


_sources: dict[str, str] = {}


def _unseen_people(rng: random.Random, products: list[int]) -> tuple[list[str], list[str]]:
    """Person keys the model has never seen, each with three recent product views in Redis
    (what ``recommender.receivers`` writes as tracking stores their events)."""
    from recommender.recent import recent_record
    from recommender.serving import recommendations_for

    now = time.time()
    visitors = [f"anon:bench-visitor-{i}" for i in range(SAMPLES)]
    newcomers = [f"bench-newcomer-{i}" for i in range(SAMPLES)]
    recent_record({person: [(now - 60 * j, f"{rng.choice(products)}|view|{int(now - 60 * j)}") for j in range(3)]
                   for person in visitors + newcomers})
    for name, person in (("visitor", visitors[0]), ("newcomer", newcomers[0])):
        _sources[name] = ", ".join(sorted({r.source for r in recommendations_for(person=person, k=8)}))
    return visitors, newcomers


