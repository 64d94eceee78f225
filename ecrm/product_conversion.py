"""View → basket → purchase conversion per product and per category, for whole days:
viewers and adders are sessions that viewed (added) the product, counted on the day they
first did; buyers are completed orders that contained it.

``product_conversion`` reads the daily aggregates (``ecrm.aggregates``);
``product_conversion_raw`` counts the same from tracking's events (benchmark baseline,
tests' referee).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Min, Sum
from oscar.core.loading import get_model

from ecrm.aggregates import ADD, ORDER, VIEW, day_bounds, products_of
from ecrm.models import ProductDay
from tracking.models import Event

Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
FIELDS = {"views": "viewing_sessions", "adds": "adding_sessions", "orders": "orders"}


def product_conversion(first: date, last: date) -> tuple[list[dict], list[dict]]:
    """(rows per product, rows per category) for the days ``first``..``last``, busiest first."""
    counts = {row["product_id"]: {name: row[name] for name in FIELDS} for row in (
        ProductDay.objects.filter(day__range=(first, last)).values("product_id")
        .annotate(**{name: Sum(column) for name, column in FIELDS.items()}))}
    return _report(counts)


def product_conversion_raw(first: date, last: date) -> tuple[list[dict], list[dict]]:
    """``product_conversion`` straight from the events: each (session, product) counted on
    the day of its first view (add), each order event once per product in it."""
    since, until = day_bounds(first, last)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    pairs = (Event.objects.filter(event__in=[VIEW, ADD], timestamp__gte=since - timedelta(days=1), timestamp__lt=until)
             .exclude(session_id="").values("session_id", "event", "properties__product_id")
             .annotate(first=Min("timestamp")).filter(first__gte=since))
    for row in pairs.iterator(chunk_size=20000):
        if row["properties__product_id"]:
            counts[str(row["properties__product_id"])]["views" if row["event"] == VIEW else "adds"] += 1
    for properties in Event.objects.filter(event=ORDER, timestamp__gte=since, timestamp__lt=until).values_list(
            "properties", flat=True).iterator(chunk_size=20000):
        for product_id in products_of(properties or {}):
            counts[product_id]["orders"] += 1
    return _report(counts)


def _report(counts: dict[str, dict[str, int]]) -> tuple[list[dict], list[dict]]:
    titles = dict(Product.objects.filter(pk__in=[int(k) for k in counts if k.isdigit()]).values_list("pk", "title"))
    category_of = {}
    for product_id, name in ProductCategory.objects.filter(product_id__in=titles).order_by("pk").values_list(
            "product_id", "category__name"):
        category_of.setdefault(product_id, name)
    products, categories = [], defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    for key, c in counts.items():
        if not key.isdigit() or int(key) not in titles:
            continue
        category = category_of.get(int(key), "(none)")
        products.append({"product_id": int(key), "title": titles[int(key)], "category": category, **c,
                         **_rates(c)})
        for field in FIELDS:
            categories[category][field] += c[field]
    category_rows = [{"category": name, **c, **_rates(c)} for name, c in categories.items()]
    return (sorted(products, key=lambda r: (-r["views"], -r["orders"], r["title"])),
            sorted(category_rows, key=lambda r: (-r["views"], r["category"])))


def _rates(c: dict) -> dict:
    return {"view_to_basket": c["adds"] / c["views"] if c["views"] else None,
            "basket_to_purchase": c["orders"] / c["adds"] if c["adds"] else None,
            "view_to_purchase": c["orders"] / c["views"] if c["views"] else None}
