"""Each Oscar order with its resolved customer (``CustomerOrder``), kept incrementally, and the
Customers report's figures grouped from those rows in the database.

Why: the report needs every order's customer (cohorts, new and repeat customers, the Pareto
share), and resolving 100,000 orders per request (``customer_reports.store_orders``: read
each order, follow claims, aliases and merges in Python) took 0.9–2.8 s. The rows are
kept current where who-is-who changes:

* an order is saved (placed, re-dated, cancelled): ``ecrm.receivers``;
* tracking stores an ``identify`` with an e-mail or an ``alias``: counted with the pending
  aggregates (``ecrm.aggregates_pending``), moments after the consumer stored it;
* staff merge two profiles (``ecrm.duplicates.profile_merge``) or erase a customer
  (``ecrm.privacy.customer_erase``): in their transaction;
* ``ecrm_rebuild_aggregates --customers`` recomputes every row.

An order's own key (``base_person``) is its account, else its guest e-mail, else (an
erased customer's or a deleted account's order) the person its "Order Completed" event
belongs to now — after an erasure, the pseudonym the customer's events moved to, so an
erased customer still counts as one customer — else the order alone. ``person`` is who
that key is now (``ecrm.services.owners_of``). ``store_orders`` resolves orders the same
way at query time: the tests hold the two to the same figures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection
from oscar.core.loading import get_model

from ecrm.customer_metrics import Purchase, add_months, monthly_value_rows, months_between
from ecrm.models import CustomerOrder, Profile, Segment, SegmentMembership

Order = get_model("order", "Order")
CHUNK = 5000


def base_persons(rows: list[tuple]) -> dict[int, str]:
    """(order id, user id, guest e-mail, number) -> the order's own person key."""
    from tracking.graph import guest_person
    from tracking.models import Event

    found, orphans = {}, {}
    for pk, user_id, email, number in rows:
        if user_id:
            found[pk] = str(user_id)
        elif (email or "").strip():
            found[pk] = guest_person(email)
        else:
            orphans[f"order-{number}-completed"] = pk
    if orphans:
        for message_id, user_id, anonymous_id in Event.objects.filter(message_id__in=list(orphans)).values_list(
                "message_id", "user_id", "anonymous_id"):
            found[orphans.pop(message_id)] = user_id or anonymous_id or ""
    for pk in orphans.values():
        found[pk] = ""
    return {pk: key or f"order:{pk}" for pk, key in found.items()}


def customer_orders_refresh(*, order_ids=None) -> int:
    """Write the ``CustomerOrder`` rows of these orders (all orders when None, and rows of
    orders gone are deleted); returns how many were written."""
    from ecrm.customer_reports import NOT_PURCHASES
    from ecrm.services import owners_of

    orders = Order.objects.all() if order_ids is None else Order.objects.filter(pk__in=list(order_ids))
    rows = list(orders.values_list("pk", "user_id", "guest_email", "number", "date_placed", "total_incl_tax",
                                   "status").iterator(chunk_size=CHUNK))
    bases = base_persons([row[:4] for row in rows])
    owner = owners_of(set(bases.values()))
    if order_ids is None:
        CustomerOrder.objects.all().delete()
    elif len(rows) < len(set(order_ids)):
        CustomerOrder.objects.filter(order_id__in=set(order_ids) - {row[0] for row in rows}).delete()
    CustomerOrder.objects.bulk_create(
        [CustomerOrder(order_id=pk, base_person=bases[pk][:254], person=owner[bases[pk]][:254], placed_at=placed,
                       total=total or Decimal("0"), is_sale=status not in NOT_PURCHASES)
         for pk, _user, _email, _number, placed, total, status in rows],
        update_conflicts=True, unique_fields=["order_id"], batch_size=2000,
        update_fields=["base_person", "person", "placed_at", "total", "is_sale"])
    return len(rows)


