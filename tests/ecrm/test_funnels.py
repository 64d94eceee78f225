"""Funnels by hand: order matters, qualified visits, custom events, splits, bad steps."""

from datetime import datetime, timedelta, timezone

import pytest

from ecrm.funnels import DEFAULT_STEPS, FunnelError, SessionTrace, funnel, parse_steps

T0 = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)


def _trace(key, *names, group="", count=None):
    events = [(T0 + timedelta(minutes=i), name) for i, name in enumerate(names)]
    return SessionTrace(key, count if count is not None else len(names), events, group)


def test_default_funnel_counts_in_order():
    traces = [
        _trace("a", "Product Viewed", "Product Added", "Cart Viewed", "Checkout Started", "Order Completed"),
        _trace("b", "Product Viewed", "Product Added"),
        _trace("c", "Product Added", "Product Viewed"),  # added before viewing: stops at viewed
        _trace("d"),
    ]
    (rows,) = funnel(traces, DEFAULT_STEPS).values()
    assert [r["sessions"] for r in rows] == [4, 3, 2, 1, 1, 1]
    assert rows[1]["from_previous"] == 0.75 and rows[2]["drop_off"] == 1 and rows[5]["from_first"] == 0.25


def test_qualified_visits_and_custom_events_with_a_split():
    steps = parse_steps("session\nqualified visit 3\nPrice List Downloaded")
    traces = [_trace("a", "x", "y", "Price List Downloaded", group="email"),
              _trace("b", "Price List Downloaded", group="email"),  # only one event: not qualified
              _trace("c", "x", "y", "z", group="organic")]
    result = funnel(traces, steps)
    assert [r["sessions"] for r in result["email"]] == [2, 1, 1]
    assert [r["sessions"] for r in result["organic"]] == [1, 1, 0]
    assert result["email"][1]["step"] == "Qualified visit (≥ 3 events)"


@pytest.mark.parametrize(("text", "message"), [
    ("session", "at least two steps"), ("session\nqualified visit lots", "line 2: write “qualified visit N”"),
    ("\n".join(["x"] * 13), "at most 12 steps"),
])
def test_bad_steps_are_explained(text, message):
    with pytest.raises(FunnelError, match=message):
        parse_steps(text)


@pytest.mark.django_db
def test_the_funnel_report(make_staff):
    from django.test import Client
    from django.utils import timezone

    from shop.roles import MARKETING, SUPPORT
    from tracking.models import Event, Session

    now = timezone.now()
    for key, medium, names in (("s1", "email", ["Product Viewed", "Product Added"]), ("s2", "organic", ["Product Viewed"])):
        Session.objects.create(key=key, visitor=key, started_at=now, last_event_at=now, source="x", medium=medium,
                               event_count=len(names))
        for i, name in enumerate(names):
            Event.objects.create(message_id=f"{key}-{i}", type="track", event=name, anonymous_id=key, session_id=key,
                                 timestamp=now + timedelta(seconds=i), received_at=now, source="server")
    client = Client()
    client.force_login(make_staff("m@example.com", group=MARKETING))
    page = client.get("/dashboard/customers/support-desk/reports/funnel/").content.decode()
    assert "funnel-chart" in page and "Checkout Started" in page
    split = client.get("/dashboard/customers/support-desk/reports/funnel/",
                       {"steps": "session\nProduct Viewed\nProduct Added", "split": "medium", "format": "csv"}).content.decode()
    assert "email,Product Added,1,1.0000,1.0000,0" in split and "organic,Product Added,0,0.0000,0.0000,1" in split
    bad = client.get("/dashboard/customers/support-desk/reports/funnel/", {"steps": "session"})
    assert bad.status_code == 400 and "at least two steps" in bad.content.decode()
    support = Client()
    support.force_login(make_staff("s@example.com", group=SUPPORT))
    assert support.get("/dashboard/customers/support-desk/reports/funnel/").status_code == 403
