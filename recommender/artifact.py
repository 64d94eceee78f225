"""Save and load a trained model directory: JSON plus npz, no pickle.

Layout of ``DIR``::

    model.json        format, version, config, chosen parameters, validation
                      metrics, rankers (kind + params), user and item id maps,
                      item categories
    <ranker>.npz      arrays of each ranker (for_you, discover, popular, trending, buy_again);
                      a ranker that is another's blend child (usually "discover" and
                      "buy_again" are the "for you" blend's) has no file of its own:
                      ``stored_in`` in model.json names the file and key prefix
    seen.npz          users x items "already bought" (for --exclude-seen)
    lists.npz         item-to-item lists (bought_together, similar_viewed, similar_factors,
                      and content when item features were given)
    factors.npz       item factors of the ALS that people unknown to the model are folded
                      into at serving time (optional: older directories have none)

Sparse matrices are stored as their CSR parts (``name@data``, ``name@indices``,
``name@indptr``, ``name@shape``) so loading uses ``allow_pickle=False``. The npz
files are not compressed: zlib on an EASE weight matrix (items x items floats,
which hardly compress) took longer than training it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.errors import InputError
from recommender.rankers import REGISTRY

FORMAT = "oscar-ecrm-recommender"
VERSION = 1


def _pack(arrays: dict) -> dict:
    out = {}
    for name, a in arrays.items():
        if sp.issparse(a):
            a = sp.csr_matrix(a)
            out[f"{name}@data"], out[f"{name}@indices"] = a.data, a.indices
            out[f"{name}@indptr"], out[f"{name}@shape"] = a.indptr, np.array(a.shape)
        else:
            out[name] = np.asarray(a)
    return out


def _unpack(npz) -> dict:
    out, parts = {}, {}
    for key in npz.files:
        if "@" in key:
            name, part = key.rsplit("@", 1)
            parts.setdefault(name, {})[part] = npz[key]
        else:
            out[key] = npz[key]
    for name, p in parts.items():
        out[name] = sp.csr_matrix((p["data"], p["indices"], p["indptr"]), shape=tuple(p["shape"]))
    return out


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def save(pipe, out_dir: str | Path) -> Path:
    return save_and_open(pipe, out_dir)[0]


def save_and_open(pipe, out_dir: str | Path) -> tuple[Path, "LoadedModel"]:
    """Write the model directory and return it with the model as :func:`load` would read it
    back, built from the fitted objects in memory (publishing right after training needs
    no second read of a few hundred MB)."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    data = pipe.data
    rankers, stored = {}, {}
    for name, r in pipe.rankers.items():
        rankers[name] = {"kind": r.kind, "params": r.params, "description": r.describe()}
        if id(r) in stored:  # e.g. "discover" is the "for you" blend's discovery: its arrays once
            rankers[name]["stored_in"] = stored[id(r)]
            continue
        np.savez(d / f"{name}.npz", **_pack({**r.state(), "tiebreak": r.tiebreak}))
        stored[id(r)] = [name, ""]
        for child in ("repeat", "discovery"):
            if r.kind == "blend":
                stored.setdefault(id(getattr(r, child)), [name, f"{child}."])
    np.savez(d / "seen.npz", **_pack({"seen": data.seen}))
    np.savez(d / "lists.npz", **_pack(pipe.lists))
    factors = getattr(pipe, "factors", None)
    if factors is not None:
        np.savez(d / "factors.npz", V=factors.V)
    cats = data.inter.item_category
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "trained_until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(data.now)),
        "n_users": data.n_users,
        "n_items": data.n_items,
        "n_interactions": len(data.inter),
        "config": pipe.config,
        "chosen": pipe.tuning.get("chosen"),
        "tuning": {k: v for k, v in pipe.tuning.items() if k != "chosen"},
        "rankers": rankers,
        "lists": sorted(pipe.lists),
        "factors": {"kind": factors.kind, "params": factors.params} if factors is not None else None,
        "user_ids": list(data.inter.user_ids),
        "item_ids": list(data.inter.item_ids),
        "item_category": list(cats) if cats is not None else None,
    }
    text = json.dumps(_jsonable(meta), indent=1)
    (d / "model.json").write_text(text, encoding="utf-8")
    model = LoadedModel(json.loads(text), dict(pipe.rankers), data.seen, dict(pipe.lists),
                        factors.V if factors is not None else None)
    return d, model


