"""Item-based models: item-kNN (cosine) and EASE (Steck 2019).

Both score a user as their interaction row times an item x item matrix, so a
user's newest purchases take effect at serving time without retraining (the
shop only needs to pass the current row). On next-basket data both usually
beat factor models for discovery.
"""

from __future__ import annotations

import os
import time

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recommender.rankers.base import Ranker, profile, register, rows


def cosine_topk(X: sp.csr_matrix, neighbours: int | None, shrink: float = 0.0, cells: int = 1 << 22) -> sp.csr_matrix:
    """Items x items cosine similarity between the columns of ``X``, top ``neighbours`` per row.

    Computed in row blocks of about ``cells`` similarities (16 MB of float32), so memory
    stays flat however large the catalogue: 4,096 rows at a time for 1,000 items, 84 for
    50,000.
    """
    Xc = sp.csc_matrix(X, dtype=np.float32)
    norms = np.sqrt(np.asarray(Xc.multiply(Xc).sum(axis=0)).ravel())
    inv = np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
    Xn = sp.csr_matrix(Xc @ sp.diags(inv))
    XT = sp.csr_matrix(Xn.T)
    n = X.shape[1]
    keep = n - 1 if not neighbours else min(neighbours, n - 1)
    if keep <= 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    block = max(16, cells // max(n, 1))
    if shrink:
        B = sp.csr_matrix((Xc > 0).astype(np.float32))
        BT = sp.csr_matrix(B.T)
    data, idx, counts = [], [], []
    for start in range(0, n, block):
        stop = min(start + block, n)
        S = (XT[start:stop] @ Xn).toarray()
        if shrink:
            # Shrink similarities built on few co-occurrences towards zero.
            co = (BT[start:stop] @ B).toarray()
            S *= co / (co + shrink)
        S[np.arange(stop - start), np.arange(start, stop)] = 0.0
        part = np.argpartition(-S, keep - 1, axis=1)[:, :keep]
        vals = np.take_along_axis(S, part, axis=1)
        nz = vals > 0
        data.append(vals[nz])
        idx.append(part[nz])
        counts.append(nz.sum(axis=1))
    ptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))])
    return sp.csr_matrix((np.concatenate(data), np.concatenate(idx), ptr), shape=(n, n))


@register
class ItemKNN(Ranker):
    """score(u, j) = sum over the user's items i of sim(i, j), sim = top-k cosine."""

    kind = "itemknn"
    defaults = {"neighbours": 100, "shrink": 0.0, "transform": "binary"}

    def _fit(self, data) -> None:
        self.X = profile(data, self.params["transform"])
        self.S = cosine_topk(self.X, self.params["neighbours"], self.params["shrink"])

    def _refresh(self, data) -> None:
        self.X = profile(data, self.params["transform"])  # the similarities S stay

    def score(self, users) -> np.ndarray:
        return (rows(self.X, users) @ self.S).toarray()

    def state(self) -> dict:
        return {"X": self.X, "S": self.S}

    def _load(self, arrays) -> None:
        self.X, self.S = arrays["X"].tocsr(), arrays["S"].tocsr()


