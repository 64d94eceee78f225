"""What recommendation slots achieve: impressions (counted in Redis as slots render),
clicks (the tracker's "Product Clicked" events with a token) and the revenue of orders
that contain a clicked product, placed by the same person within ATTRIBUTION_DAYS of the
click — per slot and model version."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import redis
from django.utils import timezone
from oscar.core.loading import get_model

from recommender.defaults import setting
from recommender.publish import client
from recommender.store_data import event_person, person_of_visitor
from recommender.tokens import read_token
from tracking.models import Event

OrderLine = get_model("order", "Line")
ATTRIBUTION_DAYS = 7


def _impressions_key(day: date) -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:impressions:{day.isoformat()}"


def record_impressions(items, slot: str) -> None:
    """Count a rendered slot's items (one Redis round trip; never breaks a page)."""
    if not items:
        return
    key = _impressions_key(timezone.localdate())
    try:
        client().pipeline(transaction=False).hincrby(key, f"{items[0].version}|{slot}", len(items)).expire(
            key, 400 * 86400).execute()
    except redis.RedisError:
        pass


def slot_report(*, days: int = 30, today: date | None = None) -> list[dict]:
    """Rows per (version, slot): impressions, clicks, CTR, attributed orders and revenue."""
    today = today or timezone.localdate()
    since = today - timedelta(days=days - 1)
    rows: dict[tuple[int, str], dict] = defaultdict(lambda: {"impressions": 0, "clicks": 0, "orders": set(),
                                                             "revenue": 0.0})
    try:
        for offset in range(days):
            for field, count in client().hgetall(_impressions_key(since + timedelta(days=offset))).items():
                version, slot = field.split("|", 1)
                rows[(int(version), slot)]["impressions"] += int(count)
    except redis.RedisError:
        pass
    people, aliases = person_of_visitor()
    clicks = defaultdict(list)  # (person, product) -> [(time, version, slot)]
    start = timezone.make_aware(timezone.datetime.combine(since, timezone.datetime.min.time()))
    for user_id, anonymous_id, when, properties in Event.objects.filter(
            event="Product Clicked", timestamp__gte=start).values_list("user_id", "anonymous_id", "timestamp",
                                                                     "properties").iterator():
        token = read_token((properties or {}).get("token", ""))
        if token is None:
            continue  # not one of ours (or forged)
        rows[(token["version"], token["slot"])]["clicks"] += 1
        person = event_person(user_id, anonymous_id, people, aliases)
        clicks[(person, token["product_id"])].append((when, token["version"], token["slot"]))
    window = timedelta(days=ATTRIBUTION_DAYS)
    for user_id, number, placed, product_id, total in OrderLine.objects.filter(
            order__date_placed__gte=start, order__user__isnull=False).values_list(
            "order__user_id", "order__number", "order__date_placed", "product_id", "line_price_incl_tax").iterator():
        earlier = [c for c in clicks.get((str(user_id), str(product_id)), []) if c[0] <= placed <= c[0] + window]
        if earlier:
            _when, version, slot = max(earlier)  # the last click before the order gets the credit
            rows[(version, slot)]["orders"].add(number)
            rows[(version, slot)]["revenue"] += float(total or 0)
    report = []
    for (version, slot), row in sorted(rows.items()):
        report.append({"version": version, "slot": slot, "impressions": row["impressions"], "clicks": row["clicks"],
                       "ctr": row["clicks"] / row["impressions"] if row["impressions"] else None,
                       "orders": len(row["orders"]), "revenue": round(row["revenue"], 2)})
    return report
