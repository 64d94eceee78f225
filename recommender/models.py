"""The recommender's tables: trained model versions (the models themselves are files)."""

from __future__ import annotations

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
