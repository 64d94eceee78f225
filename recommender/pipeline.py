"""The default pipeline: choose models per task on a validation split, then fit on everything.

No hand tuning per dataset: the last basket of each user in the training data
is held out as validation, every candidate (the baselines' own settings
included, so the pipeline cannot lose to a baseline it contains except by
validation noise) is fitted on the rest and scored, and for each task the
best candidate by NDCG@k wins:

* ``next`` (the "for you" list, rebuys allowed): repeat, discovery models,
  and blends of the best repeat model with the best discovery models over a
  grid of blend weights;
* ``new`` (``--exclude-seen``): discovery models only, and, when item
  features are known, blends of the best of them with content similarity
  (chosen only where they measure better than discovery alone).

Candidates run cheapest and most promising first; optional ones stop when
the time budget is spent, and one that would overrun it (as long as the
slowest of its kind took) is skipped for cheaper ones. The chosen values and the validation table are
kept in ``self.tuning`` and end up in ``model.json``.

A *refit* (``Pipeline.fit(..., refit=...)``, what the shop's scheduled retrain does between
full searches, see ``recommender.training``) skips the search: the configurations an earlier
tuning run chose are fitted on all data but a holdout (the last basket of a sample of
customers), measured on it, then serve everyone's full history through the same item
weights (``Ranker.refresh``). The tuning record says which it was (``mode``).
"""

from __future__ import annotations

import json
import time

import numpy as np

from recommender.data import TrainData
from recommender.evaluation import TASKS, recs_both, recs_for, shares_discovery, task_targets
from recommender.itemitem import item_lists
from recommender.metrics import summarise
from recommender.rankers import ALS, REGISTRY, Blend
from recommender.rankers.base import normalise_rows, topk
from recommender.rankers.blend import FILL, spec
from recommender.split import last_basket_split, sampled_holdout

BLEND_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)
#: Weights of content similarity tried in blends with the best "new items" model.
CONTENT_WEIGHTS = (0.05, 0.1, 0.2, 0.35, 0.5)


def _key(s: dict) -> str:
    return json.dumps(s, sort_keys=True)


def candidate_specs(cfg: dict, data: TrainData) -> tuple[list, list]:
    """(essential, optional) candidate specs, each ``{"kind", "params"}``, in run order."""
    cap = cfg["ease_max_items"]
    mixed = bool(not data.inter.is_purchase.all() and data.inter.is_purchase.any())

    def s(kind, **params):
        return {"kind": kind, "params": params}

    essential = [
        s("popularity"), s("repeat"), s("ease", lam=500.0, max_items=cap), s("itemknn", neighbours=100),
        s("repeat", half_life_days=90.0), s("ease", lam=100.0, max_items=cap),
        s("als"),  # library defaults: a baseline the pipeline must contain
    ]
    optional = [
        s("ease", lam=2000.0, max_items=cap), s("repeat", half_life_days=30.0), s("itemknn", neighbours=30),
        s("ease", lam=25.0, max_items=cap), s("popularity", half_life_days=30.0),
        s("als", factors=64, regularization=0.1, alpha=10.0, transform="log", iterations=15),
        s("repeat", half_life_days=365.0), s("itemknn", neighbours=400),
        s("repeat", half_life_days=90.0, recency=1.0), s("ease", lam=8000.0, max_items=cap),
        s("als", factors=128, regularization=1.0, alpha=20.0, transform="log", iterations=15),
        s("itemknn", neighbours=100, shrink=10.0),
        s("als", factors=32, regularization=0.05, alpha=5.0, transform="binary", iterations=15),
    ]
    if data.inter.item_features is not None:
        essential.append(s("content"))
        optional.append(s("content", neighbours=200))
    if mixed:
        optional[1:1] = [s("ease", lam=500.0, max_items=cap, transform="purchases"),
                         s("itemknn", neighbours=100, transform="purchases")]
    fams = cfg.get("candidates")
    if fams:
        essential = [c for c in essential if c["kind"] in fams or c["kind"] == "popularity"]
        optional = [c for c in optional if c["kind"] in fams]
    return essential, optional


