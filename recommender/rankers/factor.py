"""Matrix factorisation with ``implicit``: ALS (default) and BPR.

BLAS threads are limited to 1 around fits: implicit parallelises itself, and
a multithreaded BLAS underneath it oversubscribes the cores (implicit warns
about exactly this). The CPU classes are used directly so a GPU build of
implicit cannot change results between machines.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from recommender.rankers.base import Ranker, profile, register


def _fit_implicit(make_model, user_items):
    # The model is also constructed under the limit: implicit checks the BLAS
    # configuration (and warns) in its constructor.
    with threadpool_limits(limits=1, user_api="blas"):
        model = make_model()
        model.fit(user_items, show_progress=False)
    return model


class _Factors(Ranker):
    def score(self, users) -> np.ndarray:
        users = np.asarray(users)
        U = self.U[np.maximum(users, 0)]
        s = U @ self.V.T
        s[users < 0] = 0.0
        return s

    def state(self) -> dict:
        return {"U": self.U, "V": self.V}

    def _load(self, arrays) -> None:
        self.U, self.V = np.asarray(arrays["U"]), np.asarray(arrays["V"])


@register
class ALS(_Factors):
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) on a transformed interaction matrix."""

    kind = "als"
    # implicit's own defaults, so ``ALS()`` is the "library defaults" baseline.
    defaults = {"factors": 100, "regularization": 0.01, "alpha": 1.0, "iterations": 15,
                "transform": "binary", "seed": 0}

    def fit_from(self, data, item_factors: np.ndarray, iterations: int) -> "ALS":
        """Fit starting from ``item_factors`` (e.g. an earlier model's, rows aligned with
        ``data``'s items) for ``iterations`` rather than ``params["iterations"]`` from random."""
        self._start = (np.ascontiguousarray(item_factors, dtype=np.float32), int(iterations))
        try:
            return self.fit(data)
        finally:
            del self._start

    def _fit(self, data) -> None:
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        start, iterations = getattr(self, "_start", (None, p["iterations"]))

        def model():
            m = AlternatingLeastSquares(factors=p["factors"], regularization=p["regularization"], alpha=p["alpha"],
                                        iterations=iterations, random_state=p["seed"])
            m.item_factors = start  # None: implicit starts from random factors
            return m

        m = _fit_implicit(model, profile(data, p["transform"]))
        self.U = np.asarray(m.user_factors, dtype=np.float32)
        self.V = np.asarray(m.item_factors, dtype=np.float32)

    def _refresh(self, data) -> None:
        """Every person's factors solved afresh against the item factors (one half-step of ALS)."""
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        with threadpool_limits(limits=1, user_api="blas"):
            m = AlternatingLeastSquares(factors=p["factors"], regularization=p["regularization"], alpha=p["alpha"])
            m.item_factors = self.V
            self.U = np.asarray(m.recalculate_user(np.arange(data.n_users), profile(data, p["transform"])),
                                dtype=np.float32)


@register
class BPR(_Factors):
    """Bayesian personalised ranking (Rendle et al. 2009): an option, not in the default search."""

    kind = "bpr"
    defaults = {"factors": 100, "learning_rate": 0.01, "regularization": 0.01, "iterations": 100,
                "transform": "binary", "seed": 0}

    def _fit(self, data) -> None:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        p = self.params
        m = _fit_implicit(lambda: BayesianPersonalizedRanking(
            factors=p["factors"], learning_rate=p["learning_rate"], regularization=p["regularization"],
            iterations=p["iterations"], random_state=p["seed"]), profile(data, p["transform"]))
        # implicit's BPR appends a bias column to both factor matrices; the
        # product of the full matrices is its score.
        self.U = np.asarray(m.user_factors, dtype=np.float32)
        self.V = np.asarray(m.item_factors, dtype=np.float32)
