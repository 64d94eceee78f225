"""Item-to-item lists for product pages and baskets.

* ``bought_together``: cosine over baskets (a user's purchases on one day),
  i.e. co-purchase normalised by both items' frequencies: cross-sell.
* ``similar_viewed``: cosine over users' views ("people who looked at this
  also looked at").
* ``similar_factors``: cosine between ALS item factors: similar taste even
  without direct co-occurrence.
* ``content``: cosine between the items' TF-IDF feature vectors (title,
  description, category, brand, attributes): known for new products too.

Each is an items x items sparse matrix with the top ``n`` neighbours per row.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.data import DAY
from recommender.rankers.content import content_similarity
from recommender.rankers.factor import ALS
from recommender.rankers.neighbours import cosine_topk


def basket_matrix(inter) -> sp.csr_matrix:
    mask = inter.is_purchase
    if not mask.any():
        return sp.csr_matrix((0, inter.n_items), dtype=np.float32)
    day = np.floor(inter.times[mask] / DAY).astype(np.int64)
    day -= day.min()
    _, basket = np.unique(inter.users[mask].astype(np.int64) * (int(day.max()) + 1) + day, return_inverse=True)
    m = sp.csr_matrix((np.ones(mask.sum(), dtype=np.float32), (basket.ravel(), inter.items[mask])),
                      shape=(int(basket.max()) + 1, inter.n_items))
    m.data[:] = 1.0
    return m


def view_matrix(inter) -> sp.csr_matrix:
    mask = inter.events == "view"  # once per training: not worth keeping (10 MB at 10M rows)
    m = sp.csr_matrix((np.ones(mask.sum(), dtype=np.float32), (inter.users[mask], inter.items[mask])),
                      shape=(inter.n_users, inter.n_items))
    m.data[:] = 1.0
    return m


def factor_neighbours(V: np.ndarray, n: int, block: int = 256) -> sp.csr_matrix:
    """Top ``n`` items by cosine of factors; only positive similarities are kept, so an
    item without factors (no interactions yet) has no neighbours rather than arbitrary ones."""
    from threadpoolctl import threadpool_limits

    from recommender.rankers.neighbours import blas_threads

    Vn = V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-12)
    with threadpool_limits(limits=blas_threads(), user_api="blas"):
        S = _dense_topk(Vn, n, block)
    S.data[S.data <= 0] = 0.0
    S.eliminate_zeros()
    return S


def _dense_topk(Vn: np.ndarray, n: int, block: int) -> sp.csr_matrix:
    m = len(Vn)
    keep = min(n, m - 1)
    if keep <= 0:
        return sp.csr_matrix((m, m), dtype=np.float32)
    data, idx = [], []
    for start in range(0, m, block):
        S = Vn[start:start + block] @ Vn.T
        S[np.arange(len(S)), np.arange(start, start + len(S))] = -np.inf
        # A copy, not a view: a view would keep each block's whole argpartition (block x m
        # int64) alive until the end, 3 GB for 20,000 items.
        part = np.argpartition(-S, keep - 1, axis=1)[:, :keep].copy()
        data.append(np.take_along_axis(S, part, axis=1))
        idx.append(part)
    data, idx = np.vstack(data), np.vstack(idx)
    ptr = np.arange(0, m * keep + 1, keep)
    return sp.csr_matrix((data.ravel().astype(np.float32), idx.ravel(), ptr), shape=(m, m))


def item_lists(data, n: int = 20, als: ALS | None = None) -> dict[str, sp.csr_matrix]:
    inter = data.inter
    out = {}
    B = basket_matrix(inter)
    if B.shape[0]:
        out["bought_together"] = cosine_topk(B, n)
    Vw = view_matrix(inter)
    if Vw.nnz:
        out["similar_viewed"] = cosine_topk(Vw, n)
    if als is not None:
        out["similar_factors"] = factor_neighbours(als.V, n)
    if inter.item_features is not None:
        out["content"] = content_similarity(inter.item_features, n, data.config.get("content_field_weights"))
    return out


def neighbours_of(S: sp.csr_matrix, item: int, k: int) -> np.ndarray:
    """The ``k`` most similar items to ``item``, best first."""
    lo, hi = S.indptr[item], S.indptr[item + 1]
    idx, val = S.indices[lo:hi], S.data[lo:hi]
    return idx[np.argsort(-val, kind="stable")][:k]
