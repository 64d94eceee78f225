"""Pipeline tuning, the model directory, and the command line end to end."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recommender import artifact
from recommender.cli import main
from recommender.pipeline import Pipeline, _key, tune

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, synthetic_csv):
    out = tmp_path_factory.mktemp("model")
    cfg = out / "cfg.json"
    cfg.write_text(json.dumps({"time_budget_seconds": 3, "max_validation_users": 200}))
    assert main(["train", "--interactions", str(synthetic_csv), "--out", str(out / "m"), "--config", str(cfg)]) == 0
    return out / "m"


def read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_model_json_records_choices(trained):
    meta = json.loads((trained / "model.json").read_text())
    assert meta["version"] == artifact.VERSION
    assert set(meta["chosen"]) == {"next", "new"}
    assert meta["tuning"]["validation"] and "ndcg" in meta["tuning"]["validation"][0]["next"]
    assert meta["rankers"]["for_you"]["params"] == meta["chosen"]["next"]["params"]
    assert len(meta["user_ids"]) == meta["n_users"] and len(meta["item_ids"]) == meta["n_items"]
    assert {"bought_together", "similar_viewed", "similar_factors"} <= set(meta["lists"])


def test_pipeline_never_below_its_own_candidates_on_validation(synthetic, config):
    pipe = Pipeline({**config, "time_budget_seconds": 3}).fit(synthetic.inter, with_lists=False)
    table = pipe.tuning["validation"]
    for task in ("next", "new"):
        chosen = max(r[task]["ndcg"] for r in table if task in r)
        picked = [r for r in table if r["spec"] == pipe.tuning["chosen"][task]][0]
        assert picked[task]["ndcg"] == chosen


def test_loaded_model_matches_in_memory(synthetic, config, tmp_path):
    pipe = Pipeline({**config, "time_budget_seconds": 2}).fit(synthetic.inter)
    artifact.save(pipe, tmp_path)
    model = artifact.load(tmp_path)
    users = np.arange(40)
    for exclude_seen, name in ((False, "for_you"), (True, "discover")):
        ex = synthetic.seen[users] if exclude_seen else None
        a, _ = pipe.rankers[name].recommend(users, 10, exclude=ex)
        b, _ = model.recommend(users, 10, exclude_seen=exclude_seen)
        assert (a == b).all()
    assert len(model.popular(5)) == 5
    cat = model.item_category[0]
    assert all(model.item_category[i] == cat for i in model.popular(3, category=cat, trending=True))
    assert model.similar(model.item_ids[0], 5)


def test_recommend_csv(trained, tmp_path, synthetic_rows):
    users = tmp_path / "users.csv"
    known = sorted({r[0] for r in synthetic_rows})[:5]
    users.write_text("user_id\n" + "\n".join(known + ["stranger"]) + "\n")
    out = tmp_path / "recs.csv"
    for flag in ([], ["--exclude-seen"]):
        assert main(["recommend", "--model", str(trained), "--users", str(users), "--k", "7", "--out", str(out)] + flag) == 0
        rows = read_csv(out)
        assert list(rows[0]) == ["user_id", "item_id", "rank", "score"]
        by_user = {}
        for r in rows:
            by_user.setdefault(r["user_id"], []).append(r)
        assert set(by_user) == set(known) | {"stranger"}
        for u, rs in by_user.items():
            assert [int(r["rank"]) for r in rs] == list(range(1, 8))
            assert len({r["item_id"] for r in rs}) == 7
            assert all(np.isfinite(float(r["score"])) for r in rs)
        if flag:
            bought = {(r[0], r[1]) for r in synthetic_rows if r[3] == "purchase"}
            assert not any((r["user_id"], r["item_id"]) in bought for r in rows)


def test_repeat_items_allowed_without_exclude_seen(trained, tmp_path, synthetic_rows):
    users = tmp_path / "users.csv"
    buyers = sorted({r[0] for r in synthetic_rows if r[3] == "purchase"})
    users.write_text("user_id\n" + "\n".join(buyers) + "\n")
    out = tmp_path / "recs.csv"
    assert main(["recommend", "--model", str(trained), "--users", str(users), "--k", "10", "--out", str(out)]) == 0
    bought = {(r[0], r[1]) for r in synthetic_rows if r[3] == "purchase"}
    assert any((r["user_id"], r["item_id"]) in bought for r in read_csv(out))


def test_evaluate_prints_table_via_module(synthetic_csv, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"time_budget_seconds": 2}))
    proc = subprocess.run(
        [sys.executable, "-m", "recommender", "evaluate", "--interactions", str(synthetic_csv), "--config", str(cfg)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ("pipeline", "popularity", "als (implicit defaults)", "item-knn", "ease", "purchase history"):
        assert name in out
    assert "next basket" in out and "new items" in out and "NDCG@10" in out and "coverage" in out
    assert "[recommender]" in proc.stderr  # progress on stderr


def test_a_fixed_configuration_is_fitted_once_for_itself_and_the_promotion_gate(synthetic, config):
    """An A/B candidate (``fixed``) compared with the serving configuration: when both are
    the same, the gate measures the fits the candidate's record made, not new ones."""
    als = {"kind": "als", "params": {"factors": 8}}
    fixed = {"next": {"kind": "blend", "params": {"w": 0.5, "repeat": {"kind": "repeat", "params": {}},
                                                  "discovery": als}}, "new": als}
    fitted: dict = {}
    record = tune(synthetic.inter, {**config, "fixed": fixed, "incumbent": fixed}, fitted=fitted)
    assert record["chosen"] == fixed
    assert fitted[_key(fixed["next"])].discovery is fitted[_key(als)]  # one ALS for both tasks
    assert {key for key in fitted} == {_key(fixed["next"]), _key(als), _key({"kind": "repeat", "params": {}})}
    measured = {task: row[task] for row in record["validation"] for task in ("next", "new") if task in row}
    assert record["incumbent"] == measured and set(measured) == {"next", "new"}
