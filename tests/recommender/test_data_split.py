"""Loading, event weights, matrices, and the temporal split (no leakage)."""

import numpy as np
import pytest

from recommender.config import load_config
from recommender.data import TrainData, interaction_matrix, load_csv, parse_timestamp, purchase_matrix
from recommender.split import last_basket_split, new_item_targets


def ids(inter, kind, idx):
    return {getattr(inter, kind)[j] for j in idx}


def test_load_tiny(tiny_csv, config):
    inter = load_csv(tiny_csv, config)
    assert len(inter) == 26
    assert set(inter.user_ids) == {"alice", "bob", "carol", "dave", "erin"}
    assert inter.item_category is None
    # Offsets and "Z" parse to the same instant; naive would be UTC too.
    assert parse_timestamp("2025-03-15T10:00:00+00:00") == parse_timestamp("2025-03-15T10:00:00Z")
    assert parse_timestamp("2025-03-15T10:00:00") == parse_timestamp("2025-03-15T11:00:00+01:00")
    # An unknown event name gets the configurable weight.
    assert inter.weights[inter.events == "wishlist"].tolist() == [config["other_event_weight"]]


def test_negative_evidence(tiny_csv, config):
    inter = load_csv(tiny_csv, config)
    X = interaction_matrix(inter)
    P = purchase_matrix(inter)
    u = {x: j for j, x in enumerate(inter.user_ids)}
    i = {x: j for j, x in enumerate(inter.item_ids)}
    assert X[u["bob"], i["coffee"]] == pytest.approx(3.0 - 2.0)  # added then removed
    assert X[u["bob"], i["jam"]] == 0.0  # bought (5) then returned (-5)
    assert P[u["bob"], i["jam"]] == 0.0
    assert P[u["alice"], i["milk"]] == 3.0
    # Decay: a purchase one half-life before "now" counts half.
    Pd = purchase_matrix(inter, now=parse_timestamp("2025-03-15T10:00:00Z"), half_life_days=7.0)
    assert Pd[u["alice"], i["eggs"]] == pytest.approx(0.5)


def test_aliases_map_tracking_events(config):
    from recommender.data import Interactions

    inter = Interactions.from_records(["a", "a"], ["x", "y"], [0.0, 1.0], ["Product Viewed", "Order Completed"], config)
    assert list(inter.events) == ["view", "purchase"]


def test_last_basket_split_tiny(tiny_csv, config):
    inter = load_csv(tiny_csv, config)
    split = last_basket_split(inter)
    held = {inter.user_ids[u]: ids(inter, "item_ids", t) for u, t in zip(split.users, split.targets)}
    assert held == {"alice": {"milk", "coffee"}, "bob": {"bread", "butter"}, "carol": {"tea", "eggs"}}
    data = TrainData.build(split.train, config)
    users, new = new_item_targets(split, data.seen)
    got = {inter.user_ids[u]: ids(inter, "item_ids", t) for u, t in zip(users, new)}
    # Carol only viewed tea before: it is new. Bob's bread is a rebuy.
    assert got == {"alice": {"coffee"}, "bob": {"butter"}, "carol": {"tea"}}
    # Single-basket users stay whole in training.
    assert (split.train.users == list(inter.user_ids).index("dave")).sum() == 3


def test_no_leakage(synthetic):
    inter = synthetic.inter
    split = last_basket_split(inter)
    assert len(split) > 50
    train = split.train
    last_train = np.full(inter.n_users, -np.inf)
    np.maximum.at(last_train, train.users, train.times)
    buy = inter.is_purchase
    for u, tgt, cut in zip(split.users, split.targets, split.cutoff):
        rows = buy & (inter.users == u) & np.isin(inter.items, tgt) & (inter.times >= cut)
        assert rows.any()
        assert last_train[u] < inter.times[rows].min()
    # The validation split is carved from training the same way.
    val = last_basket_split(train)
    assert len(val) > 0
    assert len(val.train) < len(train)


def test_timestamp_basket_mode(tiny_csv):
    cfg = load_config(overrides={"basket": "timestamp"})
    inter = load_csv(tiny_csv, cfg)
    split = last_basket_split(inter, basket="timestamp")
    held = {inter.user_ids[u]: ids(inter, "item_ids", t) for u, t in zip(split.users, split.targets)}
    assert held["alice"] == {"milk", "coffee"}
