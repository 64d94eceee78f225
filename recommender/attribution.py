"""What recommendation slots achieve: impressions (counted in Redis as slots render),
clicks (the tracker's "Product Clicked" events with a token) and the revenue of orders
that contain a clicked product, placed by the same person within ATTRIBUTION_DAYS of the
click — per slot and model version."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import redis
from django.utils import timezone
from oscar.core.loading import get_model

from recommender.defaults import setting
from recommender.experiments import exposure_commands, running_key
from recommender.publish import client
from recommender.store_data import event_person, person_of_visitor
from recommender.tokens import read_token
from tracking.models import Event

OrderLine = get_model("order", "Line")
ATTRIBUTION_DAYS = 7


def _impressions_key(day: date) -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:impressions:{day.isoformat()}"


def record_impressions(items, slot: str, person: str = "") -> None:
    """Count a rendered slot's items, and while an A/B test runs, the exposure of
    ``person`` (the key serving used) in their arm. One Redis round trip, two during an
    experiment; never breaks a page."""
    record_impressions_many([(items, slot, person)])


def record_impressions_many(shown) -> None:
    """``record_impressions`` for many rendered slots at once (``(items, slot, person)``
    each: a broadcast's delivery batch) — in the same one or two round trips for all."""
    shown = [(items, slot, person) for items, slot, person in shown if items]
    if not shown:
        return
    key = _impressions_key(timezone.localdate())
    counts: dict[str, int] = defaultdict(int)
    for items, slot, _person in shown:
        counts[f"{items[0].version}|{slot}"] += len(items)
    people = any(person for _items, _slot, person in shown)
    try:
        pipe = client().pipeline(transaction=False)
        for field, count in counts.items():
            pipe.hincrby(key, field, count)
        pipe.expire(key, 400 * 86400)
        if people:
            pipe.get(running_key())
        running = pipe.execute()[-1] if people else None
        if running:
            pipe = client().pipeline(transaction=False)
            for items, _slot, person in shown:
                exposure_commands(pipe, running, person=person, version=items[0].version, count=len(items))
            pipe.execute()
    except redis.RedisError:
        pass


@dataclass(frozen=True)
class Click:
    """A "Product Clicked" event with a valid token."""

    when: datetime
    version: int
    slot: str
    product_id: str
    person: str  # who it belongs to (the identity graph's person, as training sees them)
    visitor: str  # the key serving saw: the account id, or ``anon:<anonymous id>``


def token_clicks(start: datetime, end: datetime | None = None) -> list[Click]:
    """Clicks on recommendations from ``start`` (to ``end``); forged tokens are ignored."""
    people, aliases = person_of_visitor()
    events = Event.objects.filter(event="Product Clicked", timestamp__gte=start)
    if end is not None:
        events = events.filter(timestamp__lt=end)
    clicks = []
    for user_id, anonymous_id, when, properties in events.values_list(
            "user_id", "anonymous_id", "timestamp", "properties").iterator():
        token = read_token((properties or {}).get("token", ""))
        if token is None:
            continue  # not one of ours (or forged)
        clicks.append(Click(when, token["version"], token["slot"], token["product_id"],
                            event_person(user_id, anonymous_id, people, aliases),
                            user_id or f"anon:{anonymous_id}"))
    return clicks


def attributed_lines(clicks: list[Click], start: datetime, end: datetime | None = None) -> list[tuple]:
    """(order number, the click that gets the credit, line revenue) for each order line
    placed by a customer within ATTRIBUTION_DAYS after their click on that product (from
    ``start``; before ``end`` plus the window). The last such click gets the credit."""
    by_product = defaultdict(list)
    for click in clicks:
        by_product[(click.person, click.product_id)].append(click)
    lines = OrderLine.objects.filter(order__date_placed__gte=start, order__user__isnull=False)
    if end is not None:
        lines = lines.filter(order__date_placed__lt=end + timedelta(days=ATTRIBUTION_DAYS))
    window = timedelta(days=ATTRIBUTION_DAYS)
    credited = []
    for user_id, number, placed, product_id, total in lines.values_list(
            "order__user_id", "order__number", "order__date_placed", "product_id", "line_price_incl_tax").iterator():
        earlier = [c for c in by_product.get((str(user_id), str(product_id)), []) if c.when <= placed <= c.when + window]
        if earlier:
            credited.append((number, max(earlier, key=lambda c: c.when), float(total or 0)))
    return credited


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
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    clicks = token_clicks(start)
    for click in clicks:
        rows[(click.version, click.slot)]["clicks"] += 1
    for number, click, revenue in attributed_lines(clicks, start):
        rows[(click.version, click.slot)]["orders"].add(number)
        rows[(click.version, click.slot)]["revenue"] += revenue
    report = []
    for (version, slot), row in sorted(rows.items()):
        report.append({"version": version, "slot": slot, "impressions": row["impressions"], "clicks": row["clicks"],
                       "ctr": row["clicks"] / row["impressions"] if row["impressions"] else None,
                       "orders": len(row["orders"]), "revenue": round(row["revenue"], 2)})
    return report
