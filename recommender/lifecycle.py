"""Serving another version: roll back to an earlier one whose files are still kept."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from recommender import artifact
from recommender.defaults import setting
from recommender.models import ModelVersion
from recommender.publish import publish


def roll_back(version: ModelVersion) -> None:
    """Publish ``version`` again (from its files) and serve it; raises ValueError with the
    reason when it cannot be."""
    if version.status == ModelVersion.SERVING:
        raise ValueError(f"{version} is already serving.")
    if version.status == ModelVersion.FAILED or not version.path or not Path(version.path, "model.json").exists():
        raise ValueError(f"{version} cannot serve: its files are gone (only the last "
                         f"{setting('RECOMMENDER_KEEP_VERSIONS')} versions are kept).")
    publish(version.pk, artifact.load(version.path), top_n=setting("RECOMMENDER_PUBLISH_TOP_N"))
    with transaction.atomic():
        ModelVersion.objects.filter(status=ModelVersion.SERVING).update(status=ModelVersion.RETIRED)
        ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersion.SERVING, published_at=timezone.now())
