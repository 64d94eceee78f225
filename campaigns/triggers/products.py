"""Products the trigger kinds put in front of customers: what goes with what they bought
(the recommender's published "bought together" lists, else co-purchases counted in the
orders) and the store's best sellers (for gift selections). Set-based: one Redis round
trip and one query for all the customers of a tick, never one per customer."""

from __future__ import annotations

import logging
from datetime import datetime

from campaigns.triggers.sql import NOT_PURCHASED, days, rows

logger = logging.getLogger(__name__)


def _published_together(product_ids: list[int]) -> dict[int, list[int]]:
    """The serving version's bought-together lists of ``product_ids`` (empty if none is published)."""
    try:
        from recommender.publish import client, current_key, key

        redis = client()
        version = redis.get(current_key())
        if not version or not product_ids:
            return {}
        lists = redis.hmget(key(int(version), "bought_together"), [str(p) for p in product_ids])
    except Exception as exc:  # noqa: BLE001 - Redis down: the orders are the fallback
        logger.warning("bought-together lists unavailable (%s): counting co-purchases instead", exc)
        return {}
    return {p: [int(i) for i in raw.split(",") if i.isdigit()] for p, raw in zip(product_ids, lists) if raw}


def bought_together(product_ids, now: datetime, *, k: int = 4, history_days: int = 180) -> dict[int, list[int]]:
    """Product -> up to ``k`` products most often bought with it, best first."""
    wanted = sorted({int(p) for p in product_ids if p})
    found = _published_together(wanted)
    missing = [p for p in wanted if p not in found]
    if missing:
        counted = rows("""
            WITH pairs AS (
                SELECT a.product_id AS product, b.product_id AS other, COUNT(*) AS n
                FROM order_line a JOIN order_line b ON b.order_id = a.order_id AND b.product_id <> a.product_id
                JOIN order_order o ON o.id = a.order_id
                WHERE a.product_id = ANY(%(products)s) AND o.date_placed > %(since)s AND o.date_placed <= %(now)s
                  AND o.status <> ALL(%(not_purchased)s)
                GROUP BY 1, 2),
            ranked AS (
                SELECT pairs.product, pairs.other,
                       ROW_NUMBER() OVER (PARTITION BY pairs.product ORDER BY pairs.n DESC, pairs.other) AS rank
                FROM pairs JOIN catalogue_product pr ON pr.id = pairs.other AND pr.is_public)
            SELECT product, ARRAY_AGG(other ORDER BY rank) FROM ranked WHERE rank <= %(k)s GROUP BY product""",
                       {"products": missing, "since": now - days(history_days), "now": now, "k": k,
                        "not_purchased": list(NOT_PURCHASED)})
        found.update(dict(counted))
    return {p: items[:k] for p, items in found.items()}


def together_with(bought: list[int], lists: dict[int, list[int]], k: int = 4) -> list[int]:
    """One list for a basket or order: each product's companions interleaved, best first,
    without what was bought."""
    chosen, seen = [], set(bought)
    for rank in range(k):
        for product in bought:
            items = lists.get(product, [])
            if rank < len(items) and items[rank] not in seen:
                chosen.append(items[rank])
                seen.add(items[rank])
    return chosen[:k]


def best_sellers(now: datetime, *, k: int = 6, history_days: int = 90) -> list[int]:
    """The public products most ordered in the last ``history_days``, most first."""
    return [row[0] for row in rows("""
        SELECT COALESCE(pr.parent_id, pr.id) AS product, SUM(l.quantity) AS sold
        FROM order_line l JOIN order_order o ON o.id = l.order_id JOIN catalogue_product pr ON pr.id = l.product_id
        WHERE o.date_placed > %(since)s AND o.date_placed <= %(now)s AND o.status <> ALL(%(not_purchased)s)
          AND pr.is_public
        GROUP BY 1 ORDER BY sold DESC, product LIMIT %(k)s""",
        {"since": now - days(history_days), "now": now, "k": k, "not_purchased": list(NOT_PURCHASED)})]