def _eval_blends(repeat, discovery, data, users, targets, k, weights, exclude=None, batch=512):
    """Metrics for every blend weight, scoring the two children once per user batch.
    ``exclude`` (rows aligned with ``users``) for the "new items" task."""
    recs = {w: [] for w in weights}
    for start in range(0, len(users), batch):
        u = users[start:start + batch]
        ex = exclude[start:start + batch] if exclude is not None else None
        r = normalise_rows(repeat.score(u))
        d = normalise_rows(discovery.score(u))
        for w in weights:
            sc = r + FILL * d if w >= 1.0 else w * r + (1 - w) * d
            items, _ = topk(sc, k, repeat.tiebreak, ex)
            recs[w].extend(row[row >= 0] for row in items)
    return {w: summarise(recs[w], targets, data.n_items, k) for w in weights}


def tune(inter, cfg: dict, progress=lambda m: None, fitted: dict | None = None) -> dict:
    """Pick the model for each task on a validation split. Returns the tuning record;
    the rankers fitted on the validation data are left in ``fitted`` (spec key -> ranker)."""
    t0 = time.monotonic()
    budget = float(cfg["time_budget_seconds"])
    k = int(cfg["k"])
    vs = last_basket_split(inter, cfg["basket"])
    if len(vs) == 0:
        progress("no user has two baskets: no validation possible, using defaults")
        default = {"kind": "blend", "params": {"w": 0.9, "repeat": {"kind": "repeat", "params": {}},
                                               "discovery": {"kind": "itemknn", "params": {"neighbours": 100}}}}
        chosen = cfg.get("fixed") or {"next": default, "new": {"kind": "itemknn", "params": {"neighbours": 100}}}
        return {"chosen": {"next": chosen["next"], "new": chosen["new"]},
                "validation": [], "seconds": time.monotonic() - t0, "validation_users": 0}
    vdata = TrainData.build(vs.train, cfg)
    vs = vs.sample(int(cfg["max_validation_users"]), int(cfg["seed"]))
    targets = {t: task_targets(vs, vdata, t) for t in TASKS}
    progress(f"validation: {len(targets['next'][0])} users (next basket), {len(targets['new'][0])} (new items)")
    fitted = {} if fitted is None else fitted
    if cfg.get("fixed"):
        return _fixed(cfg, vdata, targets, k, t0, progress, fitted)
    table = []

    def run(s):
        key = _key(s)
        if key in fitted:
            return
        start = time.monotonic()
        try:
            r = REGISTRY[s["kind"]](**s["params"]).fit(vdata)
        except (MemoryError, np.linalg.LinAlgError) as exc:  # e.g. EASE on a huge catalogue
            progress(f"  {s['kind']} skipped: {exc}")
            return
        row = {"spec": spec(r), "fit_seconds": round(time.monotonic() - start, 2)}
        for task in TASKS:
            if task == "new" and s["kind"] == "repeat":
                continue  # repeat cannot recommend anything new
            users, tg = targets[task]
            row[task] = summarise(recs_for(r, vdata, users, k, task), tg, vdata.n_items, k)
        fitted[key] = fitted[_key(row["spec"])] = r
        spent[s["kind"]] = max(spent.get(s["kind"], 0.0), time.monotonic() - start)
        table.append(row)
        progress(f"  {r.describe():<60} next ndcg {row['next']['ndcg']:.4f}"
                 + (f"  new ndcg {row['new']['ndcg']:.4f}" if "new" in row else "")
                 + f"  [{time.monotonic() - t0:.0f}s]")

    # Seconds (fit and validation) the slowest candidate of each kind took so far: an
    # optional candidate that would run past the budget is not started, cheaper ones still
    # are (on a big catalogue EASE costs many item-kNN or repeat fits).
    spent: dict[str, float] = {}
    essential, optional = candidate_specs(cfg, vdata)
    for s in essential:
        run(s)
    for s in optional:
        elapsed = time.monotonic() - t0
        if elapsed > 0.7 * budget:
            progress("  time budget reached: remaining candidates skipped")
            break
        if elapsed + spent.get(s["kind"], 0.0) > 0.7 * budget:
            progress(f"  {s['kind']} {s['params']} skipped: would take about {spent[s['kind']]:.0f}s, "
                     "past the time budget")
            continue
        run(s)

    def best(task, kinds):
        rows = [r for r in table if task in r and r["spec"]["kind"] in kinds]
        return sorted(rows, key=lambda r: -r[task]["ndcg"])

    discovery_kinds = {"ease", "itemknn", "als", "bpr", "popularity", "content"}
    repeats = best("next", {"repeat"})
    if repeats:
        rep = fitted[_key(repeats[0]["spec"])]
        pool = best("next", discovery_kinds)[:2] + best("new", discovery_kinds)[:1]
        seen = set()
        users, tg = targets["next"]
        for row in pool:
            key = _key(row["spec"])
            if key in seen:
                continue
            seen.add(key)
            disc = fitted[key]
            for w, m in _eval_blends(rep, disc, vdata, users, tg, k, BLEND_WEIGHTS).items():
                table.append({"spec": spec(Blend.of(rep, disc, w)), "next": m})
            progress(f"  blends of {rep.describe()} with {disc.describe()}: best next ndcg "
                     f"{max(r['next']['ndcg'] for r in table[-len(BLEND_WEIGHTS):]):.4f}")
    contents = best("new", {"content"})
    if contents:
        content = fitted[_key(contents[0]["spec"])]
        users, tg = targets["new"]
        for row in best("new", discovery_kinds - {"content"})[:1]:
            disc = fitted[_key(row["spec"])]
            measured = _eval_blends(content, disc, vdata, users, tg, k, CONTENT_WEIGHTS, exclude=vdata.seen[users])
            for w, m in measured.items():
                table.append({"spec": spec(Blend.of(content, disc, w)), "new": m})
            progress(f"  blends of {content.describe()} into {disc.describe()}: best new ndcg "
                     f"{max(m['ndcg'] for m in measured.values()):.4f}")
    chosen_next = best("next", set(REGISTRY))[0]
    chosen_new = best("new", set(REGISTRY))[0]
    progress(f"chosen for next basket: {chosen_next['spec']} (validation ndcg {chosen_next['next']['ndcg']:.4f})")
    progress(f"chosen for new items: {chosen_new['spec']} (validation ndcg {chosen_new['new']['ndcg']:.4f})")
    return {"chosen": {"next": chosen_next["spec"], "new": chosen_new["spec"]},
            "validation": table, "seconds": round(time.monotonic() - t0, 1),
            "validation_users": len(targets["next"][0]),
            "incumbent": _incumbent(cfg.get("incumbent"), vdata, targets, k, progress, fitted)}


