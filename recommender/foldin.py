"""Personal recommendations for people the model has not seen (or not seen lately), from
factors recalculated on the fly — no retraining.

ALS learns item factors ``Y`` and, per person, the factors that best explain their row of
the interaction matrix given ``Y``. With ``Y`` fixed that is one small least-squares solve
(Hu, Koren & Volinsky 2008, eq. 4; what ``implicit``'s ``recalculate_user`` does)::

    x_u = (YᵀY + λI + Σ_i (c_ui − 1) y_i y_iᵀ)⁻¹ Σ_i c_ui y_i,   c_ui = α r_ui

over the few items ``i`` the person touched, so a customer who registered this morning,
or one whose latest views are newer than the model, gets a personal list from their own
events; every item is then scored with one matrix–vector product.

Training saves the item factors of the pipeline's ALS (``artifact``), publishing puts them
in Redis under the version as raw float32 bytes (:func:`publish_factors`), and each serving
process keeps them, with ``YᵀY``, for the serving version (:func:`state_of`).
"""

from __future__ import annotations

import calendar
import json
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from threadpoolctl import ThreadpoolController

from recommender.config import DEFAULT_EVENT_WEIGHTS
from recommender.defaults import setting
from recommender.publish import client, key
from recommender.rankers.blend import FILL


def fold_in(Y: np.ndarray, YtY: np.ndarray, items: np.ndarray, values: np.ndarray,
            regularization: float, alpha: float = 1.0) -> np.ndarray:
    """One person's factors given item factors ``Y`` (items x f), ``YtY = YᵀY``, the items
    they interacted with and their (transformed) interaction values: the closed-form ALS
    solve, the same as ``implicit``'s ``recalculate_user`` for that row."""
    c = alpha * np.asarray(values, dtype=np.float64)
    Yi = np.asarray(Y[items], dtype=np.float64)
    A = YtY + regularization * np.eye(Y.shape[1]) + (Yi.T * (np.abs(c) - 1.0)) @ Yi
    b = Yi.T @ np.where(c > 0, c, 0.0)
    return np.linalg.solve(A, b)


def transformed(weights: np.ndarray, transform: str) -> np.ndarray:
    """Summed event weights as the ALS saw its training rows (``rankers.base.profile``):
    floored at 0 like the interaction matrix, then binary or log."""
    w = np.maximum(np.asarray(weights, dtype=np.float64), 0.0)
    if transform == "log":
        return np.log1p(w)
    return (w > 0).astype(np.float64)


def _repeat_weight(spec: dict | None) -> float:
    """How much the "for you" ranking leans on the person's own purchases: the blend's
    ``w``; 1 for pure "buy again"; 0 for a discovery model."""
    spec = spec or {}
    if spec.get("kind") == "blend":
        return float(spec["params"]["w"])
    return 1.0 if spec.get("kind") == "repeat" else 0.0


def publish_factors(r, version: int, model) -> None:
    """What serving needs to fold people in and to tell fresh activity from trained: item
    factors (bytes), their item ids and ALS parameters, the event weights and when the
    training data ends."""
    until = model.meta.get("trained_until")
    meta = {
        "trained_until": calendar.timegm(time.strptime(until, "%Y-%m-%dT%H:%M:%SZ")) if until else 0,
        "event_weights": (model.meta.get("config") or {}).get("event_weights") or DEFAULT_EVENT_WEIGHTS,
        "repeat_weight": _repeat_weight((model.meta.get("rankers") or {}).get("for_you")),
        "factors": None,
    }
    V = model.item_factors
    if V is not None and (model.meta.get("factors") or {}).get("kind") == "als":
        V = np.ascontiguousarray(V, dtype=np.float32)
        params = model.meta["factors"]["params"]
        meta["factors"] = {"shape": list(V.shape), "regularization": float(params["regularization"]),
                           "alpha": float(params["alpha"]), "transform": params.get("transform", "binary"),
                           "items": [str(i) for i in model.item_ids]}
        r.set(key(version, "factors"), V.tobytes())
    r.set(key(version, "factors:meta"), json.dumps(meta))


