"""Refits: an earlier search's configurations fitted again, measured on a holdout of
customers' last baskets, then serving everyone's full history through the same item weights."""

import json

import numpy as np
import pytest

from recommender import artifact
from recommender.cli import main
from recommender.data import TrainData
from recommender.pipeline import Pipeline, factors_fit, fingerprint
from recommender.rankers import ALS, REGISTRY
from recommender.rankers.base import profile
from recommender.split import last_basket_split, sampled_holdout

#: Every kind whose refresh keeps a learned item side (or refits a cheap one), with no randomness.
ITEM_SIDE = [
    ("popularity", {}), ("repeat", {"half_life_days": 30.0}), ("itemknn", {"neighbours": 20}),
    ("ease", {"lam": 50.0, "max_items": 40}), ("content", {}),
    ("blend", {"w": 0.7, "discovery": {"kind": "ease", "params": {"lam": 50.0}}}),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, synthetic_csv):
    out = tmp_path_factory.mktemp("searched")
    (out / "cfg.json").write_text(json.dumps({"time_budget_seconds": 3, "max_validation_users": 200}))
    assert main(["train", "--interactions", str(synthetic_csv), "--out", str(out / "m"),
                 "--config", str(out / "cfg.json")]) == 0
    return out / "m"


@pytest.mark.parametrize("kind,params", ITEM_SIDE, ids=lambda x: str(x))
def test_refreshed_on_the_same_data_it_recommends_the_same(synthetic, kind, params):
    fitted = REGISTRY[kind](**params).fit(synthetic)
    again = REGISTRY[kind](**params).fit(synthetic).refresh(synthetic)
    users = np.arange(60)
    assert (fitted.recommend(users, 10)[0] == again.recommend(users, 10)[0]).all()


def test_the_holdout_removes_only_the_sampled_customers_last_baskets(synthetic):
    inter = synthetic.inter
    split = sampled_holdout(inter, "day", n=25, seed=1)
    everyone = last_basket_split(inter, "day")
    assert len(split) == 25 and set(split.users) <= set(everyone.users)
    cutoff = dict(zip(split.users.tolist(), split.cutoff.tolist()))
    kept = np.array([t < cutoff.get(u, np.inf) for u, t in zip(inter.users.tolist(), inter.times.tolist())])
    removed = ~kept
    assert len(split.train) == kept.sum() < len(inter)
    assert set(inter.users[removed].tolist()) <= set(split.users.tolist())
    assert len(everyone.train) < len(split.train)  # tuning's split holds out far more


def test_refresh_keeps_the_item_weights_and_takes_everyones_history(synthetic):
    split = sampled_holdout(synthetic.inter, "day", n=40, seed=0)
    part = TrainData.build(split.train, synthetic.config)
    ease = REGISTRY["ease"](lam=50.0).fit(part)
    B = ease.B.copy()
    ease.refresh(synthetic)
    assert np.array_equal(ease.B, B)
    users = split.users[:10]
    expected = profile(synthetic, "binary")[users][:, ease.cols] @ B
    assert np.allclose(ease.score(users)[:, ease.cols], expected)
    als = ALS(factors=8, iterations=3).fit(part)
    V = als.V.copy()
    als.refresh(synthetic)
    assert np.array_equal(als.V, V) and als.U.shape == (synthetic.n_users, 8) and np.isfinite(als.U).all()


def test_warm_started_factors_follow_the_items_by_id(synthetic):
    first = ALS(factors=8, regularization=0.1, iterations=4).fit(synthetic)
    order = np.arange(synthetic.n_items)[::-1]  # the same items, listed the other way round
    warm = {"kind": "als", "params": first.params, "item_ids": list(synthetic.inter.item_ids[order]),
            "V": first.V[order]}
    again = factors_fit(synthetic, warm)
    assert again.params == first.params and again.V.shape == first.V.shape
    cos = np.sum(again.V * first.V, axis=1) / (np.linalg.norm(again.V, axis=1) * np.linalg.norm(first.V, axis=1) + 1e-9)
    assert np.median(cos) > 0.8  # started from the earlier factors, item by item, not from random ones


def test_a_refit_measures_and_records_the_searched_choice(synthetic, config, tmp_path):
    searched = Pipeline({**config, "time_budget_seconds": 2}).fit(synthetic.inter)
    assert searched.tuning["mode"] == "search"
    assert searched.tuning["searched"]["config"] == fingerprint(config | {"time_budget_seconds": 2})
    artifact.save(searched, tmp_path / "searched")
    refit = artifact.refit_inputs(tmp_path / "searched")
    assert refit["chosen"] == searched.tuning["chosen"] and refit["factors"]["V"].shape[0] == synthetic.n_items
    pipe = Pipeline({**config, "refit_holdout_users": 30}).fit(synthetic.inter, refit=refit)
    assert pipe.tuning["mode"] == "refit" and pipe.tuning["chosen"] == searched.tuning["chosen"]
    assert pipe.tuning["validation_users"] == 30 and pipe.tuning["searched"] == refit["searched"]
    assert {row["spec"]["kind"] for row in pipe.tuning["validation"]} <= {"blend", *REGISTRY}
    assert all(0 <= row[task]["ndcg"] <= 1 for row in pipe.tuning["validation"] for task in ("next", "new")
               if task in row)
    assert pipe.rankers["for_you"].params == searched.rankers["for_you"].params
    assert pipe.factors is not None and set(pipe.lists) == set(searched.lists)


def test_train_refit_on_the_command_line(trained, synthetic_csv, tmp_path, capsys):
    out = tmp_path / "refit"
    cfg = trained.parent / "cfg.json"
    assert main(["train", "--interactions", str(synthetic_csv), "--out", str(out), "--refit", str(trained),
                 "--config", str(cfg)]) == 0
    before, after = (json.loads((d / "model.json").read_text()) for d in (trained, out))
    assert after["tuning"]["mode"] == "refit" and after["chosen"] == before["chosen"]
    assert after["tuning"]["searched"] == before["tuning"]["searched"]
    assert after["tuning"]["validation"] and "tuning on a validation split" not in capsys.readouterr().err
    assert main(["train", "--interactions", str(synthetic_csv), "--out", str(tmp_path / "x"),
                 "--refit", str(tmp_path / "missing")]) == 2
    assert "model directory not found" in capsys.readouterr().err


def test_bad_search_schedule_settings_are_reported_by_the_system_checks(settings):
    from recommender.checks import check_settings

    assert check_settings() == []
    settings.RECOMMENDER_SEARCH_EVERY_DAYS, settings.RECOMMENDER_SEARCH_ON_GROWTH = -1, "a quarter"
    settings.RECOMMENDER_SEARCH_ON_DROP = True
    errors = {error.msg.split()[0] for error in check_settings()}
    assert errors == {"RECOMMENDER_SEARCH_EVERY_DAYS", "RECOMMENDER_SEARCH_ON_GROWTH", "RECOMMENDER_SEARCH_ON_DROP"}