def refit_measure(inter, cfg: dict, chosen: dict, progress=lambda m: None, fitted: dict | None = None) -> dict:
    """The tuning record of a refit: ``chosen`` (an earlier search's configurations) fitted
    on all data but the last basket of ``refit_holdout_users`` sampled customers and measured
    on those baskets; the fits are left in ``fitted`` (spec key -> ranker) for serving."""
    t0 = time.monotonic()
    k = int(cfg["k"])
    split = sampled_holdout(inter, cfg["basket"], int(cfg["refit_holdout_users"]), int(cfg["seed"]))
    record = {"mode": "refit", "chosen": {"next": chosen["next"], "new": chosen["new"]}, "validation": [],
              "validation_users": len(split)}
    if len(split) == 0:
        progress("refit: no customer has two baskets, nothing to hold out")
        return {**record, "seconds": round(time.monotonic() - t0, 1)}
    vdata = TrainData.build(split.train, cfg)
    targets = {t: task_targets(split, vdata, t) for t in TASKS}
    progress(f"refit of {chosen['next']} / {chosen['new']}: holdout of {len(split)} customers' last baskets")
    measured = _incumbent(chosen, vdata, targets, k, progress, fitted if fitted is not None else {}, "refit")
    record["validation"] = [{"spec": chosen[task], task: measured[task]} for task in TASKS if task in measured]
    return {**record, "seconds": round(time.monotonic() - t0, 1)}


