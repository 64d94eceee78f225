"""The traffic and campaigns report: sessions, conversion and revenue per source, medium,
campaign, landing page, referrer or external search term, with first- and last-touch
attribution side by side, and campaign ROI from the costs marketing enters.

``traffic_rows`` reads the daily aggregates (``ecrm.aggregates``); ``traffic_rows_raw``
computes the same figures straight from tracking's sessions and events — the benchmark's
baseline and the tests' referee.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Max, Q, Sum

from ecrm.aggregates import ORDER, SESSION_COLUMNS, Touch, day_bounds, first_touches, revenue_of
from ecrm.models import CampaignCost, TrafficDay
from tracking.models import Event, Session

DIMENSIONS = dict(TrafficDay.DIMENSIONS)
ZERO = Decimal("0.00")


def _row(value: str, sessions=0, converted=0, orders=0, revenue=ZERO, ft_orders=0, ft_revenue=ZERO) -> dict:
    return {"value": value, "sessions": sessions, "converted_sessions": converted,
            "conversion_rate": converted / sessions if sessions else None,
            "orders": orders, "revenue": revenue or ZERO,
            "first_touch_orders": ft_orders, "first_touch_revenue": ft_revenue or ZERO}


def _ordered(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (-r["sessions"], -r["revenue"], r["value"]))


def traffic_rows(dimension: str, first: date, last: date) -> list[dict]:
    """One row per value of ``dimension`` seen in the days ``first``..``last``, busiest first."""
    rows = (TrafficDay.objects.filter(dimension=dimension, day__range=(first, last)).values("value")
            .annotate(s=Sum("sessions"), c=Sum("converted_sessions"), o=Sum("orders"), r=Sum("revenue"),
                      fo=Sum("first_touch_orders"), fr=Sum("first_touch_revenue")))
    return _ordered([_row(r["value"], r["s"], r["c"], r["o"], r["r"], r["fo"], r["fr"]) for r in rows])


def traffic_daily(dimension: str, first: date, last: date) -> dict[date, dict]:
    """Sessions and (last-touch) revenue per day, for the chart's time line."""
    return {r["day"]: {"sessions": r["s"], "revenue": r["r"] or ZERO} for r in (
        TrafficDay.objects.filter(dimension=dimension, day__range=(first, last)).values("day")
        .annotate(s=Sum("sessions"), r=Sum("revenue")).order_by("day"))}


def traffic_rows_raw(dimension: str, first: date, last: date) -> list[dict]:
    """``traffic_rows`` without the aggregates: grouped over the sessions, then every order
    event joined to its session and its customer's first session."""
    since, until = day_bounds(first, last)
    column = {"landing_page": "entry_path", "referrer": "referrer_domain", "search_term": "search_terms"}.get(
        dimension, dimension)
    found: dict[str, dict] = defaultdict(lambda: _row(""))
    for value, sessions, converted in (Session.objects.filter(started_at__gte=since, started_at__lt=until)
                                       .values(column).annotate(n=Count("id"), c=Count("id", filter=Q(converted=True)))
                                       .values_list(column, "n", "c")):
        found[value[:500]].update(sessions=sessions, converted_sessions=converted)
    orders = list(Event.objects.filter(event=ORDER, timestamp__gte=since, timestamp__lt=until).values_list(
        "message_id", "anonymous_id", "user_id", "timestamp", "session_id", "properties"))
    own = {row[0]: Touch.of(row) for row in Session.objects.filter(
        key__in={o[4] for o in orders if o[4]}).values_list(*SESSION_COLUMNS)}
    firsts = first_touches([(m, a, u, t) for m, a, u, t, _s, _p in orders])
    for message_id, _a, _u, _t, session_id, properties in orders:
        revenue = revenue_of(properties or {})
        for touch, prefix in ((own.get(session_id), ""), (firsts.get(message_id), "first_touch_")):
            row = found[getattr(touch, dimension)[:500] if touch else ""]
            row[f"{prefix}orders"] += 1
            row[f"{prefix}revenue"] += revenue
    return _ordered([{**row, "value": value, "conversion_rate": (row["converted_sessions"] / row["sessions"]
                                                                 if row["sessions"] else None)}
                     for value, row in found.items()])


@dataclass
class CampaignReturn:
    cost: CampaignCost
    sessions: int
    orders: int
    revenue: Decimal
    first_touch_orders: int
    first_touch_revenue: Decimal

    @property
    def roi(self) -> float | None:
        """(revenue − cost) / cost, last touch; None for a campaign that cost nothing."""
        return float((self.revenue - self.cost.cost) / self.cost.cost) if self.cost.cost else None

    @property
    def roas(self) -> float | None:
        """Revenue per unit of cost, last touch."""
        return float(self.revenue / self.cost.cost) if self.cost.cost else None

    @property
    def first_touch_roi(self) -> float | None:
        return float((self.first_touch_revenue - self.cost.cost) / self.cost.cost) if self.cost.cost else None

    @property
    def first_touch_roas(self) -> float | None:
        return float(self.first_touch_revenue / self.cost.cost) if self.cost.cost else None


def campaign_returns(first: date, last: date) -> list[CampaignReturn]:
    """Each cost entered for a period that overlaps ``first``..``last``, against the revenue
    attributed to its campaign over the cost's own period."""
    returns = []
    for cost in CampaignCost.objects.filter(starts_on__lte=last, ends_on__gte=first).order_by("-starts_on", "campaign"):
        totals = TrafficDay.objects.filter(dimension=TrafficDay.CAMPAIGN, value=cost.campaign,
                                           day__range=(cost.starts_on, cost.ends_on)).aggregate(
            s=Sum("sessions"), o=Sum("orders"), r=Sum("revenue"), fo=Sum("first_touch_orders"),
            fr=Sum("first_touch_revenue"))
        returns.append(CampaignReturn(cost, totals["s"] or 0, totals["o"] or 0, totals["r"] or ZERO,
                                      totals["fo"] or 0, totals["fr"] or ZERO))
    return returns


def known_campaigns(limit: int = 200) -> list[str]:
    """Campaign names sessions have recorded, most recent first (the cost form's suggestions)."""
    names = (TrafficDay.objects.filter(dimension=TrafficDay.CAMPAIGN).exclude(value="").values("value")
             .annotate(latest=Max("day")).order_by("-latest", "value").values_list("value", flat=True))
    return list(names[:limit])

