"""The Customers report's data: the store's orders with each order's customer resolved as
profiles resolve them (``ecrm.services.owners_of``: merged accounts, guests by e-mail,
guests who registered later), fed to ``ecrm.customer_metrics``; and sales in a period
by segment, region, category and price band (grouped in the database)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, DateTimeField, DecimalField, ExpressionWrapper, F, Func, Sum, Value
from django.utils import timezone
from oscar.core.loading import get_model

from ecrm.customer_metrics import Purchase, price_band_index, price_band_label
from ecrm.defaults import setting
from ecrm.models import SegmentMembership

Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
ProductCategory = get_model("catalogue", "ProductCategory")
Product = get_model("catalogue", "Product")

# Orders that did not become sales (the store's pipeline ends cancelled ones there).
NOT_PURCHASES = {"Cancelled"}
NO_VALUE = "(none)"
MEMBERSHIPS_WHOLESALE = 2000  # customers; see sales_by_segment


def purchases_queryset():
    return Order.objects.exclude(status__in=NOT_PURCHASES)


def store_orders(*, until: datetime | None = None) -> list[Purchase]:
    """Every order placed before ``until`` (all when None) as a ``Purchase`` of its
    customer, in local time, resolved from Oscar's orders at query time: the direct
    computation that ``ecrm.customer_orders`` (which the report reads) is held to, and
    the input of the lifetime-value fit. The whole history is read: a customer's first
    order (for cohorts, new and repeat customers) may be under any identity that resolves
    to them."""
    from ecrm.customer_orders import base_persons
    from ecrm.services import owners_of

    orders = purchases_queryset()
    if until is not None:
        orders = orders.filter(date_placed__lt=until)
    tz = timezone.get_current_timezone()
    local = connection.vendor == "postgresql" and isinstance(tz, ZoneInfo)
    if local:  # PostgreSQL converts to wall-clock time: no tz conversion per row in Python
        orders = orders.annotate(local=Func(Value(tz.key), F("date_placed"), function="timezone",
                                            output_field=DateTimeField()))
    rows = list(orders.values_list("pk", "user_id", "guest_email", "number", "local" if local else "date_placed",
                                   "total_incl_tax").iterator(chunk_size=5000))
    person_of = base_persons([row[:4] for row in rows])
    owner = owners_of(set(person_of.values()))
    return [Purchase(pk, owner[person_of[pk]], placed.replace(tzinfo=tz) if local else placed.astimezone(tz),
                     total or Decimal("0"))
            for pk, _user, _email, _number, placed, total in rows]


def revenue_by_customer(purchases: list[Purchase], since: datetime, until: datetime) -> dict[str, Decimal]:
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for purchase in purchases:
        if since <= purchase.placed_at < until:
            revenue[purchase.person] += purchase.total
    return dict(revenue)


def sales_by_segment(purchases: list[Purchase], since: datetime, until: datetime) -> list[dict]:
    """Per segment (current members): customers who ordered in the period, their orders
    and revenue. A customer in two segments counts in both; those in none are listed
    as "(in no segment)", so the rows add up to more than the total when segments overlap."""
    per_person: dict[str, list] = defaultdict(lambda: [0, Decimal("0")])
    for purchase in purchases:
        if since <= purchase.placed_at < until:
            per_person[purchase.person][0] += 1
            per_person[purchase.person][1] += purchase.total
    segments_of = defaultdict(set)
    memberships = SegmentMembership.objects.filter(left_at=None)
    if len(per_person) <= MEMBERSHIPS_WHOLESALE:  # else every current membership, in one read
        memberships = memberships.filter(profile__person_key__in=list(per_person))
    for person, name in memberships.values_list("profile__person_key", "segment__name").iterator(chunk_size=10000):
        if person in per_person:
            segments_of[person].add(name)
    rows: dict[str, dict] = {}
    for person, (orders, revenue) in per_person.items():
        for name in segments_of.get(person) or {"(in no segment)"}:
            row = rows.setdefault(name, {"segment": name, "customers": 0, "orders": 0, "revenue": Decimal("0")})
            row["customers"] += 1
            row["orders"] += orders
            row["revenue"] += revenue
    return sorted(rows.values(), key=lambda r: (-r["revenue"], r["segment"]))


def _period_orders(since: datetime, until: datetime):
    return purchases_queryset().filter(date_placed__gte=since, date_placed__lt=until)


def sales_by_region(since: datetime, until: datetime) -> tuple[list[dict], list[dict]]:
    """(per country, per country and region), from the shipping address, or the billing
    address for orders that shipped nowhere (downloads)."""
    countries: dict[str, dict] = {}
    regions: dict[tuple, dict] = {}
    for row in _period_orders(since, until).values(
            "shipping_address__country__printable_name", "shipping_address__state",
            "billing_address__country__printable_name", "billing_address__state").annotate(
            orders=Count("pk"), revenue=Sum("total_incl_tax")):
        shipped = row["shipping_address__country__printable_name"]
        country = shipped or row["billing_address__country__printable_name"] or NO_VALUE
        state = (row["shipping_address__state"] if shipped else row["billing_address__state"]) or NO_VALUE
        for table, key, label in ((countries, country, {"country": country}),
                                  (regions, (country, state), {"country": country, "region": state})):
            entry = table.setdefault(key, {**label, "orders": 0, "revenue": Decimal("0")})
            entry["orders"] += row["orders"]
            entry["revenue"] += row["revenue"] or Decimal("0")
    order = lambda r: (-r["revenue"], r["country"], r.get("region", ""))  # noqa: E731
    return sorted(countries.values(), key=order), sorted(regions.values(), key=order)


def _lines(since: datetime, until: datetime):
    return OrderLine.objects.filter(order__date_placed__gte=since, order__date_placed__lt=until).exclude(
        order__status__in=NOT_PURCHASES)


def sales_by_category(since: datetime, until: datetime) -> list[dict]:
    """Revenue and units per category (a product's first category; a variant's is its
    parent's), from the order lines of the period; lines of deleted products are "(none)"."""
    per_product = list(_lines(since, until).values("product_id", "product__parent_id").annotate(
        units=Sum("quantity"), revenue=Sum("line_price_incl_tax")))
    owners = {row["product_id"]: row["product__parent_id"] or row["product_id"]
              for row in per_product if row["product_id"]}
    category_of: dict[int, str] = {}
    for product_id, name in ProductCategory.objects.filter(product_id__in=set(owners.values())).order_by(
            "pk").values_list("product_id", "category__name"):
        category_of.setdefault(product_id, name)
    rows: dict[str, dict] = {}
    for row in per_product:
        name = category_of.get(owners.get(row["product_id"]), NO_VALUE)
        entry = rows.setdefault(name, {"category": name, "units": 0, "revenue": Decimal("0")})
        entry["units"] += row["units"] or 0
        entry["revenue"] += row["revenue"] or Decimal("0")
    return _with_share(sorted(rows.values(), key=lambda r: (-r["revenue"], r["category"])))


def sales_by_price_band(since: datetime, until: datetime) -> list[dict]:
    """Revenue, units and order lines per band of unit price (``ECRM_PRICE_BANDS``)."""
    bands = [float(b) for b in setting("ECRM_PRICE_BANDS")]
    rows = [{"band": price_band_label(bands, i), "units": 0, "lines": 0, "revenue": Decimal("0")}
            for i in range(len(bands) + 1)]
    unit = ExpressionWrapper(F("line_price_incl_tax") / F("quantity"), output_field=DecimalField())
    for row in _lines(since, until).filter(quantity__gt=0).annotate(unit=unit).values("unit").annotate(
            units=Sum("quantity"), lines=Count("pk"), revenue=Sum("line_price_incl_tax")):
        entry = rows[price_band_index(bands, float(row["unit"] or 0))]
        entry["units"] += row["units"]
        entry["lines"] += row["lines"]
        entry["revenue"] += row["revenue"] or Decimal("0")
    return _with_share(rows)


def _with_share(rows: list[dict]) -> list[dict]:
    total = sum((r["revenue"] for r in rows), Decimal("0"))
    for row in rows:
        row["share"] = float(row["revenue"] / total) if total else None
    return rows
