"""Popular and trending items, overall and per category.

Popularity is the fallback for unknown users and the baseline everything must
beat. "Trending" is the same count with a short half-life, so what sold last
week outranks what sold last year.
"""

from __future__ import annotations

import numpy as np

from recommender.data import decay
from recommender.rankers.base import Ranker, register


def popularity_vector(data, half_life_days=None) -> np.ndarray:
    """Decayed purchase count per item (all weighted events if there are no purchases)."""
    inter = data.inter
    mask = inter.is_purchase
    w = np.ones(mask.sum())
    if not mask.any():
        mask = inter.weights > 0
        w = inter.weights[mask].astype(np.float64)
    w = w * decay(inter.times[mask], data.now, half_life_days)
    return np.bincount(inter.items[mask], weights=w, minlength=data.n_items)


@register
class Popularity(Ranker):
    """Same list for everyone: (optionally decayed) purchase counts."""

    kind = "popularity"
    personal = False
    defaults = {"half_life_days": None}

    def _fit(self, data) -> None:
        self.pop = popularity_vector(data, self.params["half_life_days"]).astype(np.float32)

    def score(self, users) -> np.ndarray:
        return np.broadcast_to(self.pop, (len(users), self.n_items)).copy()

    def state(self) -> dict:
        return {"pop": self.pop}

    def _load(self, arrays) -> None:
        self.pop = np.asarray(arrays["pop"])


def top_per_category(pop: np.ndarray, categories: np.ndarray | None, k: int) -> dict[str, np.ndarray]:
    """Most popular ``k`` items per category (key "" holds the overall list)."""
    out = {"": np.argsort(-pop, kind="stable")[:k]}
    if categories is None:
        return out
    for cat in np.unique(categories):
        if cat == "":
            continue
        idx = np.flatnonzero(categories == cat)
        out[str(cat)] = idx[np.argsort(-pop[idx], kind="stable")[:k]]
    return out
