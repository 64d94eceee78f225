"""Train a model version on the shop's data and publish it for serving: the same pipeline
as ``python -m recommender train``, fed from the database instead of a CSV.

Most runs are *refits*: the serving version's configurations, which its last full search
chose on a validation split, fitted again on the new data (and measured on a holdout). A
full search runs when there is nothing to refit, when staff ask for one, when the last one
is ``RECOMMENDER_SEARCH_EVERY_DAYS`` old, when the data grew or shrank by more than
``RECOMMENDER_SEARCH_ON_GROWTH``, when the training configuration changed, and right after
a refit whose holdout NDCG@10 fell more than ``RECOMMENDER_SEARCH_ON_DROP`` below what the
search measured (the data drifted). Each version records which it was and why
(``metrics["mode"]``, ``metrics["reason"]``, ``metrics["searched"]``: when, on how much
data, by which version)."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from recommender import artifact
from recommender.config import load_config
from recommender.defaults import model_dir, setting
from recommender.errors import InputError
from recommender.items import with_catalogue
from recommender.lifecycle import prune_versions
from recommender.models import ModelVersion
from recommender.pipeline import Pipeline, chosen_ndcg, fingerprint
from recommender.publish import publish
from recommender.store_data import store_interactions, store_items


def train_version(*, progress: Callable[[str], None] = lambda message: None, candidate: dict | None = None,
                  note: str = "", search: bool = False) -> ModelVersion:
    """Train and save a new version; publish and serve it only if, on the same validation
    split, it does at least as well as the serving version's configuration on both tasks
    (otherwise it is kept as rejected, with the figures). A failed run is recorded with
    its reason. Either way the serving version stays in place.

    ``candidate``: configuration overrides (e.g. ``{"fixed": {...}}``) for a version to
    A/B test: it is trained, measured and kept (status "trained", ``note`` saying what it
    is), but neither published nor served; an experiment publishes it for its arm.

    ``search``: a full search even when a refit would do (see the module's docstring)."""
    serving = ModelVersion.objects.filter(status=ModelVersion.SERVING).first()
    version = ModelVersion.objects.create(note=note)
    started = time.monotonic()
    directory = model_dir() / f"v{version.pk}"
    try:
        config = load_config(overrides={**setting("RECOMMENDER_TRAINING"), **(candidate or {}),
                                        "incumbent": serving.chosen if serving else None})
        progress("reading interactions from the store")
        # Every public product joins the item index, with its features: new products
        # get content neighbours (and can be recommended) before anyone has seen them.
        interactions = with_catalogue(store_interactions(config), store_items())
        refit, reason = (None, "a candidate for an A/B test") if candidate is not None else (
            (None, "a full search was asked for") if search else refit_plan(serving, config, len(interactions)))
        progress(f"{'refit' if refit else 'full search'}: {reason}")
        pipe = Pipeline(config).fit(interactions, progress, refit=refit)
        if refit and (dropped := _dropped(pipe.tuning)):
            reason = f"the refit's holdout {dropped}"
            progress(f"full search: {reason}")
            pipe = Pipeline(config).fit(interactions, progress)
        pipe.tuning["reason"] = reason
        if pipe.tuning["mode"] == "search":
            pipe.tuning["searched"]["version"] = version.pk
        directory, model = artifact.save_and_open(pipe, directory)
        if candidate is not None:
            version.status, version.path = ModelVersion.TRAINED, str(directory)
            _record(version, model, started)
            prune_versions()
            return version
        worse = _worse_than_serving(pipe.tuning)
        if worse:
            version.status, version.note, version.path = ModelVersion.REJECTED, worse, str(directory)
            _record(version, model, started)
            return version
        progress("publishing to Redis")
        publish(version.pk, model, top_n=setting("RECOMMENDER_PUBLISH_TOP_N"))
    except InputError as exc:  # e.g. a new store without interactions yet
        version.status, version.note = ModelVersion.FAILED, f"{note}: {exc}" if note else str(exc)
        version.seconds = time.monotonic() - started
        version.save()
        shutil.rmtree(directory, ignore_errors=True)
        return version
    with transaction.atomic():
        ModelVersion.objects.filter(status=ModelVersion.SERVING).update(status=ModelVersion.RETIRED)
        version.status, version.path, version.published_at = ModelVersion.SERVING, str(directory), timezone.now()
        _record(version, model, started)
    prune_versions()
    return version


def refit_plan(serving: ModelVersion | None, config: dict, n_interactions: int) -> tuple[dict | None, str]:
    """(what ``Pipeline.fit`` needs to refit the serving version's configurations, why) or
    (None, why a full search is due)."""
    searched = ((serving.metrics or {}).get("searched") if serving else None) or {}
    if serving is None or not serving.chosen:
        return None, "no version is serving"
    if not searched or not serving.path or not Path(serving.path, "model.json").is_file():
        return None, f"v{serving.pk} has no record of a search or no files to refit from"
    if searched.get("config") != fingerprint(config):
        return None, "the training configuration changed since the last search"
    age = (time.time() - float(searched.get("at", 0))) / 86400
    if age >= setting("RECOMMENDER_SEARCH_EVERY_DAYS"):
        return None, f"the last search (v{searched.get('version')}) is {age:.1f} days old"
    before = max(int(searched.get("interactions") or 0), 1)
    change = abs(n_interactions - before) / before
    if change > setting("RECOMMENDER_SEARCH_ON_GROWTH"):
        return None, f"the interactions changed by {change:.0%} since the last search ({before:,} → {n_interactions:,})"
    try:
        refit = artifact.refit_inputs(serving.path)
    except InputError as exc:
        return None, f"v{serving.pk}'s files cannot be refitted from ({exc})"
    refit["chosen"], refit["searched"] = serving.chosen, searched
    return refit, (f"the configurations v{searched.get('version')} chose {age:.1f} days ago, "
                   f"refitted ({n_interactions:,} interactions, {before:,} then)")


def _dropped(tuning: dict) -> str:
    """How the refit's holdout NDCG@10 fell below what the search measured, by more than
    RECOMMENDER_SEARCH_ON_DROP ("" when it did not)."""
    then = (tuning.get("searched") or {}).get("ndcg") or {}
    now = chosen_ndcg(tuning)
    limit = 1 - float(setting("RECOMMENDER_SEARCH_ON_DROP"))
    falls = [f"{task} NDCG@10 {now[task]:.4f} < {limit:.0%} of {then[task]:.4f}" for task in ("next", "new")
             if now.get(task) is not None and then.get(task) and now[task] < limit * then[task]]
    return "; ".join(falls)


def _record(version: ModelVersion, model, started: float) -> None:
    version.interactions, version.users, version.items = (model.meta["n_interactions"], model.meta["n_users"],
                                                          model.meta["n_items"])
    version.chosen = _json_safe(model.meta.get("chosen") or {})
    version.metrics = _json_safe(model.meta.get("tuning") or {})
    version.seconds = time.monotonic() - started
    version.save()


def _worse_than_serving(tuning: dict) -> str:
    """Why the new version must not serve ("" when it may): a lower validation NDCG@10
    than the serving configuration on the same split, for either task."""
    reasons = []
    measured = chosen_ndcg(tuning)
    for task, label in (("next", "next order"), ("new", "new items")):
        serving = (tuning.get("incumbent") or {}).get(task, {}).get("ndcg")
        chosen = measured[task]
        if serving is not None and chosen is not None and chosen < serving:
            reasons.append(f"{label}: NDCG@10 {chosen:.4f} < {serving:.4f} of the serving version")
    return "; ".join(reasons)


def _json_safe(value):
    """NaN (a metric with nothing to measure, e.g. no new items in a small store) as null:
    PostgreSQL's JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value