def _fixed(cfg: dict, vdata, targets, k: int, t0: float, progress, fitted: dict) -> dict:
    """The tuning record of a configuration given rather than searched: each task's spec
    measured on the validation split (so it can be compared with the serving one). Its
    fits go into ``fitted`` like the candidates' (the serving configuration's share them)."""
    fixed = cfg["fixed"]
    progress(f"fixed configuration: {fixed}")
    measured = _incumbent(fixed, vdata, targets, k, progress, fitted)
    table = [{"spec": fixed[task], task: measured[task]} for task in TASKS if task in measured]
    return {"chosen": {"next": fixed["next"], "new": fixed["new"]}, "validation": table,
            "seconds": round(time.monotonic() - t0, 1), "validation_users": len(targets["next"][0]),
            "incumbent": _incumbent(cfg.get("incumbent"), vdata, targets, k, progress, fitted)}


def _incumbent(chosen: dict | None, vdata, targets, k: int, progress, fitted: dict,
               label: str = "serving configuration") -> dict:
    """The serving version's chosen configurations, refitted on this validation split and
    measured on it, so that a new version is compared with the current one on equal
    terms (the promotion gate). Not a candidate: it cannot be chosen from here. Usually
    the serving configuration is among this run's candidates (or a blend of them): those
    fits are reused rather than repeated."""
    rankers = {}
    for task, s in (chosen or {}).items():
        if task not in TASKS or not s:
            continue
        try:
            rankers[task] = build(s, vdata, fitted)
        except (KeyError, TypeError, ValueError, MemoryError, np.linalg.LinAlgError) as exc:
            progress(f"  the serving configuration for {task} cannot be refitted: {exc}")
    if len(rankers) == len(TASKS) and shares_discovery(rankers["next"], rankers["new"]):
        recs = recs_both(rankers["next"], rankers["new"], vdata, targets, k)
    else:
        recs = {task: recs_for(r, vdata, targets[task][0], k, task) for task, r in rankers.items()}
    measured = {}
    for task in rankers:
        measured[task] = summarise(recs[task], targets[task][1], vdata.n_items, k)
        progress(f"  {label}, {task}: ndcg {measured[task]['ndcg']:.4f}")
    return measured


def build(s: dict, data: TrainData, cache: dict):
    """Fit ``s`` on ``data``, reusing fits already in ``cache`` (a blend shares its children)."""
    key = _key(s)
    if key not in cache:
        if s["kind"] == "blend":
            p = s["params"]
            cache[key] = Blend.of(build(p["repeat"], data, cache), build(p["discovery"], data, cache), p["w"])
        else:
            cache[key] = REGISTRY[s["kind"]](**s["params"]).fit(data)
    return cache[key]


def fingerprint(cfg: dict) -> str:
    """A short hash of the training configuration (without the serving version's choice,
    which changes with every version): a refit is only done under the configuration its
    configurations were searched with."""
    import hashlib

    plain = {k: v for k, v in cfg.items() if k != "incumbent"}
    return hashlib.sha1(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:12]


def chosen_ndcg(tuning: dict) -> dict:
    """Validation NDCG of the chosen configuration per task (None where not measured)."""
    out = {}
    for task in TASKS:
        chosen = tuning.get("chosen", {}).get(task)
        out[task] = next((row[task]["ndcg"] for row in tuning.get("validation", [])
                          if row.get("spec") == chosen and task in row), None)
    return out


def repeat_spec(chosen_next: dict) -> dict:
    """The "buy again" ranking: the repeat part of the chosen "for you" model (tuned), or the
    user's purchases by frequency when that model has none."""
    if chosen_next["kind"] == "repeat":
        return chosen_next
    if chosen_next["kind"] == "blend":
        return chosen_next["params"]["repeat"]
    return {"kind": "repeat", "params": {}}


#: The ALS behind "similar by taste" and fold-in when no chosen or tried one can serve.
LIST_FACTORS = {"factors": 64, "regularization": 0.1, "iterations": 10}
#: Iterations from an earlier model's item factors: one sweep (everyone's factors solved
#: against them, then the items' against those) is as good as three. On the training bench's
#: refit holdout (1M interactions) the warm ALS scored NDCG@10 0.2057 / 0.0611 (next order /
#: new items) after one, 0.2042 / 0.0617 after three (a cold 10-iteration fit: 0.1984 /
#: 0.0654), and 84% of its "similar by taste" neighbours were those of three (a cold fit
#: shares 45%), in a third of the time. Each refit starts from the last one's factors, so
#: the sweeps add up from refit to refit.
WARM_ITERATIONS = 1


