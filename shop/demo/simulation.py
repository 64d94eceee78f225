"""Simulate shoppers' behaviour as a time-ordered stream of plain events (no ORM).

Names follow Segment's e-commerce spec, so the sink can hand each event to
the store's own entry points today and to the tracking pipeline later.
Each shopper's stream depends only on the seed, their index and the catalogue.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shop.demo.generate import CustomerSpec, ProductSpec

SEARCH_ENGINES = [("google", "https://www.google.com/"), ("bing", "https://www.bing.com/"),
                  ("duckduckgo", "https://duckduckgo.com/")]
CAMPAIGNS = [("newsletter", "email", "weekly-picks"), ("newsletter", "email", "spring-garden"),
             ("facebook", "paid_social", "outdoor-season"), ("instagram", "paid_social", "home-refresh"),
             ("google", "cpc", "brand-search")]
REFERRERS = ["https://www.reddit.com/r/BuyItForLife/", "https://www.theguardian.com/lifeandstyle",
             "https://www.pinterest.co.uk/"]
DEVICES = [("desktop", 0.45), ("mobile", 0.45), ("tablet", 0.10)]
# Tracking ends a visit after 30 minutes without events: a visitor's next session starts later.
SESSION_GAP = timedelta(minutes=31)
# After each purchase a customer stops buying with their own probability p ~ Beta(1, 5)
# (mean 1/6), as the BG/NBD model assumes, so that the analytics have churn to find.
DROPOUT_BETA = (1.0, 5.0)
STATUS_DELAYS_HOURS = {"Processing": (2, 20), "Shipped": (20, 60), "Delivered": (24, 96)}


@dataclass
class Event:
    """One thing a shopper did (or that happened to their order), Segment-named."""

    timestamp: datetime
    name: str  # "Session Started", "Product Viewed", "Products Searched", "Product Added", ...
    session_id: str
    properties: dict = field(default_factory=dict)


@dataclass
class Shopper:
    """Who is shopping: a known customer, or an anonymous visitor with the same tastes model."""

    key: str  # e.g. "c17" or "v3"; stable across runs
    customer: CustomerSpec | None
    tastes: CustomerSpec


class Catalogue:
    """Products grouped by leaf, for weighted choices in the simulator."""

    def __init__(self, products: list[ProductSpec]):
        self.products = products
        self.by_leaf: dict[str, list[ProductSpec]] = {}
        for product in products:
            self.by_leaf.setdefault(product.leaf, []).append(product)
        self.leaves = sorted(self.by_leaf)

    def pick(self, rng: random.Random, tastes: CustomerSpec, *, leaf: str | None = None) -> ProductSpec:
        if leaf is None:
            leaf = _weighted(rng, tastes.leaf_weights)
        candidates = self.by_leaf[leaf]
        prices = [float(p.price) for p in candidates]
        cheapest, dearest = min(prices), max(prices)
        weights = []
        for product, price in zip(candidates, prices):
            relative = (price - cheapest) / (dearest - cheapest or 1.0)
            weight = tastes.brand_weights.get(product.brand, 0.6)
            weight *= 1.0 - 0.8 * tastes.price_sensitivity * relative
            weights.append(max(weight, 0.01))
        return candidates[_weighted_index(rng, weights)]


def _weighted(rng: random.Random, weights: dict) -> str:
    keys = sorted(weights)
    return keys[_weighted_index(rng, [weights[k] for k in keys])]


def _weighted_index(rng: random.Random, weights: list[float]) -> int:
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return min(bisect.bisect(cumulative, rng.random() * total), len(weights) - 1)


def _session_context(rng: random.Random, product: ProductSpec) -> dict:
    roll = rng.random()
    device = DEVICES[_weighted_index(rng, [w for _, w in DEVICES])][0]
    if roll < 0.35:
        return {"source": "direct", "medium": "none", "referrer": "", "device": device}
    if roll < 0.65:
        engine, url = rng.choice(SEARCH_ENGINES)
        return {"source": engine, "medium": "organic", "referrer": url, "device": device,
                "search_terms": f"{product.brand.lower()} {product.leaf.lower()}"}
    if roll < 0.90:
        source, medium, campaign = rng.choice(CAMPAIGNS)
        return {"source": source, "medium": medium, "campaign": campaign, "referrer": "",
                "device": device,
                "utm": {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign}}
    return {"source": "referral", "medium": "referral", "referrer": rng.choice(REFERRERS),
            "device": device}


def order_number(shopper_key: str, sequence: int) -> str:
    """Deterministic, unique per shopper and order: the seed command's idempotency key."""
    return f"D{shopper_key.upper()}-{sequence:03d}"