def customer_orders_rekey(*, persons: set[str]) -> int:
    """Identity links of these person keys changed (a claim, an alias, a merge): the orders
    whose own key or current customer is one of them are resolved again. Returns the rows
    that changed hands."""
    from ecrm.services import owners_of

    persons = {p for p in persons if p}
    if not persons:
        return 0
    rows = list(CustomerOrder.objects.filter(base_person__in=persons).values_list("order_id", "base_person", "person")
                .union(CustomerOrder.objects.filter(person__in=persons).values_list(
                    "order_id", "base_person", "person")))
    owner = owners_of({base for _pk, base, _person in rows})
    moved = defaultdict(list)
    for pk, base, person in rows:
        if owner[base] != person:
            moved[owner[base]].append(pk)
    for person, order_ids in moved.items():
        CustomerOrder.objects.filter(order_id__in=order_ids).update(person=person[:254])
    return sum(len(ids) for ids in moved.values())


def identities_changed(events) -> None:
    """Stored events that may change who a customer is (an ``identify`` with an e-mail from
    the server or a server-side SDK, an ``alias``): their orders are resolved again."""
    from tracking.graph import guest_person

    persons = set()
    for event in events:
        if event.type == "identify" and event.user_id and event.source != "browser" and event.traits.get("email"):
            persons |= {event.user_id, guest_person(str(event.traits["email"]))}
        elif event.type == "alias" and event.user_id and event.properties.get("previous_id"):
            persons |= {event.user_id, str(event.properties["previous_id"])}
    customer_orders_rekey(persons=persons)


# --- The Customers report's figures, grouped in the database ------------------------------------

def _local_midnight(month: date) -> datetime:
    from django.utils import timezone

    return datetime.combine(month, time.min, tzinfo=timezone.get_current_timezone())


def _zone() -> str:
    from django.utils import timezone

    return str(timezone.get_current_timezone())


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql.format(t=CustomerOrder._meta.db_table), params)
        return cursor.fetchall()


def table_purchases(*, until: datetime) -> list[Purchase]:
    """The rows as ``Purchase``es (sales before ``until``), for databases other than PostgreSQL."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    return [Purchase(pk, person, placed.astimezone(zone), total) for pk, person, placed, total in
            CustomerOrder.objects.filter(is_sale=True, placed_at__lt=until).values_list(
                "order_id", "person", "placed_at", "total")]


def period_summary(since: datetime, until: datetime) -> dict:
    """``customer_metrics.customer_summary``'s figures from the rows: grouped in the database
    on PostgreSQL (``summary``), in Python elsewhere."""
    from ecrm.customer_metrics import customer_summary

    if connection.vendor == "postgresql":
        return summary(since, until)
    return customer_summary(table_purchases(until=until), since, until)


def summary(since: datetime, until: datetime) -> dict:
    """``customer_metrics.customer_summary``'s figures, grouped in PostgreSQL."""
    ((orders, revenue, customers, new, repeat),) = _fetch(
        "SELECT coalesce(sum(n), 0), coalesce(sum(revenue), 0), count(*) FILTER (WHERE n > 0), "
        "count(*) FILTER (WHERE n > 0 AND first >= %(since)s), count(*) FILTER (WHERE n > 0 AND every > 1) "
        "FROM (SELECT person, count(*) FILTER (WHERE placed_at >= %(since)s) AS n, "
        "sum(total) FILTER (WHERE placed_at >= %(since)s) AS revenue, count(*) AS every, min(placed_at) AS first "
        "FROM {t} WHERE is_sale AND placed_at < %(until)s GROUP BY person) AS customers",
        {"since": since, "until": until})
    return {"orders": orders, "revenue": revenue, "customers": customers,
            "average_order_value": revenue / orders if orders else None, "new_customers": new,
            "repeat_customers": repeat, "repeat_rate": repeat / customers if customers else None}


