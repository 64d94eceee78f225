"""Tables the trigger kinds need that Oscar does not keep: a product's price and stock over
time (for price-drop and back-in-stock), and the gift occasions customers tell us about at
checkout (for occasion reminders)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["StockSnapshot", "Occasion"]


class StockSnapshot(models.Model):
    """A product's price and availability from the moment it changed: Oscar keeps only the
    current stock record, and "the price dropped since you looked" needs the price the
    customer saw. A row is written when a stock record is saved with a different price or
    a change between in and out of stock (``campaigns.stock_history``)."""

    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    stockrecord = models.ForeignKey("partner.StockRecord", null=True, on_delete=models.SET_NULL, related_name="+")
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=12, blank=True)
    in_stock = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["product", "recorded_at"], name="campaigns_snapshot_product")]
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"product {self.product_id}: {self.price} {'in' if self.in_stock else 'out of'} stock at {self.recorded_at}"


class Occasion(models.Model):
    """A date a customer buys gifts for ("Mum's birthday, 14 May"), given at checkout or in
    their account: the occasion reminder writes to them shortly before each anniversary."""

    BIRTHDAY, ANNIVERSARY, WEDDING, HOLIDAY, OTHER = "birthday", "anniversary", "wedding", "holiday", "other"
    KINDS = [(BIRTHDAY, "Birthday"), (ANNIVERSARY, "Anniversary"), (WEDDING, "Wedding"),
             (HOLIDAY, "Holiday"), (OTHER, "Other occasion")]

    person_key = models.CharField(max_length=254, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="gift_occasions")
    order = models.ForeignKey("order.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="the order it was given with, if any")
    recipient = models.CharField(max_length=100, help_text="who the gift is for")
    kind = models.CharField(max_length=20, choices=KINDS, default=BIRTHDAY)
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["month", "day"]
        constraints = [models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12, day__gte=1, day__lte=31),
                                              name="campaigns_occasion_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.recipient} ({self.day:02d}/{self.month:02d})"
