"""Content similarity: items alike in title, description, category, brand and attributes.

``content_similarity`` gives every item its top-N neighbours by cosine over the TF-IDF
vectors of :meth:`recommender.items.ItemFeatures.matrix` (sparse, in row blocks, so tens
of thousands of products fit in a few hundred MB at most). It needs no interactions: a
product nobody has seen yet has neighbours from the day it is listed, which is what the
shop's "similar items" slot falls back on, and what lets new products be recommended.

The :class:`Content` ranker scores a user like item-kNN does, their interaction row times
the item x item matrix, but with content similarity: "people who looked at this kind of
thing". The pipeline measures it on validation and blends it into discovery only if it
helps there.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.items import ItemFeatures
from recommender.rankers.base import profile, register
from recommender.rankers.neighbours import ItemKNN, cosine_topk


def features_of(data) -> ItemFeatures | None:
    """The item features of ``data`` (TrainData); categories alone when that is all there is."""
    inter = data.inter
    if inter.item_features is not None:
        return inter.item_features
    if inter.item_category is None:
        return None
    cached = inter.meta.get("category_features")
    if cached is None or len(cached) != inter.n_items:
        cached = ItemFeatures.from_rows([{"item_id": i, "category": c}
                                         for i, c in zip(inter.item_ids, inter.item_category)])
        inter.meta["category_features"] = cached
    return cached


def content_similarity(features: ItemFeatures, n: int, weights: dict | None = None) -> sp.csr_matrix:
    """Items x items, the ``n`` most similar items per row by content (cached per features)."""
    key = ("similarity", n, tuple(sorted((weights or {}).items())))
    if key not in features._cache:
        F = features.matrix(weights)
        if F.shape[1] == 0:
            S = sp.csr_matrix((len(features), len(features)), dtype=np.float32)
        else:
            S = cosine_topk(sp.csr_matrix(F.T), n)
        features._cache[key] = S
    return features._cache[key]


@register
class Content(ItemKNN):
    """score(u, j) = sum over the user's items i of content_sim(i, j), top ``neighbours`` per item."""

    kind = "content"
    defaults = {"neighbours": 50, "transform": "binary"}

    def _fit(self, data) -> None:
        self.X = profile(data, self.params["transform"])
        features = features_of(data)
        if features is None:
            self.S = sp.csr_matrix((data.n_items, data.n_items), dtype=np.float32)
        else:
            self.S = content_similarity(features, int(self.params["neighbours"]),
                                        data.config.get("content_field_weights"))
