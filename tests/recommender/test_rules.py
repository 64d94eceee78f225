"""The rules' pure core (``recommender.rules.pick`` over plain entries): no database, no Redis."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from recommender.catalogue import Entry
from recommender.rules import Context, Rules, Scope, pick

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
DURABLE, CONSUMABLE = 1, 2


def entry(pk, *, category="Cups", price="5", available=True, product_class=DURABLE, paths=None):
    return Entry(SimpleNamespace(pk=pk), available, Decimal(price), category,
                 paths if paths is not None else (f"0001{category[:4]}",), product_class)


def ids(picked):
    return [e.product.pk for e, _source in picked]


@pytest.fixture(autouse=True)
def durable_by_default(settings):
    settings.RECOMMENDER_REPEATABLE_DEFAULT = False


RULES = Rules(repeatable={CONSUMABLE: True})
CTX = Context("for_you")


def test_unavailable_hidden_unknown_basket_and_page_products_are_skipped():
    entries = {"1": entry("1", available=False), "2": Entry(None, False), "3": entry("3"), "4": entry("4"),
               "5": entry("5")}
    picked = pick([(i, "popular") for i in "123456"], entries, k=5, rules=RULES, context=CTX, excluded={"4"},
                  now=NOW)
    assert ids(picked) == ["3", "5"]


def test_bought_durables_go_bought_consumables_stay_and_discover_drops_both():
    entries = {"1": entry("1"), "2": entry("2", product_class=CONSUMABLE), "3": entry("3")}
    candidates = [(i, "for_you") for i in "123"]
    assert ids(pick(candidates, entries, k=3, rules=RULES, context=CTX, bought={"1", "2"}, now=NOW)) == ["2", "3"]
    assert ids(pick(candidates, entries, k=3, rules=RULES, context=CTX, bought={"1", "2"}, exclude_bought=True,
                    now=NOW)) == ["3"]
    everything_repeats = Rules(repeatable={DURABLE: True})
    assert ids(pick(candidates, entries, k=3, rules=everything_repeats, context=CTX, bought={"1"}, now=NOW)) == [
        "1", "2", "3"]


def test_buy_again_keeps_only_what_can_be_bought_again():
    entries = {"1": entry("1"), "2": entry("2", product_class=CONSUMABLE)}
    assert ids(pick([("1", "buy_again"), ("2", "buy_again")], entries, k=2, rules=RULES,
                    context=Context("buy_again"), repeatable_only=True, now=NOW)) == ["2"]


def test_the_category_cap_holds_while_other_candidates_last_then_gives_way():
    entries = {str(i): entry(str(i), category="Cups" if i < 6 else "Tea") for i in range(8)}
    candidates = [(str(i), "popular") for i in range(8)]
    assert ids(pick(candidates, entries, k=5, rules=RULES, context=CTX, cap=3, now=NOW)) == ["0", "1", "2", "6", "7"]
    # Only cups left to choose from: the slot is filled rather than left short.
    assert ids(pick(candidates[:6], entries, k=5, rules=RULES, context=CTX, cap=3, now=NOW)) == ["0", "1", "2", "3", "4"]
    assert ids(pick(candidates, entries, k=5, rules=RULES, context=CTX, cap=None, now=NOW)) == ["0", "1", "2", "3", "4"]


def test_preferred_candidates_come_first_the_rest_fill_up():
    entries = {str(i): entry(str(i), price=str(p)) for i, p in enumerate([4, 12, 50, 14])}
    band = lambda e, source: Decimal("10") < e.price <= Decimal("15")  # noqa: E731
    picked = pick([(str(i), "similar") for i in range(4)], entries, k=4, rules=RULES, context=CTX, prefer=band,
                  now=NOW)
    assert ids(picked) == ["1", "3", "0", "2"]


def test_pins_take_their_place_ahead_of_the_model_but_not_of_availability_bans_or_purchases():
    entries = {str(i): entry(str(i), category=f"c{i}") for i in range(9)}
    entries["8"] = entry("8", available=False)
    rules = Rules(pins=[Scope("5", position=1), Scope("6", position=3), Scope("7", position=1), Scope("8"),
                        Scope("4", position=2)],
                  bans=[Scope("7")], repeatable={})
    picked = pick([(str(i), "for_you") for i in range(4)], entries, k=5, rules=rules, context=CTX, bought={"4"},
                  now=NOW)
    assert ids(picked) == ["5", "0", "6", "1", "2"]
    assert [source for _e, source in picked] == ["pinned", "for_you", "pinned", "for_you", "for_you"]


def test_pins_sharing_a_place_keep_their_order_and_are_exempt_from_the_cap():
    entries = {str(i): entry(str(i)) for i in range(6)}
    rules = Rules(pins=[Scope("4"), Scope("5")], repeatable={})
    picked = pick([(str(i), "popular") for i in range(4)], entries, k=4, rules=rules, context=CTX, cap=1, now=NOW)
    assert ids(picked) == ["4", "5", "0", "1"]  # the cap gave way: only cups to choose from


def test_a_scope_reaches_its_slot_product_category_subtree_and_period():
    pin = Scope("9", slot="similar", on_product="3", on_category="0001", starts_at=NOW - timedelta(days=1),
                ends_at=NOW + timedelta(days=1))
    on_page = Context("similar", frozenset({"3"}), ("00010002",))
    assert pin.applies(on_page, NOW)
    assert not pin.applies(Context("bought_together", frozenset({"3"}), ("00010002",)), NOW)
    assert not pin.applies(Context("similar", frozenset({"4"}), ("00010002",)), NOW)
    assert not pin.applies(Context("similar", frozenset({"3"}), ("00020001",)), NOW)
    assert not pin.applies(on_page, NOW + timedelta(days=2)) and not pin.applies(on_page, NOW - timedelta(days=2))
    assert Scope("9").applies(Context("trending"), NOW)
