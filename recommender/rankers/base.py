"""The small uniform API every ranker implements, and the shared top-k logic.

A ranker is ``fit(data)`` once, then ``score(users)`` gives a dense
users x items array and ``recommend(users, k, exclude=...)`` the top k. Users
are integer indices; ``-1`` means a user the model has never seen, who gets
only the popularity tie-break (i.e. the popular fallback). Every ranker also
says how to persist itself (``state()`` -> arrays, ``params`` -> JSON) so the
artifact needs no pickle, and new backends (content TF-IDF, session-based)
plug in by subclassing and registering in :data:`REGISTRY`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

REGISTRY: dict[str, type["Ranker"]] = {}

#: Ties (most often "no signal at all") are broken by popularity, scaled so
#: it can never overturn a real score difference.
TIE_EPS = 1e-9


def register(cls):
    REGISTRY[cls.kind] = cls
    return cls


def binarise(m: sp.csr_matrix) -> sp.csr_matrix:
    b = m.copy().astype(np.float32)
    b.data[:] = 1.0
    return b


def profile(data, transform: str = "binary") -> sp.csr_matrix:
    """The user x item matrix discovery models learn from and score with."""
    X = data.X
    if transform == "binary":
        return binarise(X)
    if transform == "log":
        m = X.copy().astype(np.float32)
        m.data = np.log1p(m.data)
        return m
    if transform == "purchases":
        return binarise(data.P)
    raise ValueError(f"unknown transform {transform!r}")


def rows(m: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
    """Rows of ``m`` for ``users``; unknown users (-1) get an empty row."""
    users = np.asarray(users)
    known = users >= 0
    r = m[np.maximum(users, 0)]
    if not known.all():
        r = (sp.diags(known.astype(m.dtype)) @ r).tocsr()
        r.eliminate_zeros()
    return r


def normalise_rows(s: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Scale each row so its maximum is 1 and negatives are 0 (for blending); ``in_place``
    reuses ``s`` (a float array the caller owns) instead of allocating another."""
    s = np.maximum(s, 0.0, out=s if in_place and s.dtype.kind == "f" else None)
    mx = s.max(axis=1, keepdims=True) if s.shape[1] else np.zeros((s.shape[0], 1))
    s /= np.where(mx > 0, mx, 1.0)
    return s


def normalise_sparse_rows(m: sp.csr_matrix) -> sp.coo_matrix:
    """:func:`normalise_rows` of a sparse matrix's dense form (the same values), without
    making it dense: its stored entries, negatives as 0, each divided by its row's maximum."""
    m = m.tocsr(copy=True)
    m.sum_duplicates()  # one entry per item: they are added into dense rows by position
    m = m.tocoo(copy=False)
    m.data = np.maximum(m.data, 0.0)
    mx = np.zeros(m.shape[0], dtype=m.data.dtype)
    np.maximum.at(mx, m.row, m.data)
    m.data /= np.where(mx > 0, mx, 1.0)[m.row]
    return m


def topk(scores: np.ndarray, k: int, tiebreak: np.ndarray, exclude: sp.csr_matrix | None = None):
    """Top ``k`` item indices and scores per row; excluded items never appear.

    Rows with fewer than ``k`` allowed items are padded with item -1. The order is by
    ``score + TIE_EPS * tiebreak`` in float64. Rather than convert the whole users x items
    matrix, each row's k-th best score ``t`` is found in the scores' own precision: only
    items scoring at least ``t - TIE_EPS`` can be in the top ``k`` (the tie-break adds at
    most ``TIE_EPS``), so a row with exactly ``k`` of them is settled by sorting those;
    rows with more (ties at the edge, e.g. many zero scores) take the full float64 path.
    """
    items, values, _edge = topk_edge(scores, k, tiebreak, exclude)
    return items, values


def topk_edge(scores: np.ndarray, k: int, tiebreak: np.ndarray, exclude: sp.csr_matrix | None = None):
    """:func:`topk`, and per row whether it was settled by its top ``k`` alone: then every
    item not returned scores below all returned ones (no tie at the edge)."""
    n, n_items = scores.shape
    k = min(k, n_items)
    if k <= 0:
        return np.zeros((n, 0), dtype=np.int64), np.zeros((n, 0)), np.zeros(n, dtype=bool)
    masked = scores
    if exclude is not None and exclude.nnz:
        ex = exclude.tocoo()
        masked = scores.copy()
        masked[ex.row, ex.col] = -np.inf
    inside, fast = _edge(masked, k)
    items = np.empty((n, k), dtype=np.int64)
    if fast.any():
        items[fast] = _settle(masked, inside, np.flatnonzero(fast), k, tiebreak)
    if not fast.all():
        items[~fast] = _topk_float64(masked[~fast], k, tiebreak)
    return items, np.take_along_axis(scores, np.maximum(items, 0), axis=1).astype(np.float64), fast


def topk_among(values: np.ndarray, columns: np.ndarray, k: int, tiebreak: np.ndarray, below: np.ndarray):
    """:func:`topk` of rows known only at some items: ``columns`` (ascending per row; padding
    scored -inf) and their ``values``; every other item of row ``i`` scores at most
    ``below[i]``. Returns (items, settled): a row is settled, with the very list ``topk``
    gives for the full row, when its top ``k`` stand clear of ``below`` and of each other
    at the edge; the rest (items -1) are for the caller to rank in full."""
    n = len(values)
    items = np.full((n, k), -1, dtype=np.int64)
    if values.shape[1] < k:
        return items, np.zeros(n, dtype=bool)
    inside, fast = _edge(values, k, below)
    if fast.any():
        items[fast] = _settle(values, inside, np.flatnonzero(fast), k, tiebreak, columns)
    return items, fast