def spd_inverse(G: np.ndarray, block: int = 512) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix, in place (``G`` is consumed), in
    ``G``'s precision (float32 or float64).

    Cholesky (LAPACK ``potrf`` + ``potri``) takes half the arithmetic of the LU-based
    ``np.linalg.inv`` and, working on ``G``'s own buffer, no second n x n matrix. The
    result is symmetric, so it is returned in ``G``'s own (row-major) order: no copy.
    """
    from scipy.linalg import lapack

    single = G.dtype == np.float32
    potrf, potri = (lapack.spotrf, lapack.spotri) if single else (lapack.dpotrf, lapack.dpotri)
    F = G.T  # G is symmetric: its transpose is the same matrix, Fortran-ordered, for LAPACK
    c, info = potrf(F, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix not positive definite (potrf info {info})")
    P, info = potri(c, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"matrix is singular (potri info {info})")
    n = len(P)
    for start in range(0, n, block):  # potri fills the upper triangle: mirror it
        stop = min(start + block, n)
        P[stop:, start:stop] = P[start:stop, stop:].T
        tile = P[start:stop, start:stop]
        P[start:stop, start:stop] = np.triu(tile) + np.triu(tile, 1).T
    return P.T  # symmetric: the transpose of LAPACK's Fortran-ordered buffer is row-major


def blas_threads() -> int:
    """Every core for the Cholesky when the machine has them to spare, else one: OpenBLAS's
    threads wait for each other by spinning, and on cores other work keeps busy that made
    the 5,000-item inverse 4x slower than one thread (16 s against 4 s, 0.7 s when idle).

    "To spare" is what other processes use right now (:func:`others_busy`), not the load
    average: that counts this process's own last minute, so right after a search (or any
    minute of training) it said "busy" on an idle machine, and the inverse ran on one core."""
    cores = os.cpu_count() or 1
    others = others_busy()
    if others is None:  # no /proc: the load average, which includes this process
        try:
            return cores if os.getloadavg()[0] < cores - 0.5 else 1
        except OSError:  # no load average on this platform
            return cores
    return cores if others < cores - 1.5 else 1


#: Seconds a look at the other processes' CPU use is trusted (training asks a few times).
BUSY_TRUSTED = 5.0
_busy_seen: list = []  # [(when, cores busy)]


def others_busy(window: float = 0.05) -> float | None:
    """Cores other processes kept busy over the last ``window`` seconds (the machine's busy
    time from /proc/stat less this process's own CPU time), remembered ``BUSY_TRUSTED``
    seconds; None where there is no /proc/stat."""
    now = time.monotonic()
    if _busy_seen and now - _busy_seen[0][0] < BUSY_TRUSTED:
        return _busy_seen[0][1]

    def sample() -> tuple[float, float, float]:
        with open("/proc/stat", encoding="ascii") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:9]]
        idle = ticks[3] + ticks[4]  # idle, iowait
        return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), time.process_time(), time.monotonic()

    try:
        busy0, own0, at0 = sample()
        time.sleep(window)
        busy1, own1, at1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    busy = min(max(0.0, (busy1 - busy0) - (own1 - own0)) / max(at1 - at0, 1e-3), float(os.cpu_count() or 1))
    _busy_seen[:] = [(time.monotonic(), busy)]
    return busy


def ease_weights(X: sp.csr_matrix, lam: float) -> np.ndarray:
    """Closed-form EASE: B = I - P diagMat(1/diag(P)), P = (X^T X + lam I)^-1, diag(B) = 0.

    In float32, which the weights are kept in anyway: the Gram matrix holds co-occurrence
    counts (exact in float32), ``lam`` keeps it well conditioned, and single precision
    halves the Cholesky's time (5,000 items: 0.7 s instead of 1.4 s on two cores). The
    result is row-major, as scoring (sparse rows times the weights) wants it.
    """
    G = (X.T @ X).toarray().astype(np.float32, copy=False)
    G[np.diag_indices_from(G)] += lam
    with threadpool_limits(limits=blas_threads(), user_api="blas"):
        P = spd_inverse(G)
    P /= -np.diag(P).copy()[None, :]
    P[np.diag_indices_from(P)] = 0.0
    return P


@register
class EASE(Ranker):
    """Embarrassingly shallow autoencoder on the ``max_items`` most frequent items.

    Inverting an items x items matrix is cubic, so big catalogues are capped;
    items outside the cap score 0 and are ranked by the popularity tie-break.
    """

    kind = "ease"
    defaults = {"lam": 500.0, "max_items": 5000, "transform": "binary"}

    def _fit(self, data) -> None:
        X = profile(data, self.params["transform"])
        freq = np.asarray((X > 0).sum(axis=0)).ravel()
        n = min(int(self.params["max_items"]), data.n_items)
        cols = np.sort(np.argsort(-freq, kind="stable")[:n])
        self.cols = cols.astype(np.int64)
        self.X = sp.csr_matrix(X[:, self.cols])
        self.B = ease_weights(self.X, float(self.params["lam"]))

    def _refresh(self, data) -> None:
        self.X = sp.csr_matrix(profile(data, self.params["transform"])[:, self.cols])  # the weights B stay

    def score(self, users) -> np.ndarray:
        s = rows(self.X, users) @ self.B
        if len(self.cols) == self.n_items:  # every item kept (cols is sorted): no scatter
            return s
        out = np.zeros((len(users), self.n_items), dtype=np.float32)
        out[:, self.cols] = s
        return out

    def state(self) -> dict:
        return {"X": self.X, "B": self.B, "cols": self.cols}

    def _load(self, arrays) -> None:
        self.X, self.B, self.cols = arrays["X"].tocsr(), np.asarray(arrays["B"]), np.asarray(arrays["cols"])