class _ShopperRun:
    """The running state of one shopper's simulation: basket, orders, output."""

    def __init__(self, shopper: Shopper, catalogue: Catalogue, rng: random.Random, end: datetime,
                 dropout: random.Random | None = None):
        self.shopper, self.catalogue, self.rng, self.end = shopper, catalogue, rng, end
        # A separate stream, so that churn does not reshuffle everything else a shopper does.
        self.dropout = dropout or random.Random(0)
        self.dropout_probability = self.dropout.betavariate(*DROPOUT_BETA)
        self.churned = False
        self.last_seen: datetime | None = None
        self.events: list[Event] = []
        self.basket: dict[str, int] = {}  # upc -> quantity, carried between sessions
        self.orders = 0
        self.sessions = 0

    def emit(self, when: datetime, name: str, session: str, **properties) -> None:
        self.events.append(Event(when, name, session, properties))

    def session(self, start: datetime, *, staple: ProductSpec | None = None) -> None:
        first_event = len(self.events)
        try:
            self._session(start, staple=staple)
        finally:
            self.last_seen = max(e.timestamp for e in self.events[first_event:])

    def _session(self, start: datetime, *, staple: ProductSpec | None = None) -> None:
        rng, tastes = self.rng, self.shopper.tastes
        self.sessions += 1
        session = f"{self.shopper.key}-s{self.sessions}"
        first = staple or self.catalogue.pick(rng, tastes)
        context = _session_context(rng, first)
        now = start
        self.emit(now, "Session Started", session, landing_page=f"/catalogue/{first.upc}/", **context)
        if staple is None and rng.random() < 0.3:
            now += timedelta(seconds=rng.randint(5, 60))
            self.emit(now, "Products Searched", session, query=rng.choice(
                [first.leaf.lower(), first.brand.lower(), first.title.split(" (")[0].split()[-1].lower()]))
        leaf = first.leaf
        views = [first] + [
            self.catalogue.pick(rng, tastes, leaf=leaf if rng.random() < 0.6 else None)
            for _ in range(rng.randint(0, 4))
        ]
        for product in views:
            now += timedelta(seconds=rng.randint(10, 180))
            self.emit(now, "Product Viewed", session, upc=product.upc)
            wanted = product is staple or rng.random() < 0.12 + 0.25 * tastes.buy_propensity
            if wanted and product.in_stock:
                quantity = 1 if not product.reorder_days else rng.choice([1, 1, 2, 3])
                self.basket[product.upc] = self.basket.get(product.upc, 0) + quantity
                self.emit(now, "Product Added", session, upc=product.upc, quantity=quantity)
        if self.basket and rng.random() < 0.12:
            upc = sorted(self.basket)[rng.randrange(len(self.basket))]
            now += timedelta(seconds=rng.randint(10, 90))
            del self.basket[upc]
            self.emit(now, "Product Removed", session, upc=upc)
        if not self.basket:
            return
        now += timedelta(seconds=rng.randint(20, 200))
        self.emit(now, "Cart Viewed", session)
        propensity = 0.85 if staple else tastes.buy_propensity
        if rng.random() < propensity * 1.4:
            now += timedelta(seconds=rng.randint(30, 300))
            self.emit(now, "Checkout Started", session)
            if self.shopper.customer is not None and rng.random() < 0.8:
                now += timedelta(seconds=rng.randint(60, 600))
                self.place_order(now, session)

    def place_order(self, when: datetime, session: str) -> None:
        self.orders += 1
        number = order_number(self.shopper.key, self.orders)
        lines = sorted(self.basket.items())
        self.basket = {}
        self.emit(when, "Order Completed", session, order_number=number, lines=lines)
        self.progress_status(when, number, session)
        self.churned = self.dropout.random() < self.dropout_probability

    def progress_status(self, placed: datetime, number: str, session: str) -> None:
        rng, now = self.rng, placed
        cancel_at = "Processing" if rng.random() < 0.03 else "Shipped" if rng.random() < 0.02 else None
        for status in ("Processing", "Shipped", "Delivered"):
            low, high = STATUS_DELAYS_HOURS[status]
            now += timedelta(hours=rng.uniform(low, high))
            if now > self.end:
                return
            if status == cancel_at:
                self.emit(now, "Order Cancelled", session, order_number=number, status="Cancelled")
                return
            self.emit(now, "Order Updated", session, order_number=number, status=status)
        if rng.random() < 0.05:
            for status, days in (("Returned", rng.uniform(3, 20)), ("Refunded", rng.uniform(1, 5))):
                now += timedelta(days=days)
                if now > self.end:
                    return
                name = "Order Refunded" if status == "Refunded" else "Order Updated"
                self.emit(now, name, session, order_number=number, status=status)


def simulate_shopper(
    seed: int, shopper: Shopper, catalogue: Catalogue, *, start: datetime, days: int
) -> list[Event]:
    """All of one shopper's events between ``start`` and ``start + days``, in time order."""
    rng = random.Random(f"{seed}:behaviour:{shopper.key}")
    end = start + timedelta(days=days)
    run = _ShopperRun(shopper, catalogue, rng, end, random.Random(f"{seed}:dropout:{shopper.key}"))
    tastes = shopper.tastes
    first_day = max(0, tastes.signup_day)
    products = {p.index: p for p in catalogue.products}
    visits: list[tuple[datetime, ProductSpec | None]] = []
    day = first_day + rng.expovariate(tastes.visits_per_week / 7)
    while day < days:
        visits.append((start + timedelta(days=day), None))
        day += rng.expovariate(tastes.visits_per_week / 7)
    if shopper.customer is not None:
        for index, every in tastes.staples:
            product = products.get(index)
            if product is None:
                continue
            day = first_day + rng.uniform(0, every)
            while day < days:
                visits.append((start + timedelta(days=day), product))
                day += every * rng.uniform(0.8, 1.2)
    for when, staple in sorted(visits, key=lambda visit: visit[0]):
        when = when.replace(hour=rng.choice([8, 12, 13, 19, 20, 21, 22]), minute=rng.randrange(60))
        if run.churned:
            break  # gone for good: no more visits, no more orders
        if run.last_seen is not None and when < run.last_seen + SESSION_GAP:
            when = run.last_seen + SESSION_GAP + timedelta(minutes=when.minute)
        if when < end - timedelta(hours=1):
            run.session(when, staple=staple)
    run.events.sort(key=lambda event: event.timestamp)
    return [event for event in run.events if event.timestamp < end]
