"""Sessionisation rules and traffic sources (no database)."""

from datetime import datetime, timedelta, timezone

from tracking.sessions import assign, traffic_source

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)


def _event(minutes, *, visitor="a", event="Product Viewed", **context):
    return {"visitor": visitor, "timestamp": T0 + timedelta(minutes=minutes), "type": "track",
            "event": event, "context": context, "user_id": ""}


def test_thirty_minutes_of_inactivity_start_a_new_session():
    sessions = {}
    keys = assign([_event(0), _event(29), _event(58), _event(89)], sessions)
    assert keys[0] == keys[1] == keys[2]  # each gap under 30 minutes
    assert keys[3] != keys[2]  # 31 minutes after the last event


def test_a_new_campaign_starts_a_new_session():
    touched = {}
    keys = assign([
        _event(0, campaign={"source": "newsletter", "medium": "email", "name": "spring"}),
        _event(5),
        _event(10, campaign={"source": "facebook", "medium": "paid_social", "name": "summer"}),
    ], {}, touched=touched)
    assert keys[0] == keys[1] != keys[2]
    assert {s.source.campaign for s in touched.values()} == {"spring", "summer"}


def test_session_counts_pages_events_and_conversion():
    touched = {}
    assign([_event(0, page={"path": "/catalogue/x/"}), _event(1, event="Product Added"),
            _event(2, event="Order Completed")], {}, touched=touched)
    (session,) = touched.values()
    assert (session.page_count, session.event_count, session.converted) == (1, 3, True)
    assert session.entry_path == "/catalogue/x/"
    assert session.last_at - session.started_at == timedelta(minutes=2)


def test_visitors_have_separate_sessions():
    keys = assign([_event(0, visitor="a"), _event(1, visitor="b")], {})
    assert keys[0] != keys[1]


def test_sources():
    assert traffic_source({}).medium == "none"
    search = traffic_source({"referrer": {"url": "https://www.bing.com/search?q=cast+iron+pan"}})
    assert (search.source, search.medium, search.search_terms) == ("bing", "organic", "cast iron pan")
    referral = traffic_source({"referrer": {"url": "https://www.reddit.com/r/BuyItForLife/"}})
    assert (referral.source, referral.medium, referral.referrer_domain) == (
        "reddit.com", "referral", "reddit.com")
    utm = traffic_source({"campaign": {"source": "google", "medium": "cpc", "name": "brand",
                                       "term": "oscar outfitters"}})
    assert (utm.medium, utm.campaign, utm.search_terms) == ("cpc", "brand", "oscar outfitters")
    assert traffic_source({"referrer": {"url": "https://shop.example.com/basket/"}},
                          own_domains=frozenset({"shop.example.com"})) is None


def test_the_stores_own_subdomains_are_internal_too():
    own = frozenset({"example.com"})
    assert traffic_source({"referrer": {"url": "https://blog.example.com/post"}}, own_domains=own) is None
    assert traffic_source({"referrer": {"url": "https://notexample.com/"}}, own_domains=own).medium == (
        "referral")


def test_order_status_updates_are_not_visits():
    touched = {}
    keys = assign([_event(0), _event(60 * 24, event="Order Updated")], {}, touched=touched)
    assert keys[1] == "" and len(touched) == 1


def test_a_session_keeps_the_device_of_its_first_user_agent():
    touched = {}
    phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148"
    assign([_event(0), _event(1, userAgent=phone), _event(2, userAgent="Mozilla/5.0 (Windows NT 10.0)"),
            _event(3, visitor="b", userAgent="Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X)")], {}, touched=touched)
    assert sorted(s.device for s in touched.values()) == ["mobile", "tablet"]  # no agent at first: the next one's
