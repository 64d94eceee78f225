"""View → basket → purchase conversion per product and per category, for a period:
viewers and adders are distinct sessions with the event, buyers distinct orders."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count
from oscar.core.loading import get_model

from tracking.models import Event

Product = get_model("catalogue", "Product")
OrderLine = get_model("order", "Line")
ProductCategory = get_model("catalogue", "ProductCategory")


def product_conversion(since, until) -> tuple[list[dict], list[dict]]:
    """(rows per product, rows per category), busiest first."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"views": 0, "adds": 0, "orders": 0})
    for event, product_id, sessions in (Event.objects.filter(
            event__in=["Product Viewed", "Product Added"], timestamp__gte=since, timestamp__lt=until)
            .exclude(session_id="").values_list("event", "properties__product_id")
            .annotate(sessions=Count("session_id", distinct=True))):
        if product_id:
            counts[str(product_id)]["views" if event == "Product Viewed" else "adds"] += sessions
    for product_id, orders in (OrderLine.objects.filter(order__date_placed__gte=since, order__date_placed__lt=until,
                                                         product__isnull=False)
                               .values_list("product_id").annotate(orders=Count("order_id", distinct=True))):
        counts[str(product_id)]["orders"] += orders
    titles = dict(Product.objects.filter(pk__in=[int(k) for k in counts if k.isdigit()]).values_list("pk", "title"))
    category_of = {}
    for product_id, name in ProductCategory.objects.filter(product_id__in=titles).order_by("pk").values_list(
            "product_id", "category__name"):
        category_of.setdefault(product_id, name)
    products, categories = [], defaultdict(lambda: {"views": 0, "adds": 0, "orders": 0})
    for key, c in counts.items():
        if not key.isdigit() or int(key) not in titles:
            continue
        category = category_of.get(int(key), "(none)")
        products.append({"product_id": int(key), "title": titles[int(key)], "category": category, **c,
                         **_rates(c)})
        for field in ("views", "adds", "orders"):
            categories[category][field] += c[field]
    category_rows = [{"category": name, **c, **_rates(c)} for name, c in categories.items()]
    return (sorted(products, key=lambda r: (-r["views"], -r["orders"], r["title"])),
            sorted(category_rows, key=lambda r: (-r["views"], r["category"])))


def _rates(c: dict) -> dict:
    return {"view_to_basket": c["adds"] / c["views"] if c["views"] else None,
            "basket_to_purchase": c["orders"] / c["adds"] if c["adds"] else None,
            "view_to_purchase": c["orders"] / c["views"] if c["views"] else None}
