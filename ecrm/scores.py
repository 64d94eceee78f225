"""Scores on every profile, kept for segments, campaigns and the card: RFM (``ecrm.rfm``)
now; lifetime value and churn (``ecrm.clv``) when fitted. Recomputed nightly by beat and
with ``manage.py ecrm_refresh_scores``."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from ecrm.defaults import setting
from ecrm.models import Profile, ScoreFit
from ecrm.rfm import Customer, rfm_scores

BATCH = 2000
WRITE_BATCH = 20_000  # profiles per UPDATE on PostgreSQL


def rfm_refresh(*, now=None, progress: Callable[[int, int], None] | None = None) -> int:
    """Score every customer with an order; clear the scores of those without. Returns how
    many were scored."""
    now = now or timezone.now()
    rows = list(Profile.objects.filter(order_count__gt=0).values_list("pk", "last_order_at", "order_count",
                                                                      "revenue"))
    customers = [Customer(pk, (now - last).total_seconds() / 86400 if last else 1e9, orders, float(revenue))
                 for pk, last, orders, revenue in rows]
    scores = rfm_scores(customers)
    keys = list(scores)
    with transaction.atomic():
        Profile.objects.filter(order_count=0).exclude(rfm_group="").update(
            rfm_recency=None, rfm_frequency=None, rfm_monetary=None, rfm_group="")
        _bulk_set(keys, {field: [scores[pk][i] for pk in keys]
                         for i, field in enumerate(("rfm_recency", "rfm_frequency", "rfm_monetary", "rfm_group"))},
                  {"scores_computed_at": now}, progress=progress)
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
    pks, rows_of = [], []
    # For many customers one read of every profile's key beats an IN list of them all.
    profiles = Profile.objects.filter(person_key__in=by_person) if len(by_person) <= BATCH else Profile.objects
    for pk, person in profiles.values_list("pk", "person_key").iterator(chunk_size=10000):
        if person in by_person:
            pks.append(pk)
            rows_of.append(by_person[person])
    alive = [row["probability_alive"] for row in rows_of]
    _bulk_set(pks, {
        "probability_alive": alive,
        "churn_risk": [1 - p for p in alive],
        "expected_purchases_90d": [row["expected_purchases_90d"] for row in rows_of],
        "expected_purchases_365d": [row["expected_purchases_365d"] for row in rows_of],
        # NaN: spend unknown
        "predicted_clv": [Decimal(f"{clv:.2f}") if clv == clv else None
                          for clv in (row["predicted_clv"] for row in rows_of)],
        "expected_next_order_at": [row["expected_next_order_date"] for row in rows_of],
    }, {"scores_computed_at": timezone.now()})
    # The holdout: the configured period, or a shorter one when the history before it is
    # too short to fit (a young store).
    days, diagnostic = setting("ECRM_CLV_HOLDOUT_DAYS"), {}
    while days >= 14:
        try:
            diagnostic = {**holdout(purchases, today - timedelta(days=days), today), "holdout_days": days}
            break
        except (CLVInputError, FitError, ValueError) as exc:
            diagnostic, days = {"error": str(exc)}, days // 2
    return ScoreFit.objects.create(observation_end=today, customers=len(rows),
                                   parameters={**fitted.as_dict(), "warnings": fitted.warnings()},
                                   diagnostic=_plain(diagnostic))


def _bulk_set(pks: list, values: dict[str, list], same: dict[str, object], *,
              progress: Callable[[int, int], None] | None = None) -> None:
    """Write scores to many profiles: ``values[field][i]`` to profile ``pks[i]``, and each of
    ``same`` to all of them. On PostgreSQL one ``UPDATE … FROM unnest(arrays)`` per
    WRITE_BATCH profiles (Django's ``bulk_update`` builds a CASE per field and row, which
    took minutes for 100,000 customers); elsewhere ``bulk_update``."""
    if connection.vendor != "postgresql":
        with transaction.atomic(savepoint=False):  # all or nothing, as below
            for start in range(0, len(pks), BATCH):
                batch = [Profile(pk=pk, **{field: column[start + i] for field, column in values.items()}, **same)
                         for i, pk in enumerate(pks[start:start + BATCH])]
                Profile.objects.bulk_update(batch, [*values, *same])
                if progress:
                    progress(min(start + BATCH, len(pks)), len(pks))
        return
    fields = {name: Profile._meta.get_field(name) for name in [*values, *same]}
    columns = {name: connection.ops.quote_name(field.column) for name, field in fields.items()}
    assignments = [f"{columns[name]} = v.{columns[name]}" for name in values]
    assignments += [f"{columns[name]} = %s" for name in same]
    arrays = ", ".join(f"%s::{fields[name].db_type(connection)}[]" for name in values)
    sql = (f"UPDATE {Profile._meta.db_table} AS p SET {', '.join(assignments)} "
           f"FROM unnest(%s::bigint[], {arrays}) AS v(pk, {', '.join(columns[name] for name in values)}) "
           f"WHERE p.{connection.ops.quote_name(Profile._meta.pk.column)} = v.pk")
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(pks), WRITE_BATCH):
            end = start + WRITE_BATCH
            cursor.execute(sql, [*same.values(), pks[start:end],  # in the order of the placeholders
                                 *(column[start:end] for column in values.values())])
            if progress:
                progress(min(end, len(pks)), len(pks))


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
