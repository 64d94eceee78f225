"""Ranking metrics with binary relevance: NDCG@k, recall@k, catalogue coverage.

Definitions (kept explicit because papers differ):

* NDCG@k = DCG / IDCG with gain 1 for a target item at rank r (1-based)
  discounted by 1/log2(r+1); IDCG places min(|targets|, k) hits at the top.
* recall@k = hits in the top k / |targets| (plain recall, not capped at k).
* coverage = distinct items recommended to anyone / items in the catalogue.
"""

from __future__ import annotations

import numpy as np


def ndcg_at_k(recs: np.ndarray, targets, k: int) -> float:
    """``recs`` is one user's ranked item list, ``targets`` a collection of relevant items."""
    tgt = set(int(x) for x in targets)
    if not tgt:
        return 0.0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = sum(discounts[r] for r, item in enumerate(list(recs)[:k]) if int(item) in tgt)
    idcg = discounts[: min(len(tgt), k)].sum()
    return float(dcg / idcg)


def recall_at_k(recs: np.ndarray, targets, k: int) -> float:
    tgt = set(int(x) for x in targets)
    if not tgt:
        return 0.0
    return len(tgt.intersection(int(x) for x in list(recs)[:k])) / len(tgt)


def coverage(all_recs, n_items: int, k: int) -> float:
    if n_items == 0:
        return 0.0
    items = set()
    for recs in all_recs:
        items.update(int(x) for x in list(recs)[:k])
    return len(items) / n_items


def summarise(all_recs, all_targets, n_items: int, k: int) -> dict:
    """Mean NDCG@k and recall@k over users, plus coverage."""
    if len(all_targets) == 0:
        return {"ndcg": float("nan"), "recall": float("nan"), "coverage": float("nan"), "users": 0}
    nd = [ndcg_at_k(r, t, k) for r, t in zip(all_recs, all_targets)]
    rc = [recall_at_k(r, t, k) for r, t in zip(all_recs, all_targets)]
    return {
        "ndcg": float(np.mean(nd)),
        "recall": float(np.mean(rc)),
        "coverage": coverage(all_recs, n_items, k),
        "users": len(all_targets),
    }
