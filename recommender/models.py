"""The recommender's tables: trained model versions (the models themselves are files) and the
merchandisers' rules for serving (repeat-purchase policy per product class, pins and bans)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ModelVersion(models.Model):
    """One training run: where its files are, what it learned from, how it scored, and
    whether it is the one being served."""

    TRAINED, SERVING, RETIRED, REJECTED, FAILED = "trained", "serving", "retired", "rejected", "failed"
    STATUSES = [(TRAINED, "Trained"), (SERVING, "Serving"), (RETIRED, "Retired"),
                (REJECTED, "Rejected (worse than the serving version)"), (FAILED, "Failed")]

    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=STATUSES, default=TRAINED, db_index=True)
    path = models.CharField(max_length=500, blank=True)
    interactions = models.PositiveIntegerField(default=0)
    users = models.PositiveIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    chosen = models.JSONField(default=dict, blank=True, help_text="the configurations tuning chose")
    metrics = models.JSONField(default=dict, blank=True, help_text="validation metrics of every candidate")
    seconds = models.FloatField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"v{self.pk} ({self.get_status_display()})"


class Experiment(models.Model):
    """An A/B test of two model versions. Visitors are split by a stable hash of their
    person key and the experiment's id (``recommender.experiments.arm_of``), so each stays
    in one arm; ``variant_share`` percent see the variant, the rest the control. Both
    versions are fixed when the experiment starts, so the arms compare exactly two models
    even if a retrain promotes another version meanwhile. One experiment runs at a time."""

    RUNNING, STOPPED = "running", "stopped"
    STATUSES = [(RUNNING, "Running"), (STOPPED, "Stopped")]

    name = models.CharField(max_length=120)
    control = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    variant_share = models.PositiveSmallIntegerField(default=50, help_text="percent of visitors who see the variant")
    status = models.CharField(max_length=10, choices=STATUSES, default=RUNNING, db_index=True)
    started_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=models.Q(status="running"),
                                    name="one_running_experiment"),
            models.CheckConstraint(condition=models.Q(variant_share__gte=1, variant_share__lte=99),
                                   name="experiment_share_1_to_99"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.control_id} vs v{self.variant_id})"


class RepurchasePolicy(models.Model):
    """Whether a product class's products may be recommended again to someone who bought
    them: consumables (tea, detergent) yes, durables (a kettle) no. Classes without a row
    follow ``RECOMMENDER_REPEATABLE_DEFAULT``."""

    product_class = models.OneToOneField("catalogue.ProductClass", on_delete=models.CASCADE,
                                         related_name="recommender_policy")
    can_be_bought_again = models.BooleanField(
        help_text="Recommend its products again to people who bought them (consumables).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "repeat-purchase policy"
        verbose_name_plural = "repeat-purchase policies"

    def __str__(self) -> str:
        return f"{self.product_class}: {'can' if self.can_be_bought_again else 'cannot'} be bought again"


class MerchandisingRule(models.Model):
    """A merchandiser's pin (show this product first) or ban (never show it), in one slot
    or all, optionally only on one product's page or in one category (and its
    subcategories), optionally for a period."""

    PIN, BAN = "pin", "ban"
    ACTIONS = [(PIN, "Pin to the top"), (BAN, "Ban")]

    action = models.CharField(max_length=3, choices=ACTIONS)
    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    slot = models.CharField(max_length=30, blank=True, help_text="Blank: every slot.")
    on_product = models.ForeignKey(
        "catalogue.Product", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name="only on the page of", help_text="Only where this product is the context "
        "(its page, or in the basket for “complete your order”).")
    on_category = models.ForeignKey(
        "catalogue.Category", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name="only in category", help_text="Only for products in this category or below "
        "(or “trending in” it).")
    position = models.PositiveSmallIntegerField(default=1, help_text="For pins: 1 is the first place.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["action", "slot", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.product} in {self.slot or 'every slot'}"

    def status(self, now=None) -> str:
        now = now or timezone.now()
        if self.starts_at and self.starts_at > now:
            return "scheduled"
        if self.ends_at and self.ends_at <= now:
            return "ended"
        return "active"
