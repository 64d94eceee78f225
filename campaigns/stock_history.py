"""A product's price and availability over time, kept from Oscar's stock records.

Oscar keeps only the current ``StockRecord``; the price-drop trigger needs the price a
customer saw when they viewed or wishlisted a product, and back-in-stock needs the moment
a product came back. Each save of a stock record that changes its price or moves it between
in and out of stock appends a ``StockSnapshot`` (in the save's transaction); saves that
change neither (an allocation that leaves stock) add nothing.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from oscar.core.loading import get_model

from campaigns.trigger_models import StockSnapshot

StockRecord = get_model("partner", "StockRecord")


def is_available(record) -> bool:
    """In stock as Oscar's default availability policy sees it: a product class that does
    not track stock is always available; else net stock (in stock less allocated) above 0."""
    product_class = record.product.get_product_class()
    if product_class is not None and not product_class.track_stock:
        return True
    return record.num_in_stock is not None and record.num_in_stock - (record.num_allocated or 0) > 0


def snapshot_record(record, *, at=None) -> StockSnapshot | None:
    """Append a snapshot of ``record`` if its price or availability differs from the last one."""
    available = is_available(record)
    last = (StockSnapshot.objects.filter(stockrecord=record).order_by("-recorded_at", "-pk")
            .values("price", "in_stock").first())
    if last and last["price"] == record.price and last["in_stock"] == available:
        return None
    return StockSnapshot.objects.create(product_id=record.product_id, stockrecord=record, price=record.price,
                                        currency=record.price_currency or "", in_stock=available,
                                        recorded_at=at or timezone.now())


@receiver(post_save, sender=StockRecord, dispatch_uid="campaigns.stock_snapshot")
def stock_record_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        snapshot_record(instance)
