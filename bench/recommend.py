"""``recommendations_for`` latency with Redis, against a bare Redis read in the same run.

Trains on the store's own data (run ``make seed`` first) into a private Redis prefix,
then times each slot for a sample of customers and products, warm (each product served
once before): p50 and p99 (goal: p99 under 2 ms) and the ratio to one ``GET`` of a
published list, which is the floor. Two kinds of people the model has never seen are
timed too, with three product views each in their recent activity (as tracking's consumer
leaves it): an anonymous visitor ("session": the neighbours of what they viewed) and a
brand-new customer ("fresh": factors recalculated on the fly from the item factors).
"""

from __future__ import annotations

import random
import statistics
import time

from bench.trained import private_trained_version

SAMPLES = 1000


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


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
        p50, p99 = statistics.median(values), _percentile(values, 0.99)
        print(f"{slot:<22} {p50:>8.2f} {p99:>8.2f} {p50 / floor:>12.1f}")
    print(f"visitor: {_sources['visitor']}; new customer: {_sources['newcomer']} (sources of their first items)")
    print("goal: p99 under 2 ms")
    return 0


def _measure(version, Product) -> dict[str, list[float]]:
    from recommender.publish import client, key
    from recommender.serving import recommendations_for

    r = client()
    people = list(r.hkeys(key(version.pk, "for_you")))
    products = list(Product.objects.filter(is_public=True).values_list("pk", flat=True))
    rng = random.Random(42)
    persons = [rng.choice(people) for _ in range(SAMPLES)]
    visitors, newcomers = _unseen_people(rng, products)
    items = list(Product.objects.filter(pk__in=[rng.choice(products) for _ in range(SAMPLES)]))
    # Warm up: connections, and each process's catalogue of the products it serves
    # (a product then costs a query again only after it changes).
    for person, product in zip(persons, items * (SAMPLES // max(1, len(items)) + 1)):
        recommendations_for(person=person)
        recommendations_for(slot="discover", person=person)
        recommendations_for(slot="bought_together", product=product, k=4)
        recommendations_for(slot="similar", product=product, k=4)
    for visitor, newcomer in zip(visitors, newcomers):
        recommendations_for(person=visitor, k=8)
        recommendations_for(person=newcomer, k=8)
    timings: dict[str, list[float]] = {"Redis GET (floor)": [], "for_you": [], "discover": [],
                                       "bought_together": [], "similar": [],
                                       "for_you, visitor": [], "for_you, new customer": []}
    popular = key(version.pk, "popular")
    for person, product, visitor, newcomer in zip(
            persons, items * (SAMPLES // max(1, len(items)) + 1), visitors, newcomers):
        for slot, call in (
            ("Redis GET (floor)", lambda: r.get(popular)),
            ("for_you", lambda: recommendations_for(person=person, k=8)),
            ("discover", lambda: recommendations_for(slot="discover", person=person, k=8)),
            ("bought_together", lambda: recommendations_for(slot="bought_together", product=product, k=4)),
            ("similar", lambda: recommendations_for(slot="similar", product=product, k=4)),
            ("for_you, visitor", lambda: recommendations_for(person=visitor, k=8)),
            ("for_you, new customer", lambda: recommendations_for(person=newcomer, k=8)),
        ):
            t = time.perf_counter()
            call()
            timings[slot].append((time.perf_counter() - t) * 1000)
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


