"""The shortcuts a scheduled refit takes (see bench/training.py) give what the long way gives."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from recommender import artifact
from recommender.evaluation import TASKS, recs_both, recs_for, shares_discovery, task_targets
from recommender.pipeline import Pipeline, build
from recommender.publish import _for_you_among, _personal
from recommender.rankers.neighbours import others_busy
from recommender.split import last_basket_split, sampled_holdout

EASE = {"kind": "ease", "params": {"lam": 50.0, "max_items": 5000, "transform": "binary"}}


def blend(w: float, half_life=None) -> dict:
    return {"kind": "blend", "params": {"w": w, "repeat": {"kind": "repeat", "params": {"half_life_days": half_life}},
                                        "discovery": EASE}}


@pytest.mark.parametrize("w,half_life", [(1.0, None), (1.0, 30.0), (0.7, None)])
def test_published_lists_are_the_models_own_ranking(synthetic, config, tmp_path, w, half_life):
    """Publishing ranks "for you" (blend weight 1) among each person's purchases and
    "discover" list, the full ranking only where it cannot show that to be the same: the
    lists are exactly ``recommend``'s, at any length, for known and unknown people."""
    pipe = Pipeline({**config, "fixed": {"next": blend(w, half_life), "new": EASE}}).fit(synthetic.inter)
    _directory, model = artifact.save_and_open(pipe, tmp_path / "model")
    users = np.r_[np.arange(synthetic.n_users), -1]
    for k in (3, 10, 40):
        lists = _personal(model, users, k)
        assert np.array_equal(lists["for_you"], model.recommend(users, k)[0])
        assert np.array_equal(lists["discover"], model.recommend(users, k, exclude_seen=True)[0])
    if w >= 1.0:  # the short way did settle most people (else this test would test nothing)
        from recommender.rankers.base import rows, topk_edge

        d = model.rankers["discover"].score(users)
        seen = rows(model.seen, users)
        found, _scores, edge = topk_edge(d, 10, model.rankers["discover"].tiebreak, seen)
        _items, settled = _for_you_among(model.rankers["for_you"], d, users, seen, found, edge)
        assert settled.mean() > 0.5


def test_the_holdout_scores_both_tasks_once_as_each_alone(synthetic, config):
    split = sampled_holdout(synthetic.inter, "day", 60, 0)
    assert len(split) == 60
    from recommender.data import TrainData

    data = TrainData.build(split.train, config)
    targets = {task: task_targets(split, data, task) for task in TASKS}
    cache = {}
    for_you, discover = build(blend(0.8), data, cache), build(EASE, data, cache)
    assert shares_discovery(for_you, discover)
    both = recs_both(for_you, discover, data, targets, 10, batch=16)
    for task, ranker in (("next", for_you), ("new", discover)):
        alone = recs_for(ranker, data, targets[task][0], 10, task)
        assert len(both[task]) == len(alone) and all(np.array_equal(a, b) for a, b in zip(both[task], alone))


def test_a_sampled_holdout_holds_out_the_last_basket_of_the_customers_a_full_split_would_sample(synthetic):
    full = last_basket_split(synthetic.inter).sample(40, 7)
    held = sampled_holdout(synthetic.inter, "day", 40, 7)
    assert np.array_equal(held.users, full.users) and np.array_equal(held.cutoff, full.cutoff)
    assert all(np.array_equal(a, b) for a, b in zip(held.targets, full.targets))
    kept = held.train
    cut = dict(zip(held.users.tolist(), held.cutoff.tolist()))
    assert all(t < cut.get(u, np.inf) for u, t in zip(kept.users.tolist(), kept.times.tolist()))
    others = ~np.isin(synthetic.inter.users, held.users)
    assert others.sum() == (~np.isin(kept.users, held.users)).sum()  # everyone else's data whole


def test_event_masks_are_remembered_and_follow_subsets(synthetic):
    inter = synthetic.inter
    assert np.array_equal(inter.is_purchase, inter.events == "purchase") and inter.is_purchase is inter.is_purchase
    part = inter.subset(inter.times < np.median(inter.times))
    assert np.array_equal(part.is_purchase, part.events == "purchase")
    assert np.array_equal(part.event_is("view"), part.events == "view")
    with pytest.raises(ValueError):
        part.is_purchase[0] = True  # shared: read-only


def test_other_processes_cpu_use_is_seen(monkeypatch):
    """What decides the Cholesky's threads: a process spinning on a core counts as busy."""
    from recommender.rankers import neighbours

    monkeypatch.setattr(neighbours, "_busy_seen", [])
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time() + 3\nwhile time.time() < t: pass"])
    try:
        time.sleep(0.5)
        busy = others_busy(window=0.3)
    finally:
        spinner.kill()
        spinner.wait()
    assert 0.6 <= busy <= (os.cpu_count() or 1)
    assert others_busy() == busy  # remembered for a few seconds: training asks a few times
