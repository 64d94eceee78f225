"""Abandoned basket and abandoned checkout.

*Abandoned basket*: a registered customer's open Oscar basket with lines, unchanged for
``delay_hours``, with no checkout started for it and no order placed since. One firing per
basket (``window`` = the basket id): adding a line later re-times the same firing, a new
basket is a new one. Checkout started is the other trigger's business.

*Abandoned checkout*: a customer's latest "Checkout Started" event (Segment spec, recorded
by tracking from Oscar's ``start_checkout`` signal, with the basket as ``cart_id``) with no
order placed after it within ``delay_hours``.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.sql import EVENT_PERSON, EVENT_PERSON_JOINS, ORDER_PERSON, REACHABLE, days, hours, rows

DELAY = Param("delay_hours", "Wait after the last change (hours)", "float", default=4, min=0.25, max=24 * 14,
              help="how long the basket must sit untouched before the first message")
MAX_AGE = Param("max_age_days", "Ignore baskets older than (days)", "int", default=7, min=1, max=90,
                help="older baskets are not chased (and a new flow does not mail every old basket)")


def find_abandoned_baskets(settings: dict, now: datetime):
    ready, oldest = now - hours(settings["delay_hours"]), now - days(settings["max_age_days"])
    found = rows(f"""
        WITH candidate AS (
            SELECT b.id, b.owner_id, p.person_key, MAX(l.date_created) AS changed,
                   ARRAY_AGG(l.product_id ORDER BY l.date_created DESC, l.id DESC) AS products
            FROM basket_basket b
            JOIN basket_line l ON l.basket_id = b.id AND l.date_created <= %(now)s
            JOIN ecrm_profile p ON p.person_key = b.owner_id::text AND {REACHABLE}
            WHERE b.status = 'Open' AND b.owner_id IS NOT NULL
            GROUP BY b.id, b.owner_id, p.person_key
            HAVING MAX(l.date_created) <= %(ready)s AND MAX(l.date_created) > %(oldest)s)
        SELECT c.id, c.person_key, c.changed, c.products FROM candidate c
        WHERE NOT EXISTS (SELECT 1 FROM order_order o WHERE o.user_id = c.owner_id
                          AND o.date_placed >= c.changed AND o.date_placed <= %(now)s)
          AND NOT EXISTS (SELECT 1 FROM tracking_event e WHERE e.event = 'Checkout Started'
                          AND e.timestamp >= c.changed AND e.timestamp <= %(now)s
                          AND e.properties->>'cart_id' = c.id::text)""",
                 {"now": now, "ready": ready, "oldest": oldest})
    delay = hours(settings["delay_hours"])
    for basket_id, person_key, changed, products in found:
        yield Due(person_key, str(basket_id), {"basket_id": basket_id, "product_ids": list(dict.fromkeys(products))},
                  at=changed + delay)


def find_abandoned_checkouts(settings: dict, now: datetime):
    ready, oldest = now - hours(settings["delay_hours"]), now - days(settings["max_age_days"])
    # The latest start per visitor, resolved to people, then the latest per person; orders
    # after it are found by a hash join on the person, not a look-up per start.
    found = rows(f"""
        WITH raw AS (
            SELECT DISTINCT ON (e.user_id, e.anonymous_id) e.user_id, e.anonymous_id, e.id, e.timestamp,
                   e.properties->>'cart_id' AS cart, e.properties->'products' AS products
            FROM tracking_event e
            WHERE e.event = 'Checkout Started' AND e.timestamp > %(oldest)s AND e.timestamp <= %(now)s
            ORDER BY e.user_id, e.anonymous_id, e.timestamp DESC, e.id DESC),
        started AS (
            SELECT DISTINCT ON (person) person, id, timestamp, cart, products FROM (
                SELECT {EVENT_PERSON} AS person, e.* FROM raw e {EVENT_PERSON_JOINS}) s
            WHERE person IS NOT NULL ORDER BY person, timestamp DESC, id DESC),
        ordered AS (
            SELECT {ORDER_PERSON} AS person, MAX(o.date_placed) AS last FROM order_order o
            WHERE o.date_placed > %(oldest)s AND o.date_placed <= %(now)s GROUP BY 1)
        SELECT s.person, s.id, s.timestamp, s.cart, b.id,
               ARRAY(SELECT x->>'product_id' FROM jsonb_array_elements(
                   CASE WHEN jsonb_typeof(s.products) = 'array' THEN s.products ELSE '[]'::jsonb END) x)
        FROM started s
        JOIN ecrm_profile p ON p.person_key = s.person AND {REACHABLE}
        LEFT JOIN ordered od ON od.person = s.person
        LEFT JOIN basket_basket b ON s.cart ~ '^[0-9]{{1,18}}$' AND b.id = s.cart::bigint AND b.status <> 'Submitted'
        WHERE s.timestamp <= %(ready)s AND (od.last IS NULL OR od.last < s.timestamp)
          AND NOT EXISTS (SELECT 1 FROM order_order o WHERE s.cart ~ '^[0-9]{{1,18}}$' AND o.basket_id = s.cart::bigint)""",
                 {"now": now, "ready": ready, "oldest": oldest})
    delay = hours(settings["delay_hours"])
    for person, event_id, started_at, cart, basket_id, products in found:
        context = {"product_ids": [int(p) for p in dict.fromkeys(products) if p and p.isdigit()]}
        if basket_id:
            context["basket_id"] = basket_id
        yield Due(person, cart if cart else f"event-{event_id}", context, at=started_at + delay)


abandoned_basket = register(Trigger(
    kind="abandoned_basket", label="Abandoned basket",
    description="A customer left products in their basket and has not started checkout or ordered.",
    params=(DELAY, MAX_AGE), find=find_abandoned_baskets, topic="offers",
    flow_template=(
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_ABANDONED_BASKET"},
        {"wait_hours": 24, "action": "voucher", "percent": 10, "valid_days": 3},
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_ABANDONED_BASKET_OFFER"},
    ),
    exits=("order_placed", "basket_emptied", "unsubscribed"),
))

abandoned_checkout = register(Trigger(
    kind="abandoned_checkout", label="Abandoned checkout",
    description="A customer started checkout and placed no order.",
    params=(Param("delay_hours", "Wait after checkout started (hours)", "float", default=1, min=0.25, max=24 * 14),
            Param("max_age_days", "Ignore checkouts older than (days)", "int", default=7, min=1, max=90)),
    find=find_abandoned_checkouts, topic="offers",
    flow_template=(
        {"wait_hours": 0, "action": "email", "template": "CAMPAIGN_ABANDONED_CHECKOUT"},
        {"wait_hours": 48, "action": "sms", "text": "{{ customer.first_name|default:'Hello' }}, your basket at "
                                                   "{{ shop_name }} is still waiting for you."},
    ),
    exits=("order_placed", "unsubscribed"),
))