def refit_inputs(model_dir: str | Path) -> dict:
    """What a refit needs from an earlier model directory: its chosen configurations, the
    record of the search that chose them, and its ALS item factors (the warm start)."""
    d = Path(model_dir)
    meta = load_meta(d)
    if not meta.get("chosen"):
        raise InputError(f"{d / 'model.json'} records no chosen configurations to refit")
    factors = None
    if meta.get("factors") and (d / "factors.npz").is_file():
        with np.load(d / "factors.npz", allow_pickle=False) as npz:
            factors = {"item_ids": meta["item_ids"], "V": npz["V"], "kind": meta["factors"]["kind"],
                       "params": meta["factors"]["params"]}
    return {"chosen": meta["chosen"], "factors": factors, "searched": (meta.get("tuning") or {}).get("searched")}


class LoadedModel:
    """What ``recommend`` needs, read back from a model directory."""

    def __init__(self, meta: dict, rankers: dict, seen: sp.csr_matrix, lists: dict,
                 item_factors: np.ndarray | None = None):
        self.meta = meta
        self.item_factors = item_factors  # the fold-in ALS's, with its params in meta["factors"]
        self.rankers = rankers
        self.seen = seen
        self.lists = lists
        self.user_index = {u: i for i, u in enumerate(meta["user_ids"])}
        self.item_ids = np.asarray(meta["item_ids"], dtype=object)
        cats = meta.get("item_category")
        self.item_category = np.asarray(cats, dtype=object) if cats is not None else None

    def user_indices(self, user_ids) -> np.ndarray:
        return np.array([self.user_index.get(str(u), -1) for u in user_ids], dtype=np.int64)

    def recommend(self, users: np.ndarray, k: int, exclude_seen: bool = False):
        from recommender.rankers.base import rows

        ranker = self.rankers["discover" if exclude_seen else "for_you"]
        exclude = rows(self.seen, users) if exclude_seen else None
        return ranker.recommend(users, k, exclude=exclude)

    def popular(self, k: int, category: str | None = None, trending: bool = False) -> np.ndarray:
        """Most popular (or trending) item indices, overall or within one category."""
        pop = self.rankers["trending" if trending else "popular"].pop
        idx = np.arange(len(pop))
        if category:
            if self.item_category is None:
                return idx[:0]
            idx = np.flatnonzero(self.item_category == category)
        return idx[np.argsort(-pop[idx], kind="stable")[:k]]

    def similar(self, item_id: str, k: int, kind: str = "bought_together") -> list[str]:
        """Item-to-item list for one item (empty if unknown or the list was not built)."""
        from recommender.itemitem import neighbours_of

        S = self.lists.get(kind)
        where = np.flatnonzero(self.item_ids == str(item_id))
        if S is None or not len(where):
            return []
        return [self.item_ids[j] for j in neighbours_of(S, int(where[0]), k)]


def load_meta(d: Path) -> dict:
    """``model.json`` of a model directory, checked to be one this code reads."""
    mj = d / "model.json"
    if not d.is_dir() or not mj.is_file():
        raise InputError(f"model directory not found or has no model.json: {d}")
    try:
        meta = json.loads(mj.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{mj} is not valid JSON: {exc}") from None
    if meta.get("format") != FORMAT:
        raise InputError(f"{mj} is not a recommender model")
    if meta.get("version") != VERSION:
        raise InputError(f"{mj} has model version {meta.get('version')}, this code reads {VERSION}: retrain")
    return meta


def load(model_dir: str | Path) -> LoadedModel:
    d = Path(model_dir)
    meta = load_meta(d)
    rankers, files = {}, {}
    for name, info in meta["rankers"].items():
        # A ranker stored once with another (a blend's child) is read from that one's file.
        file, prefix = info.get("stored_in") or (name, "")
        if file not in files:
            with np.load(d / f"{file}.npz", allow_pickle=False) as npz:
                files[file] = _unpack(npz)
        arrays = {k[len(prefix):]: v for k, v in files[file].items() if k.startswith(prefix)}
        arrays.setdefault("tiebreak", files[file]["tiebreak"])
        rankers[name] = REGISTRY[info["kind"]].load(info["params"], arrays)
    with np.load(d / "seen.npz", allow_pickle=False) as npz:
        seen = _unpack(npz)["seen"]
    with np.load(d / "lists.npz", allow_pickle=False) as npz:
        lists = _unpack(npz)
    item_factors = None
    if meta.get("factors") and (d / "factors.npz").is_file():
        with np.load(d / "factors.npz", allow_pickle=False) as npz:
            item_factors = npz["V"]
    return LoadedModel(meta, rankers, seen, lists, item_factors)
