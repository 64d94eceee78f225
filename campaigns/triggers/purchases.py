"""After a purchase: cross-sell, replenishment and win-back.

*Post-purchase cross-sell*: ``days_after_delivery`` after the order reached the
"Delivered" status, or — for orders never marked delivered — ``days_after_placement``
after it was placed (0: wait for delivery), with what is bought together with its items.
One firing per order (``window`` = the order number).

*Replenishment*: a consumable (its product class may be bought again: the recommender's
``RepurchasePolicy``, else ``RECOMMENDER_REPEATABLE_DEFAULT``) runs out at the customer's
own interval between purchases of it, else the product's typical (median) interval across
customers, else ``default_interval_days``. Fires ``lead_days`` before that expected date
and for ``grace_days`` after it, unless bought again; ``window`` = product and expected date.

*Win-back*: no order for ``days_without_order`` days, or (once ecrm's lifetime-value scores
exist on the profile) a churn risk at or above ``churn_risk``. One firing per lapse
(``window`` = the date of the last order): ordering again and lapsing again is a new one.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.products import bought_together, together_with
from campaigns.triggers.sql import NOT_PURCHASED, ORDER_PERSON, REACHABLE, days, rows


def find_post_purchase(settings: dict, now: datetime):
    after_delivery, after_placement = settings["days_after_delivery"], settings["days_after_placement"]
    found = rows(f"""
        WITH delivered AS (
            SELECT c.order_id, MIN(c.date_created) AS at FROM order_orderstatuschange c
            WHERE c.new_status = %(delivered)s AND c.date_created > %(oldest)s AND c.date_created <= %(now)s
            GROUP BY c.order_id)
        SELECT o.id, o.number, {ORDER_PERSON}, o.date_placed, d.at
        FROM order_order o
        JOIN ecrm_profile p ON p.person_key = {ORDER_PERSON} AND {REACHABLE}
        LEFT JOIN delivered d ON d.order_id = o.id
        WHERE o.date_placed > %(oldest)s AND o.date_placed <= %(now)s AND o.status <> ALL(%(not_purchased)s)
          AND ((d.at IS NOT NULL AND d.at <= %(delivered_by)s)
               OR (d.at IS NULL AND %(after_placement)s > 0 AND o.date_placed <= %(placed_by)s))""",
                 {"now": now, "oldest": now - days(settings["max_age_days"]), "delivered": settings["delivered_status"],
                  "delivered_by": now - days(after_delivery), "after_placement": after_placement,
                  "placed_by": now - days(after_placement), "not_purchased": list(NOT_PURCHASED)})
    if not found:
        return
    bought = dict(rows("""
        SELECT order_id, ARRAY_AGG(product_id ORDER BY id) FROM order_line
        WHERE order_id = ANY(%(orders)s) AND product_id IS NOT NULL GROUP BY order_id""",
                       {"orders": [row[0] for row in found]}))
    lists = bought_together({p for products in bought.values() for p in products}, now)
    for order_id, number, person, placed, delivered in found:
        at = delivered + days(after_delivery) if delivered else placed + days(after_placement)
        yield Due(person, number, {"order_id": order_id, "product_ids": together_with(bought.get(order_id, []), lists)},
                  at=at)


def find_replenishment(settings: dict, now: datetime):
    from recommender.defaults import setting as recommender_setting

    found = rows(f"""
        WITH repeatable AS (
            SELECT pc.id FROM catalogue_productclass pc
            LEFT JOIN recommender_repurchasepolicy rp ON rp.product_class_id = pc.id
            WHERE COALESCE(rp.can_be_bought_again, %(repeatable_default)s)),
        bought AS (
            SELECT {ORDER_PERSON} AS person, l.product_id, COUNT(DISTINCT o.id) AS n,
                   MIN(o.date_placed) AS first_at, MAX(o.date_placed) AS last_at,
                   -- the latest order's id without sorting each group: the greatest (time, id) pair
                   (MAX(ARRAY[EXTRACT(EPOCH FROM o.date_placed)::bigint, o.id::bigint]))[2] AS last_order
            FROM order_order o JOIN order_line l ON l.order_id = o.id
            JOIN catalogue_product pr ON pr.id = l.product_id
            LEFT JOIN catalogue_product parent ON parent.id = pr.parent_id
            WHERE o.date_placed > %(history)s AND o.date_placed <= %(now)s AND o.status <> ALL(%(not_purchased)s)
              AND COALESCE(pr.product_class_id, parent.product_class_id) IN (SELECT id FROM repeatable)
            GROUP BY 1, 2),
        typical AS (
            SELECT product_id, PERCENTILE_CONT(0.5) WITHIN GROUP (
                       ORDER BY EXTRACT(EPOCH FROM last_at - first_at) / (n - 1)) AS seconds
            FROM bought WHERE n >= 2 GROUP BY product_id),
        expected AS (
            SELECT b.person, b.product_id, b.last_order, b.last_at, b.last_at + MAKE_INTERVAL(secs => COALESCE(
                       CASE WHEN b.n >= 2 THEN EXTRACT(EPOCH FROM b.last_at - b.first_at) / (b.n - 1) END,
                       t.seconds, %(default_days)s * 86400.0)) AS due_on
            FROM bought b LEFT JOIN typical t ON t.product_id = b.product_id)
        SELECT x.person, x.product_id, x.last_order, x.due_on FROM expected x
        JOIN ecrm_profile p ON p.person_key = x.person AND {REACHABLE}
        WHERE x.due_on - MAKE_INTERVAL(days => %(lead)s) <= %(now)s AND x.due_on + MAKE_INTERVAL(days => %(grace)s) > %(now)s
          AND x.due_on - x.last_at >= MAKE_INTERVAL(days => %(min_interval)s)""",
                 {"now": now, "history": now - days(settings["history_days"]),
                  "repeatable_default": bool(recommender_setting("RECOMMENDER_REPEATABLE_DEFAULT")),
                  "default_days": settings["default_interval_days"], "lead": settings["lead_days"],
                  "grace": settings["grace_days"], "min_interval": settings["min_interval_days"],
                  "not_purchased": list(NOT_PURCHASED)})
    for person, product_id, last_order, due_on in found:
        yield Due(person, f"{product_id}:{due_on.date().isoformat()}",
                  {"product_ids": [product_id], "order_id": last_order},
                  at=due_on - days(settings["lead_days"]))


def find_win_back(settings: dict, now: datetime):
    threshold = settings["churn_risk"]
    found = rows(f"""
        SELECT p.person_key, p.last_order_at, p.churn_risk, p.scores_computed_at FROM ecrm_profile p
        WHERE {REACHABLE} AND p.order_count > 0 AND p.last_order_at <= %(now)s AND p.last_order_at > %(oldest)s
          AND (p.last_order_at <= %(lapsed)s
               OR (%(threshold)s > 0 AND p.churn_risk >= %(threshold)s AND p.scores_computed_at <= %(now)s
                   AND p.scores_computed_at >= p.last_order_at AND p.last_order_at <= %(quiet)s))""",
                 {"now": now, "oldest": now - days(settings["lapsed_at_most_days"]),
                  "lapsed": now - days(settings["days_without_order"]), "threshold": threshold,
                  "quiet": now - days(settings["min_days_since_order"])})
    for person, last_order_at, churn_risk, scored_at in found:
        lapsed_at = last_order_at + days(settings["days_without_order"])
        at_risk = threshold > 0 and churn_risk is not None and churn_risk >= threshold and scored_at is not None
        reason = "churn_risk" if at_risk and (lapsed_at > now or scored_at < lapsed_at) else "no_order"
        at = max(scored_at, last_order_at + days(settings["min_days_since_order"])) if reason == "churn_risk" else lapsed_at
        yield Due(person, f"last-order:{last_order_at.date().isoformat()}",
                  {"reason": reason, "churn_risk": churn_risk}, at=at)


post_purchase = register(Trigger(
    kind="post_purchase", label="Post-purchase cross-sell",
    description="Some days after an order is delivered, products that go with what the customer bought.",
    params=(Param("days_after_delivery", "Days after delivery", "float", default=7, min=0, max=180),
            Param("days_after_placement", "Days after placement, if never marked delivered (0: wait)", "float",
                  default=14, min=0, max=180),
            Param("delivered_status", "Order status meaning delivered", "str", default="Delivered"),
            Param("max_age_days", "Ignore orders placed more than (days) ago", "int", default=60, min=1, max=365)),
    find=find_post_purchase, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_POST_PURCHASE"},),
    exits=("unsubscribed",),
))

replenishment = register(Trigger(
    kind="replenishment", label="Replenishment",
    description="A consumable the customer buys is about to run out, at their usual interval.",
    params=(Param("lead_days", "Remind this many days before it runs out", "int", default=3, min=0, max=60),
            Param("grace_days", "Keep reminding up to (days) after", "int", default=14, min=1, max=90),
            Param("default_interval_days", "Interval when nobody has bought it twice (days)", "int", default=30,
                  min=1, max=730),
            Param("min_interval_days", "Ignore intervals shorter than (days)", "int", default=5, min=0, max=365),
            Param("history_days", "Purchases considered (days)", "int", default=365, min=30, max=3650)),
    find=find_replenishment, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_REPLENISHMENT"},),
    exits=("order_placed", "unsubscribed"),
))

win_back = register(Trigger(
    kind="win_back", label="Win-back",
    description="A customer has not ordered for a long time, or their churn risk is high.",
    params=(Param("days_without_order", "Days without an order", "int", default=120, min=7, max=1095),
            Param("churn_risk", "Or churn risk at least (0-1; 0: ignore scores)", "float", default=0.8, min=0, max=1),
            Param("min_days_since_order", "Never sooner after an order than (days)", "int", default=30, min=1,
                  max=365),
            Param("lapsed_at_most_days", "Ignore customers whose last order is older than (days)", "int",
                  default=730, min=30, max=3650)),
    find=find_win_back, topic="offers",
    flow_template=(
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_WIN_BACK"},
        {"wait_hours": 24 * 7, "action": "voucher", "percent": 15, "valid_days": 14},
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_WIN_BACK_OFFER"},
    ),
    exits=("order_placed", "unsubscribed"),
))
