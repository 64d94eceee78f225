"""A profile's computed attributes from plain data (no ORM): the rules in one place,
tested in milliseconds; ``ecrm.services`` feeds them from the database.

A person's activity arrives as aggregates per identity (their user id, each
linked anonymous id): counts, first and last times, categories. Those are
added up here, so that loading stays a handful of grouped queries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

FAVOURITES = 5
VIEW, ADD = "Product Viewed", "Product Added"


@dataclass
class Activity:
    """What the events of one or more identities add up to."""

    first_seen: datetime | None = None
    last_seen: datetime | None = None
    product_views: int = 0
    basket_adds: int = 0
    categories: Counter = field(default_factory=Counter)
    devices: set = field(default_factory=set)

    def add(self, other: "Activity") -> None:
        self.first_seen = _earliest(self.first_seen, other.first_seen)
        self.last_seen = _latest(self.last_seen, other.last_seen)
        self.product_views += other.product_views
        self.basket_adds += other.basket_adds
        self.categories.update(other.categories)
        self.devices |= other.devices


@dataclass(frozen=True)
class Visit:
    started_at: datetime
    source: str
    medium: str
    campaign: str = ""


@dataclass(frozen=True)
class OrderFact:
    placed_at: datetime
    total: Decimal
    brands: tuple = ()
    region: str = ""


def _earliest(a, b):
    return b if a is None else a if b is None else min(a, b)


def _latest(a, b):
    return b if a is None else a if b is None else max(a, b)


def touch(visit: Visit | None) -> dict:
    if visit is None:
        return {}
    return {"source": visit.source, "medium": visit.medium, "campaign": visit.campaign,
            "at": visit.started_at.isoformat()}


def summarise(activity: Activity, visits: list[Visit], orders: list[OrderFact]) -> dict:
    """The profile's computed attributes (field name -> value)."""
    visits = sorted(visits, key=lambda v: v.started_at)
    orders = sorted(orders, key=lambda o: o.placed_at)
    revenue = sum((order.total for order in orders), Decimal("0"))
    brands = Counter(brand for order in orders for brand in order.brands if brand)
    first_seen = _earliest(activity.first_seen, orders[0].placed_at if orders else None)
    last_seen = _latest(activity.last_seen, orders[-1].placed_at if orders else None)
    return {
        "first_seen_at": first_seen,
        "last_seen_at": last_seen,
        "session_count": len(visits),
        "product_views": activity.product_views,
        "basket_adds": activity.basket_adds,
        "order_count": len(orders),
        "revenue": revenue,
        "average_order_value": (revenue / len(orders)).quantize(Decimal("0.01")) if orders else Decimal("0"),
        "last_order_at": orders[-1].placed_at if orders else None,
        "favourite_categories": [name for name, _n in activity.categories.most_common(FAVOURITES)],
        "favourite_brands": [name for name, _n in brands.most_common(FAVOURITES)],
        "first_touch": touch(visits[0] if visits else None),
        "last_touch": touch(visits[-1] if visits else None),
        "devices": sorted(activity.devices - {""}),
        "region": orders[-1].region if orders else "",
    }
