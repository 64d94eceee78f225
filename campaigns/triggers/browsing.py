"""Browse abandonment: a product a customer viewed several times in a period and never
added to the basket (nor bought), once they have stopped browsing for a while.

One firing per customer, product and week (``window`` = ``<product id>:<ISO week>``): the
product they looked at most leads, the others they hesitated over follow in
``product_ids``; the same product can come back the next week if they are still at it.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.sql import (EVENT_PERSON, EVENT_PERSON_JOINS, ORDER_PERSON, REACHABLE, days, hours, iso_week,
                                    rows)

MAX_PRODUCTS = 4


def find_browse_abandonment(settings: dict, now: datetime):
    since, quiet = now - days(settings["period_days"]), now - hours(settings["delay_hours"])
    # Events are counted per visitor and product first, then resolved to people (far fewer
    # identity look-ups than one per event); purchases and additions are anti-joined by hash.
    found = rows(f"""
        WITH raw AS (
            SELECT e.user_id, e.anonymous_id, e.event, e.properties->>'product_id' AS product,
                   COUNT(*) AS n, MAX(e.timestamp) AS last
            FROM tracking_event e
            WHERE e.event IN ('Product Viewed', 'Product Added') AND e.timestamp > %(since)s AND e.timestamp <= %(now)s
            GROUP BY 1, 2, 3, 4),
        activity AS (
            SELECT {EVENT_PERSON} AS person, e.event, e.product, SUM(e.n) AS n, MAX(e.last) AS last
            FROM raw e {EVENT_PERSON_JOINS}
            WHERE e.product ~ '^[0-9]{{1,18}}$' GROUP BY 1, 2, 3),
        bought AS (
            SELECT DISTINCT {ORDER_PERSON} AS person, l.product_id::text AS product
            FROM order_order o JOIN order_line l ON l.order_id = o.id
            WHERE o.date_placed > %(since)s AND o.date_placed <= %(now)s AND l.product_id IS NOT NULL),
        hesitated AS (
            -- NOT IN over a small set: a hashed look-up (the planner cannot estimate these
            -- aggregates well enough to choose a hash anti-join itself).
            SELECT v.person, v.product, v.n AS views, v.last AS last_view FROM activity v
            JOIN ecrm_profile p ON p.person_key = v.person AND {REACHABLE}
            WHERE v.event = 'Product Viewed' AND v.n >= %(views)s AND v.person IS NOT NULL
              AND (v.person, v.product) NOT IN (SELECT a.person, a.product FROM activity a
                                                WHERE a.event = 'Product Added' AND a.person IS NOT NULL)
              AND (v.person, v.product) NOT IN (SELECT b.person, b.product FROM bought b))
        SELECT person, ARRAY_AGG(product::bigint ORDER BY views DESC, last_view DESC, product), MAX(last_view)
        FROM hesitated GROUP BY person HAVING MAX(last_view) <= %(quiet)s""",
                 {"since": since, "now": now, "quiet": quiet, "views": settings["min_views"]})
    week, delay = iso_week(now), hours(settings["delay_hours"])
    for person, products, last_view in found:
        yield Due(person, f"{products[0]}:{week}", {"product_ids": products[:MAX_PRODUCTS]}, at=last_view + delay)


browse_abandonment = register(Trigger(
    kind="browse_abandonment", label="Browse abandonment",
    description="A customer viewed a product several times and never added it to the basket.",
    params=(Param("min_views", "Views of the product at least", "int", default=3, min=1, max=100),
            Param("period_days", "Within (days)", "int", default=7, min=1, max=60),
            Param("delay_hours", "Wait after the last view (hours)", "float", default=2, min=0, max=24 * 7,
                  help="so nobody is mailed while still browsing")),
    find=find_browse_abandonment, topic="offers",
    flow_template=({"wait_hours": 0, "action": "email", "template": "CAMPAIGN_BROWSE_ABANDONMENT"},),
    exits=("product_added", "order_placed", "unsubscribed"),
))