def revenue_by_customer(since: datetime, until: datetime) -> dict[int, float]:
    """Each customer's revenue in the period, as ``pareto`` takes it (it only needs the
    amounts, as floats: PostgreSQL converts them, as exactly as Python would)."""
    return dict(enumerate(amount for (amount,) in _fetch(
        "SELECT sum(total)::float8 FROM {t} WHERE is_sale AND placed_at >= %(since)s AND placed_at < %(until)s "
        "GROUP BY person", {"since": since, "until": until})))


def _month(column: str) -> str:
    return f"date_trunc('month', {column} AT TIME ZONE %(zone)s)::date"


def cohort_retention(*, first_month: date, last_month: date, until: datetime) -> list[dict]:
    """``customer_metrics.cohort_retention``'s rows (sales before ``until``)."""
    # Each customer's months with a sale, and the first of them (their cohort): one pass.
    active = {(cohort, months_between(cohort, month)): customers for cohort, month, customers in _fetch(
        f"WITH months AS (SELECT person, {_month('placed_at')} AS month FROM {{t}} "
        "WHERE is_sale AND placed_at < %(until)s GROUP BY 1, 2), "
        "cohorts AS (SELECT month, min(month) OVER (PARTITION BY person) AS cohort FROM months) "
        "SELECT cohort, month, count(*) FROM cohorts WHERE cohort BETWEEN %(first)s AND %(last)s GROUP BY 1, 2",
        {"zone": _zone(), "until": until, "first": first_month, "last": last_month})}
    sizes = {cohort: customers for (cohort, since_first), customers in active.items() if since_first == 0}
    rows, month = [], first_month
    while month <= last_month:
        size = sizes.get(month, 0)
        retained = [active.get((month, k), 0) for k in range(months_between(month, last_month) + 1)]
        rows.append({"cohort": month, "customers": size, "retained": retained,
                     "rates": [count / size if size else None for count in retained]})
        month = add_months(month, 1)
    return rows


def monthly_order_values(*, first_month: date, last_month: date, until: datetime) -> list[dict]:
    """``customer_metrics.monthly_order_values``'s rows (sales before ``until``)."""
    totals = {month: (orders, revenue) for month, orders, revenue in _fetch(
        f"SELECT {_month('placed_at')} AS month, count(*), sum(total) FROM {{t}} WHERE is_sale "
        "AND placed_at >= %(since)s AND placed_at < %(until)s GROUP BY 1",
        {"zone": _zone(), "since": _local_midnight(first_month), "until": until})}
    return monthly_value_rows(totals, first_month=first_month, last_month=last_month)


def sales_by_segment(since: datetime, until: datetime) -> list[dict]:
    """``customer_reports.sales_by_segment``'s rows: per segment (current members), the
    customers who ordered in the period, their orders and revenue."""
    quote = connection.ops.quote_name
    rows = _fetch(
        "WITH buyers AS (SELECT person, count(*) AS orders, sum(total) AS revenue FROM {t} WHERE is_sale "
        "AND placed_at >= %(since)s AND placed_at < %(until)s GROUP BY person), "
        f"members AS (SELECT DISTINCT p.person_key, s.name FROM {quote(SegmentMembership._meta.db_table)} AS m "
        f"JOIN {quote(Profile._meta.db_table)} AS p ON p.id = m.profile_id "
        f"JOIN {quote(Segment._meta.db_table)} AS s ON s.id = m.segment_id WHERE m.left_at IS NULL) "
        "SELECT coalesce(members.name, '(in no segment)'), count(*), sum(buyers.orders), sum(buyers.revenue) "
        "FROM buyers LEFT JOIN members ON members.person_key = buyers.person GROUP BY 1",
        {"since": since, "until": until})
    return sorted(({"segment": name, "customers": customers, "orders": orders, "revenue": revenue}
                   for name, customers, orders, revenue in rows), key=lambda r: (-r["revenue"], r["segment"]))
