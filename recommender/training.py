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
from recommender.models import ModelVersion
from recommender.pipeline import Pipeline
from recommender.publish import publish
from recommender.store_data import store_interactions


def train_version(*, progress: Callable[[str], None] = lambda message: None) -> ModelVersion:
    """Train, save and publish a new version; the previous serving version is retired.
    A failed run is recorded with its reason and leaves the serving version in place."""
    version = ModelVersion.objects.create()
    started = time.monotonic()
    directory = model_dir() / f"v{version.pk}"
    try:
        config = load_config(overrides=setting("RECOMMENDER_TRAINING"))
        progress("reading interactions from the store")
        interactions = store_interactions(config)
        pipe = Pipeline(config).fit(interactions, progress)
        artifact.save(pipe, directory)
        model = artifact.load(directory)
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
        version.interactions, version.users, version.items = (model.meta["n_interactions"], model.meta["n_users"],
                                                              model.meta["n_items"])
        version.chosen = _json_safe(model.meta.get("chosen") or {})
        version.metrics = _json_safe(model.meta.get("tuning") or {})
        version.seconds = time.monotonic() - started
        version.save()
    _forget_old_versions()
    return version


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
