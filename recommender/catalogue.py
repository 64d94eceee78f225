"""What serving needs to know about products, kept in each process so that a
recommendation call makes no database query once its products have been seen.

Each entry is a product (with its class and stock records) and whether Oscar's default
strategy lets it be bought. Any save or deletion of a product or stock record bumps a
version in Redis (after the transaction commits); processes look at that version at most
every ``CHECK_SECONDS`` and drop their entries when it moved, so a product that sells
out stops being recommended within seconds. Entries are capped per process.
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


def version_key() -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:catalogue-version"


class CatalogueCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[object, bool]] = {}
        self._version: str | None = None
        self._checked_at = 0.0

    def _check_version(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < CHECK_SECONDS:
            return
        self._checked_at = now
        try:
            version = client().get(version_key())
        except redis.RedisError:
            version = None  # keep what we have; serving copes without Redis elsewhere
        if version != self._version:
            self._entries, self._version = {}, version

    def lookup(self, ids: list[str]) -> dict[str, tuple[object, bool]]:
        """id -> (product, available to buy) for the public products among ``ids``."""
        with self._lock:
            self._check_version()
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

    def clear(self) -> None:
        with self._lock:
            self._entries, self._checked_at = {}, 0.0


catalogue = CatalogueCache()


def _bump() -> None:
    try:
        client().incr(version_key())
    except redis.RedisError:
        pass  # serving drops its entries within MAX age anyway when Redis returns


@receiver([post_save, post_delete], sender=Product, dispatch_uid="recommender.product_changed")
@receiver([post_save, post_delete], sender=StockRecord, dispatch_uid="recommender.stock_changed")
def catalogue_changed(sender, **kwargs) -> None:
    transaction.on_commit(_bump)
    catalogue.clear()  # this process knows at once
