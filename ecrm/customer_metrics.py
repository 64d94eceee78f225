"""Customer metrics over plain data (no ORM): Pareto share and Lorenz curve, monthly
cohort retention, repeat purchase rate, new customers and average order value per month.

Orders arrive as ``Purchase`` rows whose ``person`` is already resolved to the customer
(``ecrm.customer_reports.store_orders`` does that as profiles do), so every rule here
can be checked by hand in a millisecond test.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

PARETO_SHARE = 0.2  # "the top 20 % of customers"


@dataclass(frozen=True)
class Purchase:
    order_id: int
    person: str
    placed_at: datetime  # in the store's time zone
    total: Decimal


def month_of(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def pareto(revenue_by_customer: dict[str, Decimal], share: float = PARETO_SHARE) -> dict:
    """The revenue share of the best ``share`` of customers (rounded up, at least one), and
    the Lorenz-style curve: cumulative share of revenue against cumulative share of
    customers, biggest spenders first, at each percent of customers (101 points)."""
    amounts = sorted((float(v) for v in revenue_by_customer.values()), reverse=True)
    total, customers = sum(amounts), len(amounts)
    if not customers or total <= 0:
        return {"customers": customers, "top_customers": 0, "top_revenue": 0.0, "revenue": total,
                "top_share": None, "gini": None, "curve": []}
    top = max(1, math.ceil(customers * share - 1e-9))
    top_revenue = sum(amounts[:top])
    cumulative = [0.0]
    for amount in amounts:
        cumulative.append(cumulative[-1] + amount)
    curve = []
    for percent in range(101):
        position = customers * percent / 100  # customers covered, possibly fractional
        whole = int(position)
        value = cumulative[whole] + (amounts[whole] * (position - whole) if whole < customers else 0)
        curve.append({"customers": percent, "revenue": round(100 * value / total, 2)})
    # Gini from the ascending Lorenz curve: 1 - sum over customers of (L(i-1) + L(i)) / n.
    ascending, running, area = sorted(amounts), 0.0, 0.0
    for amount in ascending:
        area += (2 * running + amount) / total
        running += amount
    return {"customers": customers, "top_customers": top, "top_revenue": top_revenue, "revenue": total,
            "top_share": top_revenue / total, "gini": 1 - area / customers, "curve": curve}


def first_orders(purchases: list[Purchase]) -> dict[str, datetime]:
    """Each customer's first order ever (of the purchases given)."""
    first: dict[str, datetime] = {}
    for purchase in purchases:
        if purchase.person not in first or purchase.placed_at < first[purchase.person]:
            first[purchase.person] = purchase.placed_at
    return first


def cohort_retention(purchases: list[Purchase], *, first_month: date, last_month: date) -> list[dict]:
    """Customers grouped by the month of their first order (cohorts from ``first_month`` to
    ``last_month``); for each month since, the share of the cohort that ordered in that
    month. Month 0 is 100 % by definition; months after ``last_month`` are not shown."""
    first = first_orders(purchases)
    cohorts: dict[date, set[str]] = defaultdict(set)
    for person, moment in first.items():
        month = month_of(moment)
        if first_month <= month <= last_month:
            cohorts[month].add(person)
    active: dict[tuple[date, int], set[str]] = defaultdict(set)
    for purchase in purchases:
        if purchase.person in first:
            cohort = month_of(first[purchase.person])
            if cohort in cohorts:
                active[(cohort, months_between(cohort, month_of(purchase.placed_at)))].add(purchase.person)
    rows = []
    month = first_month
    while month <= last_month:
        size = len(cohorts.get(month, ()))
        span = months_between(month, last_month)
        retained = [len(active.get((month, k), ())) for k in range(span + 1)]
        rows.append({"cohort": month, "customers": size, "retained": retained,
                     "rates": [count / size if size else None for count in retained]})
        month = add_months(month, 1)
    return rows


def average_retention(rows: list[dict]) -> list[float | None]:
    """Per month since first order, retained customers over the customers of the cohorts
    old enough to have reached that month (a weighted average)."""
    span = max((len(row["retained"]) for row in rows), default=0)
    result = []
    for k in range(span):
        reached = [row for row in rows if len(row["retained"]) > k and row["customers"]]
        size = sum(row["customers"] for row in reached)
        result.append(sum(row["retained"][k] for row in reached) / size if size else None)
    return result


def customer_summary(purchases: list[Purchase], since: datetime, until: datetime) -> dict:
    """Orders, revenue, customers and AOV in [since, until); new customers are those whose
    first order ever is in the period; the repeat purchase rate is the share of the
    period's customers who have ordered more than once by its end (earlier orders count)."""
    orders, revenue = 0, Decimal("0")
    orders_to_date: Counter = Counter()
    first: dict[str, datetime] = {}
    customers = set()
    for purchase in purchases:  # one pass: this runs over the store's whole history
        if purchase.placed_at >= until:
            continue
        person = purchase.person
        orders_to_date[person] += 1
        if person not in first or purchase.placed_at < first[person]:
            first[person] = purchase.placed_at
        if purchase.placed_at >= since:
            orders += 1
            revenue += purchase.total
            customers.add(person)
    repeat = sum(1 for person in customers if orders_to_date[person] > 1)
    return {
        "orders": orders, "revenue": revenue, "customers": len(customers),
        "average_order_value": revenue / orders if orders else None,
        "new_customers": sum(1 for person in customers if first[person] >= since),
        "repeat_customers": repeat,
        "repeat_rate": repeat / len(customers) if customers else None,
    }


def monthly_order_values(purchases: list[Purchase], *, first_month: date, last_month: date) -> list[dict]:
    """Orders, revenue and average order value per calendar month."""
    totals: dict[date, list] = defaultdict(lambda: [0, Decimal("0")])
    for purchase in purchases:
        month = month_of(purchase.placed_at)
        if first_month <= month <= last_month:
            totals[month][0] += 1
            totals[month][1] += purchase.total
    return monthly_value_rows(totals, first_month=first_month, last_month=last_month)


def monthly_value_rows(totals: dict, *, first_month: date, last_month: date) -> list[dict]:
    """One row per calendar month from ``totals`` (month -> (orders, revenue)), empty months
    included: what the report and the per-order table's SQL both end with."""
    rows, month = [], first_month
    while month <= last_month:
        orders, revenue = totals.get(month, (0, Decimal("0")))
        rows.append({"month": month, "orders": orders, "revenue": revenue,
                     "average_order_value": revenue / orders if orders else None})
        month = add_months(month, 1)
    return rows


def price_band_label(bands: list[float], index: int) -> str:
    """``bands`` are the upper bounds (exclusive) of all bands but the last."""
    if index == 0:
        return f"under {bands[0]:g}"
    if index == len(bands):
        return f"{bands[-1]:g} and over"
    return f"{bands[index - 1]:g}–{bands[index]:g}"


def price_band_index(bands: list[float], unit_price: float) -> int:
    for index, bound in enumerate(bands):
        if unit_price < bound:
            return index
    return len(bands)
