"""The demo's generators and simulator: deterministic, and with real structure to find."""

from collections import Counter
from datetime import datetime, timezone

from shop.demo.generate import generate_catalogue, generate_customer
from shop.demo.simulation import Catalogue, Shopper, simulate_shopper

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
CATALOGUE = generate_catalogue(7, 240)


def _stream(seed: int, index: int, days: int = 120):
    customer = generate_customer(seed, index, CATALOGUE, days)
    return simulate_shopper(seed, Shopper(f"c{index}", customer, customer), Catalogue(CATALOGUE),
                            start=START, days=days)


def test_same_seed_gives_the_same_catalogue_and_behaviour():
    assert generate_catalogue(7, 240) == CATALOGUE
    assert [(e.timestamp, e.name, e.properties) for e in _stream(7, 3)] == [
        (e.timestamp, e.name, e.properties) for e in _stream(7, 3)
    ]


def test_another_seed_gives_another_store():
    assert [p.title for p in generate_catalogue(8, 240)] != [p.title for p in CATALOGUE]
    assert generate_customer(8, 3, CATALOGUE, 120) != generate_customer(7, 3, CATALOGUE, 120)


def test_a_customer_does_not_depend_on_how_many_there_are():
    assert generate_catalogue(7, 100) == CATALOGUE[:100]


def test_catalogue_has_categories_brands_prices_and_some_out_of_stock():
    assert len({p.leaf for p in CATALOGUE}) >= 20
    assert len({p.brand for p in CATALOGUE}) >= 20
    assert len({p.upc for p in CATALOGUE}) == len(CATALOGUE)
    assert 0 < sum(not p.in_stock for p in CATALOGUE) < len(CATALOGUE) * 0.2
    assert all(p.price > 0 for p in CATALOGUE)
    assert any(p.reorder_days for p in CATALOGUE)


def test_events_are_in_time_order_and_inside_the_period():
    events = _stream(7, 5, days=90)
    times = [e.timestamp for e in events]
    assert times == sorted(times)
    assert all(START <= t < datetime(2026, 4, 1, tzinfo=timezone.utc) for t in times)


def test_sessions_come_from_campaigns_search_engines_and_direct():
    sources = Counter()
    for index in range(60):
        for event in _stream(7, index):
            if event.name == "Session Started":
                sources[event.properties["medium"]] += 1
    assert {"none", "organic", "email", "paid_social", "referral"} <= set(sources)


def test_orders_follow_the_customers_tastes():
    """Most ordered items come from a customer's favourite categories, far above chance."""
    products = {p.upc: p for p in CATALOGUE}
    in_favourites = total = 0
    for index in range(80):
        customer = generate_customer(7, index, CATALOGUE, 120)
        favourites = {leaf for leaf, weight in customer.leaf_weights.items() if weight > 0.05}
        for event in _stream(7, index):
            if event.name == "Order Completed":
                for upc, _ in event.properties["lines"]:
                    total += 1
                    in_favourites += products[upc].leaf in favourites
    assert total > 50
    chance = 4 / 24  # at most four favourite leaves out of 24
    assert in_favourites / total > 3 * chance


def test_staple_buyers_reorder_their_consumables():
    products = {p.index: p for p in CATALOGUE}
    rebuyers = 0
    for index in range(120):
        customer = generate_customer(7, index, CATALOGUE, 120)
        if not customer.staples:
            continue
        staple_upcs = {products[i].upc for i, _ in customer.staples}
        bought = Counter(
            upc for e in _stream(7, index) if e.name == "Order Completed"
            for upc, _ in e.properties["lines"] if upc in staple_upcs
        )
        rebuyers += any(count >= 2 for count in bought.values())
    assert rebuyers >= 10


def test_order_statuses_move_along_the_pipeline():
    allowed = {None: {"Processing", "Cancelled"}, "Processing": {"Shipped", "Cancelled"},
               "Shipped": {"Delivered", "Returned"}, "Delivered": {"Returned"},
               "Returned": {"Refunded"}}
    for index in range(40):
        current = {}
        for event in _stream(7, index):
            if "status" in event.properties:
                number = event.properties["order_number"]
                assert number in current
                assert event.properties["status"] in allowed[current[number]]
                current[number] = event.properties["status"]
            elif event.name == "Order Completed":
                current[event.properties["order_number"]] = None


def _sessions(events):
    """(first, last) event time of each session, Order status updates left out (not visits)."""
    spans = {}
    for event in events:
        if event.name in ("Order Updated", "Order Cancelled", "Order Refunded"):
            continue
        first, last = spans.get(event.session_id, (event.timestamp, event.timestamp))
        spans[event.session_id] = (min(first, event.timestamp), max(last, event.timestamp))
    return sorted(spans.values())


def test_a_visitors_sessions_are_at_least_31_minutes_apart():
    from datetime import timedelta

    for index in range(80):
        spans = _sessions(_stream(7, index))
        for (_, previous_end), (next_start, _) in zip(spans, spans[1:]):
            assert next_start - previous_end >= timedelta(minutes=31), index


def test_customers_stop_buying_so_there_is_churn_to_find():
    from datetime import timedelta

    days, buyers, gone = 180, 0, 0
    for index in range(200):
        events = _stream(7, index, days=days)
        orders = [e.timestamp for e in events if e.name == "Order Completed"]
        if len(orders) < 1:
            continue
        buyers += 1
        visits = [e.timestamp for e in events if e.name == "Session Started"]
        # Gone: nothing at all in the last 60 days, though they used to visit and buy.
        if max(visits) < START + timedelta(days=days - 60):
            gone += 1
    assert buyers >= 50
    assert 0.15 < gone / buyers < 0.8


def test_products_have_unique_titles_a_brand_attribute_and_colours_only_where_they_make_sense():
    catalogue = generate_catalogue(42, 600)
    assert len({p.title for p in catalogue}) == 600
    assert all(p.attributes["brand"] == p.brand for p in catalogue)
    assert not any("colour" in p.attributes for p in catalogue if p.reorder_days)
    assert all("colour" in p.attributes for p in catalogue if not p.reorder_days)
