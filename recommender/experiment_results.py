"""An A/B test's results per arm, and the variant's difference from the control.

The unit is the visitor (the person key serving saw). Per arm: visitors exposed and their
impressions (counted in Redis as slots render), clicks (tracker events whose token names
the arm's version, between start and stop), click-through rate, and the orders and
revenue attributed to those clicks as in the slot report (the customer's order of the
clicked product within ATTRIBUTION_DAYS), per visitor and per impression. Intervals and
the significance of differences come from ``recommender.ab_stats``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import redis
from django.utils import timezone

from recommender import ab_stats
from recommender.attribution import ATTRIBUTION_DAYS, attributed_lines, token_clicks
from recommender.experiments import CONTROL, VARIANT, daily_impressions, exposures
from recommender.models import Experiment


def _arm_rows(experiment: Experiment) -> tuple[dict, dict]:
    """arm -> per-visitor figures {visitor: [impressions, clicks, orders, revenue]}, and
    (day, arm) -> [impressions, clicks]."""
    try:
        seen = exposures(experiment)
        days = {key: [n, 0] for key, n in daily_impressions(experiment).items()}
    except redis.RedisError:
        seen, days = {CONTROL: {}, VARIANT: {}}, {}
    days = defaultdict(lambda: [0, 0], days)
    units = {arm: {visitor: [n, 0, 0, 0.0] for visitor, n in seen[arm].items()} for arm in (CONTROL, VARIANT)}
    arm_of_version = {experiment.control_id: CONTROL, experiment.variant_id: VARIANT}
    clicks = [c for c in token_clicks(experiment.started_at, experiment.stopped_at) if c.version in arm_of_version]
    for click in clicks:
        arm = arm_of_version[click.version]
        units[arm].setdefault(click.visitor, [0, 0, 0, 0.0])[1] += 1
        days[(timezone.localtime(click.when).date().isoformat(), arm)][1] += 1
    orders = set()
    for number, click, revenue in attributed_lines(clicks, experiment.started_at, experiment.stopped_at):
        unit = units[arm_of_version[click.version]][click.visitor]
        if (number, click.visitor) not in orders:
            orders.add((number, click.visitor))
            unit[2] += 1
        unit[3] += revenue
    return units, days


def experiment_results(experiment: Experiment) -> dict:
    units, days = _arm_rows(experiment)
    arms = {}
    for arm, version in ((CONTROL, experiment.control_id), (VARIANT, experiment.variant_id)):
        rows = list(units[arm].values())
        impressions = sum(r[0] for r in rows)
        clicks = sum(r[1] for r in rows)
        arms[arm] = {
            "version": version, "visitors": len(rows), "impressions": impressions, "clicks": clicks,
            "orders": sum(r[2] for r in rows), "revenue": round(sum(r[3] for r in rows), 2),
            # A click without a counted impression (a cached page) must not push the rate over 1.
            "ctr": ab_stats.wilson(min(clicks, impressions), impressions),
            "orders_per_visitor": ab_stats.mean([r[2] for r in rows]),
            "revenue_per_visitor": ab_stats.mean([r[3] for r in rows]),
            "revenue_per_impression": ab_stats.ratio([r[3] for r in rows], [r[0] for r in rows]),
        }
    c, v = arms[CONTROL], arms[VARIANT]
    control_rows, variant_rows = list(units[CONTROL].values()), list(units[VARIANT].values())
    differences = {
        "ctr": ab_stats.rate_difference(min(c["clicks"], c["impressions"]), c["impressions"],
                                        min(v["clicks"], v["impressions"]), v["impressions"]),
        "orders_per_visitor": ab_stats.mean_difference([r[2] for r in control_rows], [r[2] for r in variant_rows]),
        "revenue_per_visitor": ab_stats.mean_difference([r[3] for r in control_rows], [r[3] for r in variant_rows]),
        "revenue_per_impression": ab_stats.ratio_difference(
            ([r[3] for r in control_rows], [r[0] for r in control_rows]),
            ([r[3] for r in variant_rows], [r[0] for r in variant_rows])),
    }
    return {"arms": arms, "differences": differences, "daily": _daily(experiment, days),
            "attribution_days": ATTRIBUTION_DAYS}


def _daily(experiment: Experiment, days: dict) -> dict:
    """Click-through rate per arm per day, from the start to the stop (or today), for the chart."""
    first = timezone.localtime(experiment.started_at).date()
    last = timezone.localtime(experiment.stopped_at).date() if experiment.stopped_at else timezone.localdate()
    labels, series = [], {CONTROL: [], VARIANT: []}
    day: date = first
    while day <= last:
        labels.append(day.isoformat())
        for arm in (CONTROL, VARIANT):
            impressions, clicks = days[(day.isoformat(), arm)]
            series[arm].append(round(100 * min(clicks, impressions) / impressions, 2) if impressions else None)
        day += timedelta(days=1)
    return {"labels": labels, **series}
