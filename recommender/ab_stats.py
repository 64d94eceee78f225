"""Confidence intervals for A/B results: plain Python over counts and per-visitor values.

* A rate (click-through) gets the Wilson score interval (Wilson 1927), which stays inside
  [0, 1] and behaves with few events, unlike the normal approximation.
* The difference of two rates gets Newcombe's hybrid score interval (Newcombe 1998,
  method 10), built from the two Wilson intervals.
* A mean per visitor (orders, revenue) gets Student's t interval; the difference of two
  means Welch's interval (unequal variances, Welch–Satterthwaite degrees of freedom).
* A ratio of sums over visitors (revenue per impression) gets the delta-method interval
  with the visitor as the unit, since a visitor's impressions are not independent.

Every interval is at 95%; a difference is significant when its interval excludes zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

Z = 1.959963984540054  # the standard normal's 97.5% quantile


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None

    @property
    def significant(self) -> bool:
        """For a difference: its interval excludes zero."""
        return self.low is not None and (self.low > 0 or self.high < 0)


NONE = Estimate(None, None, None)


def wilson(successes: int, n: int) -> Estimate:
    if n <= 0:
        return NONE
    p = successes / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half))


def rate_difference(x1: int, n1: int, x2: int, n2: int) -> Estimate:
    """Second rate minus the first (variant − control), Newcombe's interval."""
    if n1 <= 0 or n2 <= 0:
        return NONE
    a, b = wilson(x1, n1), wilson(x2, n2)
    d = b.value - a.value
    low = d - math.sqrt((b.value - b.low) ** 2 + (a.high - a.value) ** 2)
    high = d + math.sqrt((b.high - b.value) ** 2 + (a.value - a.low) ** 2)
    return Estimate(d, low, high)


def _mean_var(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    return mean, (sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0)


def mean(values: list[float]) -> Estimate:
    n = len(values)
    if n == 0:
        return NONE
    m, var = _mean_var(values)
    if n == 1:
        return Estimate(m, None, None)
    half = stats.t.ppf(0.975, n - 1) * math.sqrt(var / n)
    return Estimate(m, m - half, m + half)


def mean_difference(first: list[float], second: list[float]) -> Estimate:
    """Mean of ``second`` minus mean of ``first``, Welch's interval."""
    n1, n2 = len(first), len(second)
    if n1 < 2 or n2 < 2:
        return NONE
    (m1, v1), (m2, v2) = _mean_var(first), _mean_var(second)
    se2 = v1 / n1 + v2 / n2
    d = m2 - m1
    if se2 == 0:
        return Estimate(d, d, d)
    df = se2 ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(se2)
    return Estimate(d, d - half, d + half)


def _ratio(numerators: list[float], denominators: list[float]) -> tuple[float, float] | None:
    """sum(y) / sum(x) and its delta-method variance, over units (visitors)."""
    n, total = len(numerators), sum(denominators)
    if n < 2 or total <= 0:
        return None
    r = sum(numerators) / total
    _m, var = _mean_var([y - r * x for y, x in zip(numerators, denominators)])
    return r, var / (n * (total / n) ** 2)


def ratio(numerators: list[float], denominators: list[float]) -> Estimate:
    found = _ratio(numerators, denominators)
    if found is None:
        total = sum(denominators)
        return Estimate(sum(numerators) / total, None, None) if total > 0 else NONE
    r, var = found
    half = Z * math.sqrt(var)
    return Estimate(r, r - half, r + half)


def ratio_difference(first: tuple[list, list], second: tuple[list, list]) -> Estimate:
    """Ratio of ``second`` minus ratio of ``first`` (each a pair numerators, denominators)."""
    a, b = _ratio(*first), _ratio(*second)
    if a is None or b is None:
        return NONE
    d = b[0] - a[0]
    half = Z * math.sqrt(a[1] + b[1])
    return Estimate(d, d - half, d + half)


def rate_ratio(x1: int, n1: int, x2: int, n2: int) -> Estimate:
    """Second rate over the first (variant ÷ control), Katz's log interval (Katz et al.
    1978): exp(ln RR ± z·√(1/x2 − 1/n2 + 1/x1 − 1/n1)). Needs an event in each group."""
    if n1 <= 0 or n2 <= 0 or x1 <= 0:
        return NONE  # no control rate to divide by
    if x2 <= 0:
        return Estimate(0.0, None, None)
    rr = (x2 / n2) / (x1 / n1)
    half = Z * math.sqrt(1 / x2 - 1 / n2 + 1 / x1 - 1 / n1)
    return Estimate(rr, rr * math.exp(-half), rr * math.exp(half))
