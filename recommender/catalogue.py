"""What serving needs to know about products, kept in each process so that a
recommendation call makes no database query once its products have been seen.

Each entry is a product (with its class and stock records) and whether Oscar's default
strategy lets it be bought. A save or deletion of a product or stock record appends the
product's id to a change log in Redis (after the transaction commits); processes read
the log's new entries at most every ``CHECK_SECONDS`` and drop just those products, so a
product that sells out stops being recommended within seconds while the rest of the
cache stays warm (orders change stock all the time). A process that fell behind the
log's retained length starts afresh. Entries are capped per process.
"""

from __future__ import annotations

import threading
import time

import redis
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oscar.core.loading import get_class, get_model

from recommender.defaults import setting
from recommender.publish import client

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Selector = get_class("partner.strategy", "Selector")
CHECK_SECONDS = 2.0
MAX_ENTRIES = 20_000
LOG_LENGTH = 10_000


def changes_key() -> str:
    """A Redis list of changed product ids; its ``:count`` counts every append ever made."""
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:catalogue-changes"


class CatalogueCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[object, bool]] = {}
        self._seen: int | None = None  # how many changes of the log this process has applied
        self._checked_at = 0.0

    def _apply_changes(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            total = int(client().get(changes_key() + ":count") or 0)
            if self._seen is None or total - self._seen > LOG_LENGTH or total < self._seen:
                self._entries, self._seen = {}, total  # first look, fell behind, or log reset
                return
            if total > self._seen:
                changed = client().lrange(changes_key(), -(total - self._seen), -1)
                for product_id in changed:
                    self._entries.pop(product_id, None)
                self._seen = total
        except redis.RedisError:
            pass  # keep what we have; serving copes without Redis elsewhere

    def lookup(self, ids: list[str]) -> dict[str, tuple[object, bool]]:
        """id -> (product, available to buy) for the public products among ``ids``."""
        with self._lock:
            self._apply_changes()
            entries = self._entries
        missing = [i for i in ids if i not in entries]
        if missing:
            strategy = Selector().strategy()
            loaded = {}
            products = Product.objects.filter(pk__in=missing, is_public=True).select_related(
                "product_class", "parent__product_class").prefetch_related("stockrecords")
            for product in products:
                info = strategy.fetch_for_parent(product) if product.is_parent else strategy.fetch_for_product(product)
                loaded[str(product.pk)] = (product, info.availability.is_available_to_buy)
            for i in missing:  # remember unknown and hidden ids too, as unavailable
                loaded.setdefault(i, (None, False))
            with self._lock:
                if len(self._entries) + len(loaded) > MAX_ENTRIES:
                    self._entries = {}
                self._entries.update(loaded)
                entries = self._entries
        return {i: entries[i] for i in ids if i in entries}

    def forget(self, product_ids) -> None:
        with self._lock:
            for product_id in product_ids:
                self._entries.pop(str(product_id), None)

    def clear(self) -> None:
        with self._lock:
            self._entries, self._seen, self._checked_at = {}, None, 0.0


catalogue = CatalogueCache()


def _log_change(product_id) -> None:
    try:
        pipe = client().pipeline(transaction=True)
        pipe.rpush(changes_key(), str(product_id)).ltrim(changes_key(), -LOG_LENGTH, -1)
        pipe.incr(changes_key() + ":count").execute()
    except redis.RedisError:
        pass  # Redis is down: serving is down too, and starts afresh when it returns


@receiver([post_save, post_delete], sender=Product, dispatch_uid="recommender.product_changed")
@receiver([post_save, post_delete], sender=StockRecord, dispatch_uid="recommender.stock_changed")
def catalogue_changed(sender, instance, **kwargs) -> None:
    product_id = instance.pk if sender is Product else instance.product_id
    ids = {product_id, getattr(instance, "parent_id", None) if sender is Product else None} - {None}
    for changed in ids:  # a child's change also changes its parent's availability
        transaction.on_commit(lambda changed=changed: _log_change(changed))
    catalogue.forget(ids)  # this process knows at once
