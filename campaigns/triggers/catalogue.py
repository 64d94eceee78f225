"""The catalogue changed for someone who cared: back in stock, price drop, new arrivals.

*Interest* in a product is a view (tracking's "Product Viewed" in the last
``viewed_within_days``), a line on the customer's Oscar wish list, or an active Oscar
``ProductAlert`` (the "notify me" button; guests' alerts count through their e-mail).
Prices and availability over time come from ``campaigns.StockSnapshot`` (kept from
Oscar's stock records by ``campaigns.stock_history``).

*Back in stock*: a product came back in stock in the last ``max_age_days`` and still is;
everyone interested before it came back, who has not bought it since, is due, once per
product and restock day. (Oscar also e-mails alert holders itself when
``OSCAR_EAGER_ALERTS`` is on: a store using this flow for them turns that off.)

*Price drop*: a product's current price (set in the last ``max_age_days``) is at least
``min_drop_percent`` below the price it had when the customer last viewed it — or, for
wish lists (Oscar keeps no date on their lines), when the wish list was created. Once per
product and price change.

*New arrivals*: products added to the catalogue in the last ``days`` in one of the
customer's favourite categories or brands (ecrm's profile). Once a week at most.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.sql import (EVENT_PERSON, EVENT_PERSON_JOINS, NOT_PURCHASED, ORDER_PERSON, REACHABLE, days,
                                    iso_week, rows)

INTEREST = f"""
    viewed AS (
        SELECT e.user_id, e.anonymous_id, e.properties->>'product_id' AS product, MAX(e.timestamp) AS at
        FROM tracking_event e
        WHERE e.event = 'Product Viewed' AND e.timestamp > %(viewed_since)s AND e.timestamp <= %(now)s
          AND e.properties->>'product_id' = ANY(%(product_texts)s)
        GROUP BY 1, 2, 3),
    interest AS (
        SELECT person, product, MAX(at) AS at FROM (
            SELECT {EVENT_PERSON} AS person, e.product::bigint AS product, e.at
            FROM viewed e {EVENT_PERSON_JOINS}
            UNION ALL
            SELECT w.owner_id::text, l.product_id, w.date_created
            FROM wishlists_line l JOIN wishlists_wishlist w ON w.id = l.wishlist_id
            WHERE l.product_id = ANY(%(products)s) AND w.date_created <= %(now)s
            UNION ALL
            SELECT COALESCE(a.user_id::text, 'email:' || LOWER(a.email)), a.product_id, a.date_created
            FROM customer_productalert a
            WHERE a.status = 'Active' AND a.product_id = ANY(%(products)s) AND a.date_created <= %(now)s
        ) i WHERE person IS NOT NULL GROUP BY person, product),
    bought AS (
        SELECT {ORDER_PERSON} AS person, l.product_id AS product, MAX(o.date_placed) AS last
        FROM order_order o JOIN order_line l ON l.order_id = o.id
        WHERE l.product_id = ANY(%(products)s) AND o.date_placed >= %(since_changes)s AND o.date_placed <= %(now)s
          AND o.status <> ALL(%(not_purchased)s)
        GROUP BY 1, 2)"""
# The snapshot in force at %(now)s for each stock record that changed in the period.
CHANGED = """
    SELECT s.id, s.product_id, s.price, s.recorded_at, prev.price, prev.in_stock
    FROM campaigns_stocksnapshot s
    LEFT JOIN LATERAL (SELECT x.price, x.in_stock FROM campaigns_stocksnapshot x
                       WHERE x.stockrecord_id = s.stockrecord_id AND (x.recorded_at, x.id) < (s.recorded_at, s.id)
                       ORDER BY x.recorded_at DESC, x.id DESC LIMIT 1) prev ON TRUE
    WHERE s.recorded_at > %(oldest)s AND s.recorded_at <= %(now)s AND s.in_stock
      AND NOT EXISTS (SELECT 1 FROM campaigns_stocksnapshot y WHERE y.stockrecord_id = s.stockrecord_id
                      AND (y.recorded_at, y.id) > (s.recorded_at, s.id) AND y.recorded_at <= %(now)s)"""
VIEWED_WITHIN = Param("viewed_within_days", "Views count within (days)", "int", default=30, min=1, max=365)


def _interested(changes: dict[int, datetime], now: datetime, settings: dict, extra_select: str = "",
                extra_join: str = "") -> list[tuple]:
    """(person, product, interest moment, ...) for everyone reachable interested in a changed
    product before it changed, who has not bought it since."""
    if not changes:
        return []
    return rows(f"""
        WITH {INTEREST}
        SELECT i.person, i.product, i.at {extra_select} FROM interest i
        JOIN ecrm_profile p ON p.person_key = i.person AND {REACHABLE}
        JOIN UNNEST(%(products)s::bigint[], %(changed_at)s::timestamptz[]) AS c(product, changed_at)
             ON c.product = i.product AND i.at < c.changed_at
        LEFT JOIN bought b ON b.person = i.person AND b.product = i.product
        {extra_join}
        WHERE b.last IS NULL OR b.last < c.changed_at""",
                {"now": now, "products": list(changes), "changed_at": list(changes.values()),
                 "product_texts": [str(p) for p in changes],
                 "viewed_since": now - days(settings["max_age_days"] + settings["viewed_within_days"]),
                 "since_changes": min(changes.values()), "not_purchased": list(NOT_PURCHASED)})


def find_back_in_stock(settings: dict, now: datetime):
    restocked = {}
    for snapshot_id, product, _price, at, _prev_price, prev_in_stock in rows(
            CHANGED, {"now": now, "oldest": now - days(settings["max_age_days"])}):
        if prev_in_stock is False:
            restocked[product] = min(at, restocked.get(product, at))
    for person, product, _interest_at in _interested(restocked, now, settings):
        yield Due(person, f"{product}:{restocked[product].date().isoformat()}", {"product_ids": [product]},
                  at=restocked[product])


def find_price_drops(settings: dict, now: datetime):
    dropped = {}
    for snapshot_id, product, price, at, prev_price, _prev_in_stock in rows(
            CHANGED, {"now": now, "oldest": now - days(settings["max_age_days"])}):
        if price is not None and prev_price is not None and price < prev_price:
            dropped[product] = (snapshot_id, price, at)
    found = _interested({p: at for p, (_s, _price, at) in dropped.items()}, now, settings,
                        extra_select=", seen.price", extra_join="""
        JOIN LATERAL (SELECT x.price FROM campaigns_stocksnapshot x WHERE x.product_id = i.product
                      AND x.recorded_at <= i.at AND x.price IS NOT NULL
                      ORDER BY x.recorded_at DESC, x.id DESC LIMIT 1) seen ON TRUE""")
    factor = 1 - settings["min_drop_percent"] / 100
    for person, product, _interest_at, seen_price in found:
        snapshot_id, price, at = dropped[product]
        if price <= seen_price * Decimal(str(factor)):
            yield Due(person, f"{product}:{snapshot_id}",
                      {"product_ids": [product], "price_was": str(seen_price), "price_now": str(price)}, at=at)


def _names(value) -> list:
    """A profile's favourites (a JSON list of names; anything else counts as none)."""
    if isinstance(value, str):
        value = json.loads(value)
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def find_new_arrivals(settings: dict, now: datetime):
    since = now - days(settings["days"])
    tags = rows("""
        SELECT pr.id, pr.date_created, 'category', c.name FROM catalogue_product pr
        JOIN catalogue_productcategory pc ON pc.product_id = pr.id JOIN catalogue_category c ON c.id = pc.category_id
        WHERE pr.is_public AND pr.structure <> 'child' AND pr.date_created > %(since)s AND pr.date_created <= %(now)s
        UNION ALL
        SELECT pr.id, pr.date_created, 'brand', v.value_text FROM catalogue_product pr
        JOIN catalogue_productattributevalue v ON v.product_id = pr.id
        JOIN catalogue_productattribute a ON a.id = v.attribute_id AND a.code = 'brand'
        WHERE pr.is_public AND pr.structure <> 'child' AND pr.date_created > %(since)s AND pr.date_created <= %(now)s
          AND v.value_text <> ''""", {"since": since, "now": now})
    if not tags:
        return
    by_tag, created = {}, {}
    for product, date_created, kind, name in tags:
        by_tag.setdefault((kind, name), []).append(product)
        created[product] = date_created
    categories = sorted({name for kind, name in by_tag if kind == "category"})
    brands = sorted({name for kind, name in by_tag if kind == "brand"})
    # Customers who share favourites are grouped in SQL: each combination is worked out once.
    found = rows(f"""
        SELECT p.favourite_categories, p.favourite_brands, ARRAY_AGG(p.person_key) FROM ecrm_profile p
        WHERE {REACHABLE} AND (p.favourite_categories ?| %(categories)s::text[]
                               OR p.favourite_brands ?| %(brands)s::text[])
        GROUP BY 1, 2""", {"categories": categories, "brands": brands})
    week = iso_week(now)
    newest_first = sorted(created, key=lambda p: (created[p], p), reverse=True)
    for favourite_categories, favourite_brands, people in found:
        products = {p for name in _names(favourite_categories) for p in by_tag.get(("category", name), ())}
        products |= {p for name in _names(favourite_brands) for p in by_tag.get(("brand", name), ())}
        if len(products) < settings["min_products"]:
            continue
        newest = [p for p in newest_first if p in products][:settings["max_products"]]
        at = created[newest[0]]
        for person in people:
            yield Due(person, week, {"product_ids": list(newest)}, at=at)


