"""Serving another version (roll back to an earlier one whose files are still kept), and
forgetting old versions — never one that is serving or that a running A/B test uses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from recommender import artifact
from recommender.defaults import setting
from recommender.experiments import versions_in_use
from recommender.models import ModelVersion
from recommender.publish import client, publish


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


def prune_versions() -> None:
    """Keep in Redis the serving version, the one served before it (for a quick rollback)
    and the versions of a running experiment; on disk also the last
    RECOMMENDER_KEEP_VERSIONS. Everything else is deleted."""
    in_use = versions_in_use()
    serving = set(ModelVersion.objects.filter(status=ModelVersion.SERVING).values_list("pk", flat=True))
    previous = (ModelVersion.objects.exclude(status=ModelVersion.SERVING).filter(published_at__isnull=False)
                .order_by("-published_at").values_list("pk", flat=True).first())
    keep = in_use | serving | {previous}
    prefix = setting("RECOMMENDER_REDIS_PREFIX")
    versioned = re.compile(rf"^{re.escape(prefix)}:v(\d+):")
    r = client()
    stale = [name for name in r.scan_iter(match=f"{prefix}:v*:*", count=1000)
             if (found := versioned.match(name)) and int(found.group(1)) not in keep]
    for start in range(0, len(stale), 1000):
        r.delete(*stale[start:start + 1000])
    kept_on_disk = setting("RECOMMENDER_KEEP_VERSIONS")
    old = (ModelVersion.objects.exclude(status=ModelVersion.SERVING).exclude(pk__in=in_use).exclude(path="")
           .order_by("-created_at")[kept_on_disk:])
    for version in old:
        shutil.rmtree(version.path, ignore_errors=True)
        ModelVersion.objects.filter(pk=version.pk).update(path="")
