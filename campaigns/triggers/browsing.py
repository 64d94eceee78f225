"""Browse abandonment: a product a customer viewed several times in a period and never
added to the basket (nor bought), once they have stopped browsing for a while.

One firing per customer, product and week (``window`` = ``<product id>:<ISO week>``): the
product they looked at most leads, the others they hesitated over follow in
``product_ids``; the same product can come back the next week if they are still at it.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.triggers.base import Due, Param, Trigger, register
from campaigns.triggers.sql import EVENT_PERSON, EVENT_PERSON_JOINS, REACHABLE, days, hours, iso_week, rows

MAX_PRODUCTS = 4


def find_browse_abandonment(settings: dict, now: datetime):
    since, quiet = now - days(settings["period_days"]), now - hours(settings["delay_hours"])
    found = rows(f"""
        WITH activity AS (
            SELECT {EVENT_PERSON} AS person, e.event, e.properties->>'product_id' AS product, e.timestamp
            FROM tracking_event e {EVENT_PERSON_JOINS}
            WHERE e.event IN ('Product Viewed', 'Product Added') AND e.timestamp > %(since)s
              AND e.timestamp <= %(now)s AND e.properties->>'product_id' ~ '^[0-9]{{1,18}}$'),
        viewed AS (
            SELECT person, product::bigint AS product, COUNT(*) AS views, MAX(timestamp) AS last_view
            FROM activity WHERE event = 'Product Viewed' AND person IS NOT NULL
            GROUP BY person, product HAVING COUNT(*) >= %(views)s),
        hesitated AS (
            SELECT v.* FROM viewed v JOIN ecrm_profile p ON p.person_key = v.person AND {REACHABLE}
            WHERE NOT EXISTS (SELECT 1 FROM activity a WHERE a.person = v.person AND a.event = 'Product Added'
                              AND a.product = v.product::text)
              AND NOT EXISTS (SELECT 1 FROM order_order o JOIN order_line l ON l.order_id = o.id
                              WHERE l.product_id = v.product AND o.date_placed > %(since)s AND o.date_placed <= %(now)s
                                AND (o.user_id::text = v.person OR 'email:' || LOWER(o.guest_email) = v.person)))
        SELECT person, ARRAY_AGG(product ORDER BY views DESC, last_view DESC), MAX(last_view)
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