back_in_stock = register(Trigger(
    kind="back_in_stock", label="Back in stock",
    description="A product the customer viewed, wish-listed or asked to be alerted about is back in stock.",
    params=(Param("max_age_days", "Restocked within (days)", "int", default=3, min=1, max=60), VIEWED_WITHIN),
    find=find_back_in_stock, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_BACK_IN_STOCK"},),
    exits=("order_placed", "unsubscribed"),
))

price_drop = register(Trigger(
    kind="price_drop", label="Price drop",
    description="A product the customer viewed or wish-listed now costs less than when they looked.",
    params=(Param("min_drop_percent", "Price lower by at least (%)", "float", default=10, min=1, max=90),
            Param("max_age_days", "Price changed within (days)", "int", default=3, min=1, max=60), VIEWED_WITHIN),
    find=find_price_drops, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_PRICE_DROP"},),
    exits=("order_placed", "unsubscribed"),
))

new_arrivals = register(Trigger(
    kind="new_arrivals", label="New arrivals",
    description="New products in the customer's favourite categories or brands.",
    params=(Param("days", "Added to the catalogue within (days)", "int", default=7, min=1, max=60),
            Param("min_products", "At least (matching products)", "int", default=1, min=1, max=20),
            Param("max_products", "Show at most (products)", "int", default=6, min=1, max=24)),
    find=find_new_arrivals, topic="newsletter",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_NEW_ARRIVALS"},),
    exits=("unsubscribed",),
))
