"""A recommender version trained on the store's own data into a private Redis prefix and
model directory, for benchmarks that need recommendations to serve; the store's serving
version, its Redis lists and its files are left as they were."""

from __future__ import annotations

import tempfile
import time
import uuid
from contextlib import contextmanager

from django.test import override_settings


@contextmanager
def private_trained_version(*, time_budget_seconds: int = 20):
    """Yields ``(version, seconds it took to train and publish)``; raises RuntimeError when
    training fails (e.g. the store has no data: run ``make seed``)."""
    from recommender.models import ModelVersion

    prefix = f"bench-reco-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as models, override_settings(
            RECOMMENDER_REDIS_PREFIX=prefix, RECOMMENDER_MODEL_DIR=models,
            RECOMMENDER_TRAINING={"time_budget_seconds": time_budget_seconds}):
        from recommender.catalogue import catalogue
        from recommender.publish import client
        from recommender.training import train_version

        serving_before = list(ModelVersion.objects.filter(status=ModelVersion.SERVING).values_list("pk", flat=True))
        # The store's serving version steps aside while the benchmark's trains (restored after):
        # a short training budget may not beat it, and a benchmark needs lists to serve, not the best.
        ModelVersion.objects.filter(pk__in=serving_before).update(status=ModelVersion.RETIRED)
        catalogue.clear()
        version = None
        try:
            started = time.perf_counter()
            version = train_version()
            trained = time.perf_counter() - started
            if version.status != ModelVersion.SERVING:
                raise RuntimeError(f"training failed: {version.note}")
            yield version, trained
        finally:
            stale = list(client().scan_iter(match=f"{prefix}:*"))
            if stale:
                client().delete(*stale)
            if version is not None:
                ModelVersion.objects.filter(pk=version.pk).delete()
            ModelVersion.objects.filter(pk__in=serving_before).update(status=ModelVersion.SERVING)
            catalogue.clear()
