"""Scores on every profile, kept for segments, campaigns and the card: RFM (``ecrm.rfm``)
now; lifetime value and churn (``ecrm.clv``) when fitted. Recomputed nightly by beat and
with ``manage.py ecrm_refresh_scores``."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from ecrm.defaults import setting
from ecrm.models import Profile, ScoreFit
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


def store_purchases():
    """Every order as (person, day, total), the person resolved as profiles resolve them
    (merged accounts, guests who registered later)."""
    from ecrm.clv import aggregate
    from ecrm.customer_reports import store_orders

    return aggregate((p.person, p.placed_at.date(), float(p.total)) for p in store_orders())


def clv_refresh(*, today=None) -> ScoreFit:
    """Fit BG/NBD and Gamma-Gamma on the store's orders and score every customer; then fit
    again without the last ECRM_CLV_HOLDOUT_DAYS to show how well the model predicts them.
    A store with too little history gets a ScoreFit saying so, and no scores."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils.timezone import localdate

    from ecrm.clv import CLVInputError, FitError, fit_models, holdout, predictions, summarise

    today = today or localdate()
    purchases = store_purchases()
    try:
        fitted = fit_models(summarise(purchases, today))
    except (CLVInputError, FitError, ValueError) as exc:
        return ScoreFit.objects.create(observation_end=today, error=str(exc))
    rows = predictions(fitted, horizon_months=setting("ECRM_CLV_HORIZON_MONTHS"),
                       discount_rate=setting("ECRM_CLV_DISCOUNT_RATE"))
    by_person = {row["customer_id"]: row for row in rows}
    profiles = []
    now = timezone.now()
    for profile in Profile.objects.filter(person_key__in=by_person).only("pk", "person_key"):
        row = by_person[profile.person_key]
        clv = row["predicted_clv"]
        profile.probability_alive = row["probability_alive"]
        profile.churn_risk = 1 - row["probability_alive"]
        profile.expected_purchases_90d = row["expected_purchases_90d"]
        profile.expected_purchases_365d = row["expected_purchases_365d"]
        profile.predicted_clv = Decimal(f"{clv:.2f}") if clv == clv else None  # NaN: spend unknown
        profile.expected_next_order_at = row["expected_next_order_date"]
        profile.scores_computed_at = now
        profiles.append(profile)
    Profile.objects.bulk_update(profiles, ["probability_alive", "churn_risk", "expected_purchases_90d",
                                           "expected_purchases_365d", "predicted_clv", "expected_next_order_at",
                                           "scores_computed_at"], batch_size=BATCH)
    # The holdout: the configured period, or a shorter one when the history before it is
    # too short to fit (a young store).
    days, diagnostic = setting("ECRM_CLV_HOLDOUT_DAYS"), {}
    while days >= 14:
        try:
            diagnostic = {**holdout(purchases, today - timedelta(days=days), today), "holdout_days": days}
            break
        except (CLVInputError, FitError, ValueError) as exc:
            diagnostic, days = {"error": str(exc)}, days // 2
    return ScoreFit.objects.create(observation_end=today, customers=len(rows), parameters={**fitted.as_dict(), "warnings": fitted.warnings()},
                                   diagnostic=_plain(diagnostic))


def _plain(value):
    """JSON-safe: dates as ISO strings, NaN as null."""
    import math
    from datetime import date

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
