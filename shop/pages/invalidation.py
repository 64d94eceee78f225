"""Shared copies of storefront pages are purged as soon as what they show changes.

Anonymous visitors share one copy of each Wagtail page, which a CDN or reverse proxy keeps
for ``SHOP_SHARED_PAGE_MAX_AGE`` seconds (``shop.pages.caching``). With Wagtail's
``wagtail.contrib.frontend_cache`` configured (``WAGTAILFRONTENDCACHE``; the environment's
``FRONTEND_CACHE_PURGE_URL`` sets up its HTTP backend for Varnish, nginx or Squid), Wagtail
purges a page when it is published or unpublished, and this module purges the live pages
that show something edited elsewhere:

* a promotion (snippet), or one of its variants, saved or deleted: the pages whose blocks
  choose it (Wagtail's reference index knows them);
* a product saved or deleted, or a stock record whose price or availability changed (sold
  out, back in stock, repriced): the pages whose product grid chooses it, and every page with
  a block that lists products by a rule (new arrivals, trending, recommendations and their
  popular fallbacks), where any product may come or go; a category saved or deleted: those
  pages and the pages listing categories. An order's stock allocation that leaves the
  product in stock at the same price purges nothing, so a busy store keeps its cache.

Purges leave after the transaction commits (a proxy refetching earlier would store the old
page again), and the changes of one transaction make one purge. They go through Wagtail's
purge task (django-tasks): run at once by default, or from a worker when ``TASKS`` names a
queued backend. Without a frontend cache configured, nothing here queries anything.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from oscar.core.loading import get_model
from wagtail.contrib.frontend_cache.utils import PurgeBatch
from wagtail.models import Page, ReferenceIndex

from recommender.wagtail_blocks import RecommendationsBlock
from shop.pages.blocks import (CategoryLinksBlock, NewArrivalsBlock, NewArrivalsForYouBlock, SlotBlock,
                               TrendingBlock)
from shop.pages.models import ContentPage, HomePage, LandingPage, Promotion, PromotionVariant

Product = get_model("catalogue", "Product")
StockRecord = get_model("partner", "StockRecord")
Category = get_model("catalogue", "Category")

#: Blocks whose products follow the catalogue (any product may appear or go).
PRODUCT_LISTS = (SlotBlock, TrendingBlock, NewArrivalsForYouBlock, NewArrivalsBlock, RecommendationsBlock)
#: Blocks that list the catalogue's categories.
CATEGORY_LISTS = (CategoryLinksBlock, TrendingBlock)
PAGE_MODELS = (HomePage, LandingPage, ContentPage)

_pending = threading.local()  # a thread's changes not yet purged: Django's connections are per thread too


def purging() -> bool:
    """Whether a frontend cache is configured to purge (Wagtail's two settings)."""
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None)
                or getattr(settings, "WAGTAILFRONTENDCACHE_LOCATION", None))


def pages_choosing(objects) -> set[int]:
    """The ids of the pages whose content chooses one of ``objects`` ((model, pk) pairs), from
    Wagtail's reference index (which keeps a deleted object's inbound references)."""
    by_model: dict[type, set[str]] = {}
    for model, pk in objects:
        by_model.setdefault(model, set()).add(str(pk))
    if not by_model:
        return set()
    page_type = ContentType.objects.get_for_model(Page)
    found = set()
    for model, pks in by_model.items():
        found.update(int(pk) for pk in ReferenceIndex.objects.filter(
            base_content_type=page_type, to_content_type=ContentType.objects.get_for_model(model),
            to_object_id__in=pks).values_list("object_id", flat=True))
    return found


def pages_showing(*, page_ids=(), blocks: tuple = ()) -> list[Page]:
    """The live storefront pages among ``page_ids``, and those holding a block of one of the
    ``blocks`` types."""
    pages = {page.pk: page for page in Page.objects.live().filter(pk__in=set(page_ids)).specific()}
    if blocks:
        for model in PAGE_MODELS:
            for page in model.objects.live().exclude(pk__in=list(pages)):
                kinds = page.body.stream_block.child_blocks
                if any(isinstance(kinds.get(child["type"]), blocks) for child in page.body.raw_data):
                    pages[page.pk] = page
    return list(pages.values())


def _queue(*, objects=(), blocks: tuple = ()) -> None:
    """Note the pages that show what changed; purge them once the transaction commits (at
    once outside one). The pages choosing an object are looked up now, as it may be gone by
    then; the pages holding a kind of block, once, when purging."""
    state = getattr(_pending, "state", None)
    if state is None:
        state = _pending.state = {"page_ids": set(), "blocks": set()}
    state["page_ids"].update(pages_choosing(objects))
    state["blocks"].update(blocks)
    # One callback per change, but the first to run takes everything pending; a rolled-back
    # transaction's changes are purged with the next commit's (a harmless extra purge).
    transaction.on_commit(purge_pending)


def purge_pending() -> None:
    """Purge the pages that show what this thread changed since the last purge."""
    state = _pending.__dict__.pop("state", None)
    if not state:
        return
    pages = pages_showing(page_ids=state["page_ids"], blocks=tuple(state["blocks"]))
    if pages:
        batch = PurgeBatch()
        batch.add_pages(pages)
        batch.purge()


# Deletions are noted before the row goes: Wagtail then drops the references to it.
@receiver([post_save, pre_delete], sender=Promotion, dispatch_uid="shop.pages.promotion_changed")
@receiver([post_save, pre_delete], sender=PromotionVariant, dispatch_uid="shop.pages.promotion_variant_changed")
def promotion_changed(sender, instance, **kwargs) -> None:
    if purging():
        _queue(objects={(Promotion, instance.pk if sender is Promotion else instance.promotion_id)})


@receiver([post_save, pre_delete], sender=Product, dispatch_uid="shop.pages.product_changed")
def product_changed(sender, instance, **kwargs) -> None:
    if purging():
        _queue(objects={(Product, pk) for pk in (instance.pk, instance.parent_id) if pk}, blocks=PRODUCT_LISTS)


def _as_shown(stockrecord) -> tuple:
    """What a page shows of a stock record: its price and whether there is stock to sell."""
    return stockrecord.price, (stockrecord.net_stock_level or 0) > 0


@receiver(pre_save, sender=StockRecord, dispatch_uid="shop.pages.stock_before")
def stock_before(sender, instance, **kwargs) -> None:
    if purging() and instance.pk:
        before = StockRecord.objects.filter(pk=instance.pk).first()
        instance._shown_before = _as_shown(before) if before is not None else None


@receiver([post_save, post_delete], sender=StockRecord, dispatch_uid="shop.pages.stock_changed")
def stock_changed(sender, instance, created=False, **kwargs) -> None:
    if not purging():
        return
    saved = kwargs["signal"] is post_save and not created
    if saved and getattr(instance, "_shown_before", None) == _as_shown(instance):
        return  # an allocation that leaves it in stock at the same price: nothing a page shows
    product = Product.objects.filter(pk=instance.product_id).values_list("pk", "parent_id").first() or ()
    _queue(objects={(Product, pk) for pk in product if pk}, blocks=PRODUCT_LISTS)


@receiver([post_save, post_delete], sender=Category, dispatch_uid="shop.pages.category_changed")
def category_changed(sender, instance, **kwargs) -> None:
    if purging():
        _queue(blocks=PRODUCT_LISTS + CATEGORY_LISTS)
