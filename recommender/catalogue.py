"""What serving needs to know about products, kept in each process so that a
recommendation call makes no database query once its products have been seen.

Each entry (``Entry``) is a product (with its class and stock records), whether Oscar's
default strategy lets it be bought, its price, its categories and Oscar's manual
``recommended_products``. A save or deletion of a product, stock record, product
category or product recommendation appends the product's id to a change log in Redis
(after the transaction commits); processes read the log's new entries at most every
``CHECK_SECONDS`` and drop just those products, so a product that sells out stops being
recommended within seconds while the rest of the cache stays warm (orders change stock
all the time). A process that fell behind the log's retained length starts afresh.
Entries are capped per process.

The log is shared: other per-process caches (``recommender.rules``) follow it with a
``ChangeFollower`` of their own and react to the entries meant for them; a change to a
category appends ``*``, after which every cache starts afresh.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import NamedTuple

import redis
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from oscar.core.loading import get_class, get_model

from recommender.defaults import setting
from recommender.publish import client

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
ProductCategory = get_model("catalogue", "ProductCategory")
Category = get_model("catalogue", "Category")
ProductRecommendation = get_model("catalogue", "ProductRecommendation")
Selector = get_class("partner.strategy", "Selector")
CHECK_SECONDS = 2.0
MAX_ENTRIES = 20_000
LOG_LENGTH = 10_000
RESET = None  # what ChangeFollower.poll returns when a cache must start afresh
EVERYTHING = "*"  # a change log entry that makes every cache start afresh (categories moved)


class Entry(NamedTuple):
    product: object | None  # None: unknown or not public
    available: bool  # Oscar's strategy lets it be bought now
    price: Decimal | None = None  # excluding tax, as the strategy prices it; None: no price
    category: str = ""  # its first category's name: what training and "popular in category" use
    category_paths: tuple[str, ...] = ()  # tree paths of its categories (a rule on a parent matches)
    product_class_id: int | None = None  # a child's is its parent's
    manual: tuple[str, ...] = ()  # Oscar's recommended_products, highest ranking first
    url: str = ""  # its page (``get_absolute_url``, a URL reversal: made once, not on every link)


MISSING = Entry(None, False)


def changes_key() -> str:
    """A Redis list of changes (product ids, or a cache's own marker such as ``rules``);
    its ``:count`` counts every append ever made."""
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:catalogue-changes"


class ChangeFollower:
    """One cache's place in the change log: ``poll()`` returns the entries appended since
    its last look (at most every ``CHECK_SECONDS``), ``[]`` when there is nothing new or it
    is too early, and ``RESET`` when the cache must start afresh (first look, fell behind,
    log reset)."""

    def __init__(self):
        self.seen: int | None = None
        self.checked_at = 0.0

    def poll(self) -> list[str] | None:
        now = time.monotonic()
        if now - self.checked_at < CHECK_SECONDS:
            return []
        self.checked_at = now
        try:
            total = int(client().get(changes_key() + ":count") or 0)
            if self.seen is None or total - self.seen > LOG_LENGTH or total < self.seen:
                self.seen = total
                return RESET
            changed = client().lrange(changes_key(), -(total - self.seen), -1) if total > self.seen else []
            self.seen = total
            return RESET if EVERYTHING in changed else changed
        except redis.RedisError:
            return []  # keep what we have; serving copes without Redis elsewhere

    def reset(self) -> None:
        self.seen, self.checked_at = None, 0.0


def log_change(*entries) -> None:
    """Append to the change log now (callers in a transaction use ``on_commit``)."""
    try:
        pipe = client().pipeline(transaction=True)
        pipe.rpush(changes_key(), *map(str, entries)).ltrim(changes_key(), -LOG_LENGTH, -1)
        pipe.incrby(changes_key() + ":count", len(entries)).execute()
    except redis.RedisError:
        pass  # Redis is down: serving is down too, and starts afresh when it returns


def _price(info) -> Decimal | None:
    price = info.price
    return price.excl_tax if getattr(price, "exists", False) else None


def _load(ids: list[str]) -> dict[str, Entry]:
    """Entries for ``ids`` from the database (four queries whatever their number)."""
    strategy = Selector().strategy()
    products = list(Product.objects.filter(pk__in=ids, is_public=True).select_related(
        "product_class", "parent__product_class").prefetch_related("stockrecords"))
    owners = {p.pk: p.parent_id or p.pk for p in products}  # a child is filed under its parent
    categories: dict[int, list[tuple[str, str]]] = {}
    for product_id, name, path in ProductCategory.objects.filter(product_id__in=set(owners.values())).order_by(
            "pk").values_list("product_id", "category__name", "category__path"):
        categories.setdefault(product_id, []).append((name, path))
    manual: dict[int, list[str]] = {}
    for primary, recommended in ProductRecommendation.objects.filter(primary_id__in=owners).order_by(
            "primary_id", "-ranking", "pk").values_list("primary_id", "recommendation_id"):
        manual.setdefault(primary, []).append(str(recommended))
    loaded = {}
    for product in products:
        info = strategy.fetch_for_parent(product) if product.is_parent else strategy.fetch_for_product(product)
        cats = categories.get(owners[product.pk], [])
        product_class = product.get_product_class()
        loaded[str(product.pk)] = Entry(
            product, info.availability.is_available_to_buy, _price(info), cats[0][0] if cats else "",
            tuple(path for _name, path in cats), product_class.pk if product_class else None,
            tuple(manual.get(product.pk, ())), product.get_absolute_url())
    return {i: loaded.get(i, MISSING) for i in ids}  # unknown and hidden ids are remembered too


class CatalogueCache:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._follower = ChangeFollower()

    def _apply_changes(self) -> None:
        changed = self._follower.poll()
        if changed is RESET:
            self._entries = {}
        for product_id in changed or ():
            self._entries.pop(product_id, None)

    def details(self, ids: list[str]) -> dict[str, Entry]:
        """id -> ``Entry`` for ``ids`` (``MISSING`` for unknown and hidden ones)."""
        with self._lock:
            self._apply_changes()
            entries = self._entries
        missing = [i for i in ids if i not in entries]
        if missing:
            loaded = _load(missing)
            with self._lock:
                if len(self._entries) + len(loaded) > MAX_ENTRIES:
                    self._entries = {}
                self._entries.update(loaded)
                entries = self._entries
        return {i: entries[i] for i in ids if i in entries}

    def lookup(self, ids: list[str]) -> dict[str, tuple[object, bool]]:
        """id -> (product, available to buy) for the public products among ``ids``."""
        return {i: (e.product, e.available) for i, e in self.details(ids).items()}

    def forget(self, product_ids) -> None:
        with self._lock:
            for product_id in product_ids:
                self._entries.pop(str(product_id), None)

    def clear(self) -> None:
        with self._lock:
            self._entries = {}
            self._follower.reset()


catalogue = CatalogueCache()


def _log_change(product_id) -> None:
    log_change(product_id)


def _changed(ids) -> None:
    ids = set(ids) - {None}
    for changed in ids:
        transaction.on_commit(lambda changed=changed: log_change(changed))
    catalogue.forget(ids)  # this process knows at once


@receiver([post_save, post_delete], sender=Product, dispatch_uid="recommender.product_changed")
@receiver([post_save, post_delete], sender=StockRecord, dispatch_uid="recommender.stock_changed")
def catalogue_changed(sender, instance, **kwargs) -> None:
    product_id = instance.pk if sender is Product else instance.product_id
    # A child's change also changes its parent's availability.
    _changed({product_id, getattr(instance, "parent_id", None) if sender is Product else None})


@receiver([post_save, post_delete], sender=ProductCategory, dispatch_uid="recommender.product_category_changed")
def product_category_changed(sender, instance, **kwargs) -> None:
    _changed({instance.product_id})  # (a variant reads its parent's categories when it is next loaded)


@receiver([post_save, post_delete], sender=Category, dispatch_uid="recommender.category_changed")
def category_changed(sender, instance, **kwargs) -> None:
    """A category renamed, moved or deleted changes the names and tree paths that entries and
    rules hold: every process starts afresh (categories change rarely)."""
    transaction.on_commit(lambda: log_change(EVERYTHING))
    catalogue.clear()


@receiver([post_save, post_delete], sender=ProductRecommendation,
          dispatch_uid="recommender.product_recommendation_changed")
def product_recommendation_changed(sender, instance, **kwargs) -> None:
    _changed({instance.primary_id})
