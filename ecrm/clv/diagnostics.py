"""Fit diagnostics: predicted against actual repeat purchases in a holdout period.

Two views, as in Fader, Hardie & Lee (2005), section 4:

* by calibration frequency (their conditional-expectations plot): for customers grouped by the
  number of repeat purchases x in the calibration period (0..6 and 7+), the
  mean actual number of purchases in the holdout period against the mean
  conditional expectation E[Y(t*) | x, t_x, T] (equation 10);
* week by week (their cumulative tracking plot): cumulative repeat purchases of the whole
  cohort against the sum over customers of E[X(t - s_i)] (equation 9),
  s_i being the customer's first purchase time.

Results are plain lists of dicts, ready to print or to chart.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from . import bgnbd
from .summary import CustomerSummary, Purchases, holdout_counts, summarise
from .value import fit_models


def by_frequency(params, summary: CustomerSummary, actual: np.ndarray, holdout_weeks: float,
                 top_bucket: int = 7) -> list[dict]:
    """Mean actual and predicted holdout purchases per calibration-frequency bucket."""
    x = summary.frequency
    predicted = bgnbd.conditional_expected_purchases(
        params, np.full_like(x, holdout_weeks), x, summary.recency, summary.T)
    rows = []
    for bucket in range(top_bucket + 1):
        members = x >= bucket if bucket == top_bucket else x == bucket
        if not np.any(members):
            continue
        rows.append({
            "frequency": f"{bucket}+" if bucket == top_bucket else str(bucket),
            "customers": int(members.sum()),
            "actual": float(actual[members].mean()),
            "predicted": float(predicted[members].mean()),
        })
    return rows


def weekly_cumulative(params, purchases: Purchases, summary: CustomerSummary, end: date) -> list[dict]:
    """Cumulative actual and expected repeat purchases at the end of each week.

    Week k runs to (and includes) ``origin + 7k - 1`` days, the origin being
    the earliest first purchase; times are measured as in the summary, so
    the week that contains the observation end closes on it when the
    calibration period is a whole number of weeks (as for CDNOW).
    """
    origin = min(summary.first_purchase)
    firsts = np.asarray([(f - origin).days for f in summary.first_purchase], dtype=float)
    repeat_days = np.sort(np.asarray([
        (d - origin).days
        for customer, first in zip(summary.customer_ids, summary.first_purchase)
        for d in purchases.days[customer] if first < d <= end
    ], dtype=float))
    rows = []
    weeks = ((end - origin).days + 1 + 6) // 7
    # First purchases fall on a few hundred distinct days: E[X] once per day, then gathered.
    days, day_of = np.unique(firsts, return_inverse=True)
    for week in range(1, weeks + 1):
        cut = 7 * week - 1
        started = firsts <= cut
        expected = float(bgnbd.expected_purchases(params, np.maximum(cut - days, 0) / 7.0)[day_of[started]].sum())
        actual = int(np.searchsorted(repeat_days, cut, side="right"))
        rows.append({"week": week, "date": (origin + timedelta(days=cut)).isoformat(),
                     "actual": actual, "expected": expected})
    return rows


def holdout(purchases: Purchases, observation_end: date, holdout_end: date | None = None) -> dict:
    """Fit on purchases up to ``observation_end`` and compare with what followed.

    Returns ``{"bgnbd": {...}, "holdout_weeks": t*, "actual_total": ..,
    "predicted_total": .., "by_frequency": [...], "weekly": [...]}``.
    """
    holdout_end = holdout_end or purchases.last_date
    if holdout_end <= observation_end:
        raise ValueError("the holdout end must be after the observation end")
    summary = summarise(purchases, observation_end)
    fitted = fit_models(summary)
    params = fitted.bgnbd.params
    weeks = (holdout_end - observation_end).days / 7.0
    actual = holdout_counts(purchases, summary, holdout_end)
    predicted = bgnbd.conditional_expected_purchases(
        params, np.full_like(actual, weeks), summary.frequency, summary.recency, summary.T)
    return {
        "bgnbd": fitted.bgnbd.as_dict(),
        "holdout_weeks": weeks,
        "actual_total": float(actual.sum()),
        "predicted_total": float(predicted.sum()),
        "by_frequency": by_frequency(params, summary, actual, weeks),
        "weekly": weekly_cumulative(params, purchases, summary, holdout_end),
    }
