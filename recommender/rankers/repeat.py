"""Repeat purchase ("buy again"): the user's own purchases, frequency with recency decay.

For stores where people rebuy, a user's own history is the strongest single
predictor of the next basket. With ``half_life_days=None`` this is the plain
"purchase history ranked by frequency" baseline; with a half-life, recent
purchases count more, which tracks changing habits.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recommender.data import purchase_matrix
from recommender.rankers.base import Ranker, register, rows


@register
class Repeat(Ranker):
    kind = "repeat"
    # ``recency`` adds a bonus for how recently the item was last bought
    # (halving every ``half_life_days``), on top of the decayed frequency.
    defaults = {"half_life_days": None, "recency": 0.0}

    def _fit(self, data) -> None:
        hl = self.params["half_life_days"]
        if not data.inter.is_purchase.any():
            R = data.X.copy()
        elif not hl:  # undecayed counts per basket: the data's purchase matrix already is that
            R = data.P.copy()
        else:
            R = purchase_matrix(data.inter, data.now, hl)
        if self.params["recency"] and data.inter.is_purchase.any():
            # Recency bonus: a decayed count with a one-week half-life.
            R = R + self.params["recency"] * purchase_matrix(data.inter, data.now, 7.0)
        self.R = sp.csr_matrix(R, dtype=np.float32)

    def score(self, users) -> np.ndarray:
        return rows(self.R, users).toarray()

    def score_sparse(self, users) -> sp.csr_matrix:
        """:meth:`score` before it is made dense: a person's few purchases, not every item."""
        return rows(self.R, users)

    def state(self) -> dict:
        return {"R": self.R}

    def _load(self, arrays) -> None:
        self.R = arrays["R"].tocsr()
