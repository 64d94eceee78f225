"""Blend of "buy again" and discovery: the default "for you" ranking.

score = w * repeat / max(repeat) + (1 - w) * discovery / max(discovery), per
user. Normalising per user puts both on [0, 1] whatever their native scales.
``w = 1`` means "repeat first, discovery only to fill the list" (a tiny
discovery weight breaks ties among items the user never bought); ``w = 0``
is pure discovery. The pipeline tunes ``w`` on validation, so the blend
leans on repeat exactly as much as the data supports.

The same blend mixes content similarity into discovery for the "new items"
list (the content ranker in the first, ``repeat``, place; the key names are
kept so that every stored model and serving configuration still loads).
"""

from __future__ import annotations

import numpy as np

from recommender.rankers.base import REGISTRY, Ranker, normalise_rows, normalise_sparse_rows, register

FILL = 1e-4


def spec(r: Ranker) -> dict:
    return {"kind": r.kind, "params": r.params}


@register
class Blend(Ranker):
    kind = "blend"
    defaults = {"w": 0.8, "repeat": {"kind": "repeat", "params": {}},
                "discovery": {"kind": "ease", "params": {}}}

    @classmethod
    def of(cls, repeat: Ranker, discovery: Ranker, w: float) -> "Blend":
        """A blend of already fitted children (tuning reuses fits across weights)."""
        b = cls(w=float(w), repeat=spec(repeat), discovery=spec(discovery))
        b.repeat, b.discovery = repeat, discovery
        b.tiebreak, b.n_items = repeat.tiebreak, repeat.n_items
        return b

    def _fit(self, data) -> None:
        self.repeat = REGISTRY[self.params["repeat"]["kind"]](**self.params["repeat"]["params"]).fit(data)
        self.discovery = REGISTRY[self.params["discovery"]["kind"]](**self.params["discovery"]["params"]).fit(data)

    def _refresh(self, data) -> None:
        self.repeat.refresh(data)
        self.discovery.refresh(data)

    def score(self, users, discovery_scores: np.ndarray | None = None) -> np.ndarray:
        """``discovery_scores``: the discovery child's scores for ``users`` if already computed."""
        w = float(self.params["w"])
        # The children's fresh score arrays are normalised and combined in place (publishing
        # scores every customer: a users x items array fewer per step); the same values as
        # ``w * r + (1 - w) * d``.
        if discovery_scores is None:
            d = normalise_rows(self.discovery.score(users), in_place=True)
        else:  # shared with the caller: normalised into a new array
            d = normalise_rows(discovery_scores)
        sparse = getattr(self.repeat, "score_sparse", None)
        if sparse is not None:  # "buy again" scores few items per person: added where they are
            r = normalise_sparse_rows(sparse(users))
            d *= FILL if w >= 1.0 else 1.0 - w
            if w < 1.0:
                r.data *= w
            d[r.row, r.col] += r.data
            return d
        r = normalise_rows(self.repeat.score(users), in_place=True)
        if w >= 1.0:
            d *= FILL
            d += r
            return d
        r *= w
        d *= 1.0 - w
        r += d
        return r

    def state(self) -> dict:
        out = {}
        for name in ("repeat", "discovery"):
            child = getattr(self, name)
            out.update({f"{name}.{k}": v for k, v in child.state().items()})
        return out

    def _load(self, arrays) -> None:
        for name in ("repeat", "discovery"):
            sub = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(name + ".")}
            sub["tiebreak"] = arrays["tiebreak"]
            s = self.params[name]
            setattr(self, name, REGISTRY[s["kind"]].load(s["params"], sub))

    def describe(self) -> str:
        return f"blend(w={self.params['w']}, {self.repeat.describe()}, {self.discovery.describe()})"
