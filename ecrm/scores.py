"""Scores on every profile, kept for segments, campaigns and the card: RFM (``ecrm.rfm``)
now; lifetime value and churn (``ecrm.clv``) when fitted. Recomputed nightly by beat and
with ``manage.py ecrm_refresh_scores``."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from ecrm.models import Profile
from ecrm.rfm import Customer, rfm_scores

BATCH = 2000


def rfm_refresh(*, now=None, progress: Callable[[int, int], None] | None = None) -> int:
    """Score every customer with an order; clear the scores of those without. Returns how
    many were scored."""
    now = now or timezone.now()
    rows = list(Profile.objects.filter(order_count__gt=0).values_list("pk", "last_order_at", "order_count",
                                                                      "revenue"))
    customers = [Customer(pk, (now - last).total_seconds() / 86400 if last else 1e9, orders, float(revenue))
                 for pk, last, orders, revenue in rows]
    scores = rfm_scores(customers)
    with transaction.atomic():
        Profile.objects.filter(order_count=0).exclude(rfm_group="").update(
            rfm_recency=None, rfm_frequency=None, rfm_monetary=None, rfm_group="")
        keys = list(scores)
        for start in range(0, len(keys), BATCH):
            batch = [Profile(pk=pk, rfm_recency=r, rfm_frequency=f, rfm_monetary=m, rfm_group=group,
                             scores_computed_at=now)
                     for pk in keys[start:start + BATCH] for r, f, m, group in [scores[pk]]]
            Profile.objects.bulk_update(batch, ["rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_group",
                                                "scores_computed_at"])
            if progress:
                progress(min(start + BATCH, len(keys)), len(keys))
    return len(scores)
