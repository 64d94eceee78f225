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
from recommender.models import ModelVersion
from recommender.pipeline import Pipeline
from recommender.publish import publish
from recommender.store_data import store_interactions, store_items


def train_version(*, progress: Callable[[str], None] = lambda message: None) -> ModelVersion:
    """Train and save a new version; publish and serve it only if, on the same validation
    split, it does at least as well as the serving version's configuration on both tasks
    (otherwise it is kept as rejected, with the figures). A failed run is recorded with
    its reason. Either way the serving version stays in place."""
    serving = ModelVersion.objects.filter(status=ModelVersion.SERVING).first()
    version = ModelVersion.objects.create()
    started = time.monotonic()
    directory = model_dir() / f"v{version.pk}"
    try:
        config = load_config(overrides={**setting("RECOMMENDER_TRAINING"),
                                        "incumbent": serving.chosen if serving else None})
        progress("reading interactions from the store")
        # Every public product joins the item index, with its features: new products
        # get content neighbours (and can be recommended) before anyone has seen them.
        interactions = with_catalogue(store_interactions(config), store_items())
        pipe = Pipeline(config).fit(interactions, progress)
        artifact.save(pipe, directory)
        model = artifact.load(directory)
        worse = _worse_than_serving(pipe.tuning)
        if worse:
            version.status, version.note, version.path = ModelVersion.REJECTED, worse, str(directory)
            _record(version, model, started)
            return version
        progress("publishing to Redis")
        publish(version.pk, model, top_n=setting("RECOMMENDER_PUBLISH_TOP_N"))
    except InputError as exc:  # e.g. a new store without interactions yet
        version.status, version.note = ModelVersion.FAILED, str(exc)
        version.seconds = time.monotonic() - started
        version.save()
        shutil.rmtree(directory, ignore_errors=True)
        return version
    with transaction.atomic():
        ModelVersion.objects.filter(status=ModelVersion.SERVING).update(status=ModelVersion.RETIRED)
        version.status, version.path, version.published_at = ModelVersion.SERVING, str(directory), timezone.now()
        _record(version, model, started)
    _forget_old_versions()
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


def _forget_old_versions() -> None:
    """Keep the serving version and the one before it in Redis (for a quick rollback), and
    the last RECOMMENDER_KEEP_VERSIONS on disk."""
    from recommender.publish import client

    previous = list(ModelVersion.objects.exclude(status=ModelVersion.SERVING).filter(published_at__isnull=False)
                    .order_by("-published_at").values_list("pk", flat=True))
    r = client()
    prefix = setting("RECOMMENDER_REDIS_PREFIX")
    for pk in previous[1:]:
        stale = list(r.scan_iter(match=f"{prefix}:v{pk}:*", count=1000))
        if stale:
            r.delete(*stale)
    keep = setting("RECOMMENDER_KEEP_VERSIONS")
    old = ModelVersion.objects.exclude(status=ModelVersion.SERVING).exclude(path="").order_by("-created_at")[keep:]
    for version in old:
        shutil.rmtree(version.path, ignore_errors=True)
        ModelVersion.objects.filter(pk=version.pk).update(path="")