def _edge(masked: np.ndarray, k: int, below: np.ndarray | None = None):
    """(items that may be in the top ``k``, rows where exactly ``k`` are and, given
    ``below``, every unlisted item is under them)."""
    n_items = masked.shape[1]
    # The k-th largest: partitioned ascending at n_items - k (no negated copy of the scores).
    kth = np.partition(masked, n_items - k, axis=1)[:, n_items - k]
    # Rounded to the scores' precision either way: down only adds candidates (then more than k).
    floor = (kth.astype(np.float64) - TIE_EPS).astype(masked.dtype)
    inside = masked >= floor[:, None]
    fast = (np.count_nonzero(inside, axis=1) == k) & np.isfinite(kth)
    if below is not None:
        fast &= below < floor
    return inside, fast


def _settle(masked: np.ndarray, inside: np.ndarray, at: np.ndarray, k: int, tiebreak: np.ndarray,
            columns: np.ndarray | None = None) -> np.ndarray:
    """The top ``k`` of rows ``at``, each with exactly ``k`` items inside, best first."""
    # Flat positions, then columns: numpy's 2-D nonzero is several times slower.
    cand = (np.flatnonzero(inside if len(at) == len(masked) else inside[at]) % masked.shape[1]).reshape(-1, k)
    items = cand if columns is None else columns[at[:, None], cand]
    v = masked[at[:, None], cand].astype(np.float64) + TIE_EPS * tiebreak[items]
    return np.take_along_axis(items, np.argsort(-v, axis=1, kind="stable"), axis=1)


def _topk_float64(masked: np.ndarray, k: int, tiebreak: np.ndarray) -> np.ndarray:
    """Top ``k`` items per row by ``score + TIE_EPS * tiebreak`` in float64 (-inf: excluded; -1 pads)."""
    s = masked.astype(np.float64)
    s += TIE_EPS * tiebreak[None, :]
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    ps = np.take_along_axis(s, part, axis=1)
    order = np.argsort(-ps, axis=1, kind="stable")
    items = np.take_along_axis(part, order, axis=1)
    items[~np.isfinite(np.take_along_axis(ps, order, axis=1))] = -1
    return items


class Ranker:
    """Base class: subclasses set ``kind`` and implement ``_fit``, ``score``, ``state``/``_load``."""

    kind = "base"
    defaults: dict = {}
    #: False for rankers that give everyone the same list (popularity).
    personal = True

    def __init__(self, **params):
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ValueError(f"{self.kind}: unknown parameter(s) {sorted(unknown)}")
        self.params = {**self.defaults, **params}
        self.tiebreak: np.ndarray | None = None
        self.n_items = 0

    # -- training -------------------------------------------------------
    def fit(self, data) -> "Ranker":
        self.n_items = data.n_items
        pop = np.asarray(data.P.sum(axis=0)).ravel() + 1e-3 * np.asarray(data.X.sum(axis=0)).ravel()
        self.tiebreak = pop / pop.max() if pop.max() > 0 else pop
        self._fit(data)
        return self

    def _fit(self, data) -> None:
        raise NotImplementedError

    def refresh(self, data) -> "Ranker":
        """Keep what was learned about items, take the people's side from ``data`` (the same
        item index, more interactions): a refit's model is measured on a holdout with its item
        weights fitted without it, then serves everyone's full history through those same
        weights, as serving does with fresh events. Rankers that learn nothing about items
        (repeat, popularity) are simply fitted on ``data``."""
        if getattr(self, "_refreshed_on", None) is data:  # a blend's child shared with another list
            return self
        self.n_items = data.n_items
        pop = np.asarray(data.P.sum(axis=0)).ravel() + 1e-3 * np.asarray(data.X.sum(axis=0)).ravel()
        self.tiebreak = pop / pop.max() if pop.max() > 0 else pop
        self._refresh(data)
        self._refreshed_on = data
        return self

    def _refresh(self, data) -> None:
        self._fit(data)

    # -- scoring --------------------------------------------------------
    def score(self, users) -> np.ndarray:
        raise NotImplementedError

    def recommend(self, users, k: int, exclude: sp.csr_matrix | None = None, batch: int = 512):
        """(items, scores), each len(users) x min(k, n_items); ``exclude`` rows align with ``users``."""
        users = np.asarray(users, dtype=np.int64)
        out_i, out_s = [], []
        for start in range(0, len(users), batch):
            sl = slice(start, start + batch)
            ex = exclude[sl] if exclude is not None else None
            i, s = topk(self.score(users[sl]), k, self.tiebreak, ex)
            unknown = users[sl] < 0
            if self.personal and unknown.any():  # the fallback's score is the (normalised) popularity
                s[unknown] = self.tiebreak[np.maximum(i[unknown], 0)]
            out_i.append(i)
            out_s.append(s)
        if not out_i:
            kk = min(k, self.n_items)
            return np.zeros((0, kk), dtype=np.int64), np.zeros((0, kk))
        return np.vstack(out_i), np.vstack(out_s)

    # -- persistence ----------------------------------------------------
    def state(self) -> dict:
        """Arrays (numpy or scipy.sparse) needed to score after loading."""
        return {}

    def _load(self, arrays: dict) -> None:
        pass

    @classmethod
    def load(cls, params: dict, arrays: dict) -> "Ranker":
        r = cls(**params)
        r.tiebreak = np.asarray(arrays["tiebreak"])
        r.n_items = len(r.tiebreak)
        r._load(arrays)
        return r

    def describe(self) -> str:
        p = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.kind}({p})"


def make(kind: str, **params) -> Ranker:
    return REGISTRY[kind](**params)