def factors_fit(data: TrainData, warm: dict | None = None) -> ALS:
    """The ALS for item lists and fold-in on ``data``: from ``warm`` (an earlier model's
    ALS ``kind``, ``params``, ``item_ids`` and item factors ``V``) with its settings, its
    factors mapped by item id (new items start at zero) and ``WARM_ITERATIONS`` instead of
    a full fit from random factors; without one, ``LIST_FACTORS``."""
    if not warm or warm.get("kind") != "als":
        return ALS(**LIST_FACTORS).fit(data)
    als = ALS(**warm["params"])
    index = {str(item): i for i, item in enumerate(warm["item_ids"])}
    where = np.array([index.get(str(item), -1) for item in data.inter.item_ids], dtype=np.int64)
    V = np.asarray(warm["V"], dtype=np.float32)
    start = np.zeros((data.n_items, V.shape[1]), dtype=np.float32)
    start[where >= 0] = V[where[where >= 0]]
    return als.fit_from(data, start, WARM_ITERATIONS)


class Pipeline:
    """Tuned rankers for both tasks plus the fallback and item-to-item lists, fitted on all data."""

    def __init__(self, config: dict):
        self.config = config
        self.rankers: dict = {}
        self.lists: dict = {}
        self.tuning: dict = {}
        self.data: TrainData | None = None
        #: The ALS whose item factors serving folds new people into (``recommender.foldin``).
        self.factors: ALS | None = None

    def fit(self, inter, progress=lambda m: None, with_lists: bool = True, refit: dict | None = None) -> "Pipeline":
        """``refit``: ``{"chosen": {"next": spec, "new": spec}, "factors": {"item_ids", "V",
        "params"} or None}`` to refit an earlier search's choice instead of searching
        (``factors``: the earlier model's ALS item factors, the warm start of this one's)."""
        cfg = self.config
        validation_fits: dict = {}
        if refit:
            self.tuning = refit_measure(inter, cfg, refit["chosen"], progress, validation_fits)
            self.tuning["searched"] = refit.get("searched")
        else:
            progress(f"tuning on a validation split (budget {cfg['time_budget_seconds']:.0f}s)")
            self.tuning = {"mode": "search", **tune(inter, cfg, progress, validation_fits)}
            self.tuning["searched"] = {"at": time.time(), "interactions": len(inter), "config": fingerprint(cfg),
                                       "ndcg": chosen_ndcg(self.tuning)}
        progress("fitting the chosen models on all data")
        self.data = data = TrainData.build(inter, cfg)
        cache: dict = {}
        if refit:  # the holdout's fits, with everyone's full history (a blend's children are in there too)
            cache = {key: ranker.refresh(data) for key, ranker in validation_fits.items()}
        self.rankers = {
            "for_you": build(self.tuning["chosen"]["next"], data, cache),
            "discover": build(self.tuning["chosen"]["new"], data, cache),
            "popular": build({"kind": "popularity", "params": {}}, data, cache),
            "trending": build({"kind": "popularity", "params": {"half_life_days": cfg["trending_half_life_days"]}},
                              data, cache),
            "buy_again": build(repeat_spec(self.tuning["chosen"]["next"]), data, cache),
        }
        if with_lists:
            progress("item-to-item lists")
            # Item factors for "similar by taste": the chosen ALS if there is one, else the
            # ALS that did best on validation (fitted on all but the held-out baskets, which
            # is plenty for item similarities) rather than one more fit.
            als = next((r for r in cache.values() if isinstance(r, ALS)), None)
            tried = [row for row in self.tuning["validation"] if row["spec"]["kind"] == "als" and "new" in row]
            if als is None and tried:
                best = max(tried, key=lambda row: np.nan_to_num(row["new"]["ndcg"], nan=-1.0))
                als = validation_fits.get(_key(best["spec"]))
            if als is None:
                als = factors_fit(data, (refit or {}).get("factors"))
            self.lists = item_lists(data, int(cfg["item_neighbours"]), als)
            self.factors = als
        return self
