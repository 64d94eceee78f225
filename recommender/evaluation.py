"""Offline evaluation on a temporal split, for both tasks, and the baselines.

Two tasks, as the store is judged:

* ``next``: the items of the held-out basket, repeats included; nothing is
  excluded from the predictions.
* ``new``: only held-out items the user had not bought before; items the user
  had bought are excluded from both the predictions and the targets.
"""

from __future__ import annotations

import numpy as np

from recommender.data import TrainData
from recommender.metrics import summarise
from recommender.rankers import ALS, EASE, Blend, ItemKNN, Popularity, Repeat
from recommender.rankers.base import topk
from recommender.split import Split, new_item_targets

TASKS = ("next", "new")
TASK_TITLES = {"next": "next basket (repeats count)", "new": "new items only"}


def task_targets(split: Split, data: TrainData, task: str):
    if task == "next":
        return split.users, split.targets
    return new_item_targets(split, data.seen)


def recs_for(ranker, data: TrainData, users, k: int, task: str):
    exclude = data.seen[users] if task == "new" and len(users) else None
    items, _ = ranker.recommend(users, k, exclude=exclude)
    return [row[row >= 0] for row in items]


def recs_both(for_you, discover, data: TrainData, targets: dict, k: int, batch: int = 512) -> dict:
    """``recs_for`` of both tasks (the same lists) when the "next" ranker is a blend of the
    "new" one, as the chosen configurations usually are: each batch of customers is scored
    by the shared discovery model once, not once per task. The "new" task's customers are
    among the "next" task's (those with a new item in their basket), in the same order."""
    users, new_users = np.asarray(targets["next"][0]), np.asarray(targets["new"][0])
    in_new = np.isin(users, new_users)
    seen = data.seen
    recs = {"next": [], "new": []}
    for start in range(0, len(users), batch):
        u = users[start:start + batch]
        d = discover.score(u)
        items, _ = topk(for_you.score(u, discovery_scores=d), k, for_you.tiebreak)
        recs["next"].extend(row[row >= 0] for row in items)
        pick = in_new[start:start + batch]
        if pick.any():
            items, _ = topk(d[pick], k, discover.tiebreak, seen[u[pick]])
            recs["new"].extend(row[row >= 0] for row in items)
    return recs


def shares_discovery(for_you, discover) -> bool:
    """Whether ``for_you`` blends ``discover`` itself (then :func:`recs_both` applies)."""
    return isinstance(for_you, Blend) and getattr(for_you, "discovery", None) is discover


def evaluate(ranker, data: TrainData, users, targets, k: int, task: str) -> dict:
    recs = recs_for(ranker, data, users, k, task)
    return summarise(recs, targets, data.n_items, k)


def baselines(config: dict) -> dict:
    """The baselines the pipeline must beat, each with its usual settings (no tuning)."""
    return {
        "popularity": Popularity(),
        "als (implicit defaults)": ALS(),
        "item-knn (cosine, k=100)": ItemKNN(neighbours=100),
        "ease (lambda=500)": EASE(lam=500.0, max_items=config["ease_max_items"]),
        "purchase history by frequency": Repeat(),
    }


def format_table(results: dict, k: int) -> str:
    """results: name -> task -> metrics. One table, both tasks side by side."""
    name_w = max(len("model"), *(len(n) for n in results)) + 2
    head = f"{'model':<{name_w}}"
    sub = " " * name_w
    for task in TASKS:
        title = TASK_TITLES[task]
        head += f"| {title:<33}"
        sub += f"| {'NDCG@' + str(k):>10} {'recall@' + str(k):>10} {'coverage':>10} "
    lines = [head, sub, "-" * len(sub)]
    for name, per_task in results.items():
        line = f"{name:<{name_w}}"
        for task in TASKS:
            m = per_task.get(task, {})
            line += "| " + " ".join(f"{m.get(x, float('nan')):>10.4f}" for x in ("ndcg", "recall", "coverage")) + " "
        lines.append(line)
    users = {t: next(iter(results.values())).get(t, {}).get("users", 0) for t in TASKS}
    lines.append(f"users evaluated: next basket {users['next']}, new items {users['new']}")
    return "\n".join(lines)


def rank_of(results: dict, task: str, name: str) -> int:
    order = sorted(results, key=lambda n: -np.nan_to_num(results[n][task]["ndcg"]))
    return order.index(name) + 1
