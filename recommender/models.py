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
