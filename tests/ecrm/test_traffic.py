"""Daily aggregates against direct queries over a scripted event sequence, kept current batch by
batch; first- and last-touch attribution across a customer's sessions and devices; ROI."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from ecrm.aggregates import aggregates_rebuild, day_bounds, default_funnel
from ecrm.aggregates_pending import pending_apply
from ecrm.dashboard.report_views import report_period
from ecrm.funnel_data import funnel_traces
from ecrm.funnels import DEFAULT_STEPS, funnel
from ecrm.models import CampaignCost, ProductDay, SessionProgress, TrafficDay
from ecrm.product_conversion import product_conversion, product_conversion_raw
from ecrm.traffic import DIMENSIONS, campaign_returns, traffic_rows, traffic_rows_raw
from tracking.consumer import store
from tracking.messages import normalise

pytestmark = pytest.mark.django_db


def send(*messages, count: bool = True) -> None:
    """Store Segment calls through the tracking consumer, in one batch (sessions, identities, signal),
    then count the pending batch into the aggregates as beat's task does (``count=False``: leave it
    pending)."""
    entries = []
    for raw in messages:
        message = normalise({"type": "track", **raw}, received_at=timezone.now(), max_future=timedelta(days=400))
        message.update(source="server", write_key_id=None)
        entries.append((b"0-0", {b"m": json.dumps(message).encode()}))
    store(entries)
    if count:
        pending_apply()


def at(hours: float) -> str:
    """Yesterday noon (local) plus ``hours``: clear of midnight, inside every report period."""
    noon = datetime.combine(timezone.localdate() - timedelta(days=1), time(12), tzinfo=timezone.get_current_timezone())
    return (noon + timedelta(hours=hours)).isoformat()


def page(path: str, *, referrer: str = "", campaign: dict | None = None) -> dict:
    context = {"page": {"path": path, "url": f"https://shop.example.com{path}", "referrer": referrer}}
    if campaign:
        context["campaign"] = campaign
    return context


def script(p1: str, p2: str) -> list[dict]:
    """Customer u1 first came from a Facebook campaign on their phone (a0), two days later from
    Google on their laptop (a1), and ordered after an e-mail campaign visit; visitor c1 came
    from a blog and ordered; visitor b1 came direct and only browsed."""
    spring = {"source": "newsletter", "medium": "email", "name": "spring"}
    launch = {"source": "facebook", "medium": "social", "name": "launch"}
    n = iter(range(1000))
    e = lambda **kw: {"messageId": f"m{next(n)}", **kw}  # noqa: E731
    return [
        e(anonymousId="a0", event="Product Viewed", timestamp=at(-48), properties={"product_id": p2},
          context=page("/catalogue/pan/", campaign=launch)),
        e(type="identify", anonymousId="a0", userId="u1", timestamp=at(-47.9), traits={"email": "u1@example.com"}),
        e(type="page", anonymousId="a1", timestamp=at(0), context=page(
            "/catalogue/skillet/", referrer="https://www.google.com/search?q=cast+iron+skillet")),
        e(anonymousId="a1", event="Product Viewed", timestamp=at(0.01), properties={"product_id": p1}),
        e(anonymousId="a1", event="Product Viewed", timestamp=at(0.02), properties={"product_id": p1}),
        e(anonymousId="a1", event="Product Added", timestamp=at(0.03), properties={"product_id": p1}),
        e(anonymousId="b1", event="Product Viewed", timestamp=at(1), properties={"product_id": p1}),
        e(anonymousId="b1", event="Product Viewed", timestamp=at(1.01), properties={"product_id": p2}),
        e(anonymousId="c1", event="Product Viewed", timestamp=at(1.5), properties={"product_id": p2},
          context=page("/blog-landing/", referrer="https://blog.example.org/post/7")),
        e(anonymousId="c1", event="Product Added", timestamp=at(1.51), properties={"product_id": p2}),
        e(anonymousId="c1", event="Cart Viewed", timestamp=at(1.52)),
        e(anonymousId="c1", event="Checkout Started", timestamp=at(1.53)),
        e(anonymousId="c1", event="Order Completed", timestamp=at(1.54),
          properties={"order_id": "C-1", "total": 50, "products": [{"product_id": p2}]}),
        e(anonymousId="a1", event="Product Viewed", timestamp=at(2), properties={"product_id": p1},
          context=page("/catalogue/skillet/", campaign=spring)),
        e(anonymousId="a1", event="Product Added", timestamp=at(2.01), properties={"product_id": p1}),
        e(anonymousId="a1", event="Checkout Started", timestamp=at(2.02)),
        e(anonymousId="a1", userId="u1", event="Order Completed", timestamp=at(2.03),
          properties={"order_id": "A-1", "total": "100.00", "revenue": 83.33,
                      "products": [{"product_id": p1}, {"product_id": p2}]}),
    ]


@pytest.fixture
def products(product_in_stock):
    from oscar.test.factories import create_product

    return str(product_in_stock.pk), str(create_product(title="Enamel Pan", upc="TEST-PAN").pk)


def _by_value(rows):
    return {r["value"]: r for r in rows}


def _agrees_with_raw():
    first, last = report_period(30)
    for dimension in DIMENSIONS:
        assert traffic_rows(dimension, first, last) == traffic_rows_raw(dimension, first, last), dimension
    assert product_conversion(first, last) == product_conversion_raw(first, last)
    since = day_bounds(first, last)[0]
    for split in ("", "medium", "source", "campaign", "week"):
        raw = funnel(funnel_traces(DEFAULT_STEPS, since, timezone.now() + timedelta(days=1), split), DEFAULT_STEPS)
        assert default_funnel(first, last, split) == raw, split


@pytest.mark.parametrize("batch", [1, 4, 100], ids=["event by event", "batches of 4", "one batch"])
def test_aggregates_equal_direct_queries_however_the_events_are_batched(products, batch):
    events = script(*products)
    for start in range(0, len(events), batch):
        send(*events[start:start + batch])
    _agrees_with_raw()
    first, last = report_period(30)
    source = _by_value(traffic_rows("source", first, last))
    assert {k: (r["sessions"], r["converted_sessions"], r["orders"], r["revenue"], r["first_touch_orders"],
                r["first_touch_revenue"]) for k, r in source.items()} == {
        "facebook": (1, 0, 0, Decimal("0"), 1, Decimal("100.00")),  # u1's first touch, on their phone
        "google": (1, 0, 0, Decimal("0"), 0, Decimal("0")),
        "newsletter": (1, 1, 1, Decimal("100.00"), 0, Decimal("0")),  # last touch: the session of the order
        "direct": (1, 0, 0, Decimal("0"), 0, Decimal("0")),
        "blog.example.org": (1, 1, 1, Decimal("50.00"), 1, Decimal("50.00")),
    }
    assert source["newsletter"]["conversion_rate"] == 1.0
    assert _by_value(traffic_rows("search_term", first, last))["cast iron skillet"]["sessions"] == 1
    assert _by_value(traffic_rows("landing_page", first, last))["/blog-landing/"]["orders"] == 1
    assert _by_value(traffic_rows("referrer", first, last))["blog.example.org"]["revenue"] == Decimal("50.00")
    skillet, pan = sorted(product_conversion(first, last)[0], key=lambda r: r["product_id"])
    # Sessions viewing the skillet: a1's two visits and b1's; adding: a1's two; orders: A-1.
    assert (skillet["views"], skillet["adds"], skillet["orders"]) == (3, 2, 1)
    assert (pan["views"], pan["adds"], pan["orders"]) == (3, 1, 2)
    assert [r["sessions"] for r in default_funnel(first, last)[""]] == [5, 5, 3, 1, 1, 1]


def test_new_events_update_the_aggregates_and_a_rebuild_changes_nothing(products):
    send(*script(*products))
    first, last = report_period(30)
    before = {r["value"]: r["sessions"] for r in traffic_rows("medium", first, last)}
    # b1 comes back from the newsletter and buys; a late event of c1's session adds nothing new.
    send({"messageId": "n1", "anonymousId": "b1", "event": "Product Added", "timestamp": at(5),
          "properties": {"product_id": products[0]},
          "context": page("/", campaign={"source": "newsletter", "medium": "email", "name": "spring"})},
         {"messageId": "n2", "anonymousId": "b1", "event": "Order Completed", "timestamp": at(5.1),
          "properties": {"order_id": "B-1", "total": 20, "products": [{"product_id": products[0]}]}},
         {"messageId": "n3", "anonymousId": "c1", "event": "Product Viewed", "timestamp": at(1.6),
          "properties": {"product_id": products[1]}})
    medium = _by_value(traffic_rows("medium", first, last))
    assert medium["email"]["sessions"] == before["email"] + 1
    assert (medium["email"]["orders"], medium["email"]["revenue"]) == (2, Decimal("120.00"))
    assert medium["none"]["first_touch_orders"] == 1  # b1's first visit was direct
    _agrees_with_raw()
    snapshot = sorted(TrafficDay.objects.values_list("dimension", "day", "value", "sessions", "converted_sessions",
                                                      "orders", "revenue", "first_touch_orders", "first_touch_revenue"))
    products_snapshot = sorted(ProductDay.objects.values_list("day", "product_id", "viewing_sessions",
                                                               "adding_sessions", "orders"))
    progress_fields = ("session_key", "day", "reached", "reached_at", "seen_until", "viewed", "added", "converted")
    funnels_snapshot = sorted(SessionProgress.objects.values_list(*progress_fields))
    aggregates_rebuild(first - timedelta(days=5), last)
    assert sorted(TrafficDay.objects.values_list(
        "dimension", "day", "value", "sessions", "converted_sessions", "orders", "revenue", "first_touch_orders",
        "first_touch_revenue")) == snapshot
    assert sorted(ProductDay.objects.values_list("day", "product_id", "viewing_sessions", "adding_sessions",
                                                 "orders")) == products_snapshot
    assert sorted(SessionProgress.objects.values_list(*progress_fields)) == funnels_snapshot


def test_a_repeated_batch_is_counted_once(products):
    events = script(*products)
    send(*events)
    send(*events)  # an SDK's retry, a re-claimed stream entry
    _agrees_with_raw()
    first, last = report_period(30)
    assert sum(r["sessions"] for r in traffic_rows("source", first, last)) == 5


def test_rebuild_command_restores_the_aggregates_and_refuses_bad_ranges(products):
    send(*script(*products))
    first, last = report_period(30)
    expected = traffic_rows("campaign", first, last)
    TrafficDay.objects.all().delete()
    call_command("ecrm_rebuild_aggregates", "--days", "30", stdout=open("/dev/null", "w"))
    assert traffic_rows("campaign", first, last) == expected
    for arguments, message in ((["--from", "2026-13-01"], "not a date"), ([], "say which days"),
                               (["--days", "0"], "between 1 and"), (["--from", "2026-02-01", "--to", "2026-01-01"],
                                                                      "is after"),
                               (["--days", "3", "--from", "2026-01-01"], "either --days or --from")):
        with pytest.raises(CommandError, match=message):
            call_command("ecrm_rebuild_aggregates", *arguments)


def test_campaign_roi_and_roas(products):
    send(*script(*products))
    day = timezone.localdate() - timedelta(days=1)
    CampaignCost.objects.create(campaign="spring", starts_on=day, ends_on=day, cost=Decimal("40.00"))
    CampaignCost.objects.create(campaign="launch", starts_on=day - timedelta(days=3), ends_on=day, cost=Decimal("0"))
    CampaignCost.objects.create(campaign="spring", starts_on=day - timedelta(days=90), ends_on=day - timedelta(days=60),
                                cost=Decimal("10"))  # outside the report's period
    spring, launch = sorted(campaign_returns(*report_period(30)), key=lambda r: r.cost.campaign, reverse=True)
    assert (spring.sessions, spring.orders, spring.revenue) == (1, 1, Decimal("100.00"))
    assert (spring.roi, spring.roas) == (1.5, 2.5)  # (100 - 40) / 40, 100 / 40
    assert (spring.first_touch_roi, spring.first_touch_roas) == (-1.0, 0.0)
    assert launch.first_touch_revenue == Decimal("100.00") and launch.roi is None and launch.roas is None


def test_events_arriving_out_of_time_order_are_replayed(products):
    p1, _p2 = products
    e = lambda n, name, hours, **kw: {"messageId": f"late-{n}", "anonymousId": "d1", "event": name,  # noqa: E731
                                      "timestamp": at(hours), **kw}
    send(e(1, "Product Viewed", 0, properties={"product_id": p1}))
    send(e(2, "Product Added", 0.02, properties={"product_id": p1}), e(3, "Checkout Started", 0.04))
    # The browser's Cart Viewed arrives after the server's Checkout Started, though it came first.
    send(e(4, "Cart Viewed", 0.03))
    first, last = report_period(30)
    assert [r["sessions"] for r in default_funnel(first, last)[""]] == [1, 1, 1, 1, 1, 0]
    send(e(5, "Product Viewed", 0.05, properties={"product_id": p1}),
         e(6, "Order Completed", 0.06, properties={"order_id": "D-1", "total": 10, "products": [{"product_id": p1}]}))
    assert [r["sessions"] for r in default_funnel(first, last)[""]] == [1, 1, 1, 1, 1, 1]
    (skillet,) = product_conversion(first, last)[0]
    assert (skillet["views"], skillet["adds"], skillet["orders"]) == (1, 1, 1)
    _agrees_with_raw()


def test_the_nightly_task_rebuilds_yesterday_and_today(products):
    from ecrm.tasks import rebuild_recent_aggregates

    send(*script(*products))
    first, last = report_period(30)
    expected = _by_value(traffic_rows("source", first, last))
    TrafficDay.objects.all().delete()
    ProductDay.objects.all().delete()
    rebuild_recent_aggregates()
    # a0's visit three days ago is outside the two days: only its first-touch credit, on
    # the order's day, comes back.
    source = _by_value(traffic_rows("source", first, last))
    assert "facebook" in source and source["facebook"]["sessions"] == 0
    assert source["facebook"]["first_touch_revenue"] == Decimal("100.00")
    assert {k: v for k, v in source.items() if k != "facebook"} == {
        k: v for k, v in expected.items() if k != "facebook"}
