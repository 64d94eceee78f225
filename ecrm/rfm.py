"""RFM: recency, frequency and monetary quintile scores and the usual named groups
(plain Python over plain data).

Scores are 1–5 by percentile rank among customers with at least one order (ties share
their average rank, so the many one-order customers all get the same frequency score):
5 is best — the most recent, the most orders, the most spent.

Groups, decided in this order on R and FM = (F + M) / 2:

=====================  ===================================  =============================
group                  rule                                  who
=====================  ===================================  =============================
New                    R ≥ 4 and F = 1                       first order, recently
Champions              R ≥ 4 and FM ≥ 4                      recent, frequent, big spenders
Loyal                  R ≥ 3 and FM ≥ 3                      regulars
Potential loyalists    R ≥ 3                                  recent, not much yet
Cannot lose them       R ≤ 2 and FM ≥ 4.5                    best customers, gone quiet
At risk                R ≤ 2 and FM ≥ 3                      good customers, gone quiet
Hibernating            R = 2                                  low value, quiet a while
Lost                   otherwise (R = 1)                      low value, quiet a long time
=====================  ===================================  =============================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import rankdata

GROUPS = ["Champions", "Loyal", "Potential loyalists", "New", "At risk", "Cannot lose them", "Hibernating",
          "Lost"]


@dataclass(frozen=True)
class Customer:
    key: object
    days_since_last_order: float
    orders: int
    revenue: float


def quintiles(values: list[float]) -> list[int]:
    """1–5 by percentile rank (higher value, higher score); ties share a score."""
    if not values:
        return []
    ranks = rankdata(values, method="average")
    return [min(5, max(1, math.ceil(5 * rank / len(values)))) for rank in ranks]


def rfm_group(r: int, f: int, m: int) -> str:
    fm = (f + m) / 2
    if r >= 4 and f == 1:
        return "New"
    if r >= 4 and fm >= 4:
        return "Champions"
    if r >= 3 and fm >= 3:
        return "Loyal"
    if r >= 3:
        return "Potential loyalists"
    if fm >= 4.5:
        return "Cannot lose them"
    if fm >= 3:
        return "At risk"
    if r == 2:
        return "Hibernating"
    return "Lost"


def rfm_scores(customers: list[Customer]) -> dict[object, tuple[int, int, int, str]]:
    """key -> (R, F, M, group) for customers with at least one order."""
    buyers = [c for c in customers if c.orders > 0]
    recency = quintiles([-c.days_since_last_order for c in buyers])  # fewer days is better
    frequency = quintiles([c.orders for c in buyers])
    monetary = quintiles([c.revenue for c in buyers])
    return {c.key: (r, f, m, rfm_group(r, f, m)) for c, r, f, m in zip(buyers, recency, frequency, monetary)}