@dataclass
class VersionState:
    """One version's fold-in data, per process."""

    trained_until: float
    event_weights: dict
    repeat_weight: float
    Y: np.ndarray | None = None
    YtY: np.ndarray | None = None
    item_ids: np.ndarray | None = None
    index: dict | None = None
    regularization: float = 0.0
    alpha: float = 1.0
    transform: str = "binary"

    def scores(self, weights: dict[str, float]) -> np.ndarray | None:
        """Every item's score for a person with these summed event weights (None when
        there are no factors or none of their items is known to the model)."""
        if self.Y is None:
            return None
        pairs = [(self.index[item], w) for item, w in weights.items() if item in self.index]
        if not pairs:
            return None
        items, values = np.array([p[0] for p in pairs]), transformed([p[1] for p in pairs], self.transform)
        items, values = items[values > 0], values[values > 0]  # as the training matrix: no zeros stored
        if not len(values):
            return None
        with _one_blas_thread():
            x = fold_in(self.Y, self.YtY, items, values, self.regularization, self.alpha).astype(np.float32)
            return self.Y @ x

    def recommend(self, weights: dict[str, float], bought: set[str], *, discover: bool, n: int) -> list[str]:
        """Item ids, best first: "discover" leaves out what they bought; "for you" blends
        their purchases with discovery as the trained "for you" ranking does."""
        s = self.scores(weights)
        if s is None:
            return []
        bought_idx = np.array([self.index[i] for i in bought if i in self.index], dtype=np.int64)
        if discover:
            s[bought_idx] = -np.inf
        elif self.repeat_weight > 0 and len(bought_idx):
            d = np.maximum(s, 0.0)
            d /= d.max() if d.max() > 0 else 1.0
            w = self.repeat_weight
            s = (FILL if w >= 1.0 else 1.0 - w) * d
            s[bought_idx] += 1.0 if w >= 1.0 else w
        n = min(n, len(s))
        top = np.argpartition(-s, n - 1)[:n]
        top = top[np.argsort(-s[top], kind="stable")]
        return [self.item_ids[i] for i in top if np.isfinite(s[i])]


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def _one_blas_thread():
    """A solve this small is fastest on one thread; a multithreaded BLAS woken per request
    waits for cores the web server (or a training in the same process, whose OpenMP threads
    spin for a while after a fit) is using: p50 0.1 ms became 50-100 ms in the bench."""
    return _blas().limit(limits=1, user_api="blas")


_states: dict[tuple[str, int], VersionState | None] = {}
_states_lock = threading.Lock()


def state_of(version: int) -> VersionState | None:
    """The version's fold-in data, read from Redis once per process (None if the version was
    published without it). Versions never change once published, so nothing expires; only
    the last two are kept."""
    cache_key = (key(version, ""), version)  # the prefix is part of it (tests, benches)
    if cache_key in _states:
        return _states[cache_key]
    r = client(decode=False)
    raw = r.get(key(version, "factors:meta"))
    state = None
    if raw is not None:
        meta = json.loads(raw)
        state = VersionState(float(meta["trained_until"]), meta["event_weights"], float(meta["repeat_weight"]))
        factors = meta.get("factors")
        blob = r.get(key(version, "factors")) if factors else None
        if blob is not None:
            Y = np.frombuffer(blob, dtype=np.float32).reshape(factors["shape"])
            state.Y, state.YtY = Y, (Y.T.astype(np.float64) @ Y.astype(np.float64))
            state.item_ids = np.asarray(factors["items"], dtype=object)
            state.index = {item: i for i, item in enumerate(factors["items"])}
            state.regularization, state.alpha = factors["regularization"], factors["alpha"]
            state.transform = factors["transform"]
    with _states_lock:
        while len(_states) >= 2:
            _states.pop(next(iter(_states)))
        _states[cache_key] = state
    return state


def personal_items(r, version: int, name: str, person: str, recent) -> tuple[list[str], str]:
    """The person's "for you" or "discover" list and its source: the published one while
    the model knows them and nothing they did since; otherwise, for a customer (a user id
    or ``email:…``) who did something the model can place, one from their factors
    recalculated now (source ``fresh``) from what they bought up to training (published)
    plus their recent activity. An anonymous visitor's browsing is better served by
    their session's neighbours, which can say why (``recommender.recent``)."""
    state = state_of(version) if recent.weights and not person.startswith("anon:") else None
    if state is None or state.Y is None:
        published, bought = r.hget(key(version, name), person), ""
    else:  # both in one round trip
        pipe = r.pipeline(transaction=False)
        pipe.hget(key(version, name), person)
        pipe.hget(key(version, "bought"), person)
        published, bought = pipe.execute()
    if state is not None and state.Y is not None and (not published or recent.latest > state.trained_until):
        bought = {item for item in (bought or "").split(",") if item}
        weights = dict(recent.weights)
        purchase = float(state.event_weights.get("purchase", 0.0))
        for item in bought:
            weights[item] = weights.get(item, 0.0) + purchase
        items = state.recommend(weights, bought | recent.purchased, discover=name == "discover",
                                n=setting("RECOMMENDER_PUBLISH_TOP_N"))
        if items:
            return items, "fresh"
    return [item for item in (published or "").split(",") if item], name
