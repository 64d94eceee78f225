"""Train a model version on the shop's data and publish it for serving: the same pipeline
as ``python -m recommender train``, fed from the database instead of a CSV."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from recommender import artifact
from recommender.config import load_config
from recommender.defaults import model_dir, setting
from recommender.errors import InputError
from recommender.items import with_catalogue
from recommender.lifecycle import prune_versions
from recommender.models import ModelVersion
from recommender.pipeline import Pipeline
from recommender.publish import publish
from recommender.store_data import store_interactions, store_items


def train_version(*, progress: Callable[[str], None] = lambda message: None, candidate: dict | None = None,
                  note: str = "") -> ModelVersion:
    """Train and save a new version; publish and serve it only if, on the same validation
    split, it does at least as well as the serving version's configuration on both tasks
    (otherwise it is kept as rejected, with the figures). A failed run is recorded with
    its reason. Either way the serving version stays in place.

    ``candidate``: configuration overrides (e.g. ``{"fixed": {...}}``) for a version to
    A/B test: it is trained, measured and kept (status "trained", ``note`` saying what it
    is), but neither published nor served; an experiment publishes it for its arm."""
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
        pipe = Pipeline(config).fit(interactions, progress)
        artifact.save(pipe, directory)
        model = artifact.load(directory)
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
    for task, label in (("next", "next order"), ("new", "new items")):
        serving = (tuning.get("incumbent") or {}).get(task, {}).get("ndcg")
        chosen = next((row[task]["ndcg"] for row in tuning.get("validation", [])
                       if row.get("spec") == tuning["chosen"].get(task) and task in row), None)
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
