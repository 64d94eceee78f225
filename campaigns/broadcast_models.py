"""Broadcasts (one send to a segment, now, later or at a local time) and what their messages
led to: opens (a tracking pixel) and clicks (a signed redirect).

Opens and clicks are facts recorded once per message (a pixel fetched again, or a link
clicked twice, adds nothing); results are counted from them, the outbox and Oscar's orders
in ``campaigns.results`` — no counters kept in requests.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from campaigns.defaults import setting

__all__ = ["Broadcast", "MessageOpen", "MessageClick"]


def _holdout_default() -> float:
    return setting("CAMPAIGNS_HOLDOUT_DEFAULT")


def _attribution_default() -> int:
    return setting("CAMPAIGNS_ATTRIBUTION_DAYS")


class Broadcast(models.Model):
    """One message to every consenting member of a segment: sent now, at ``send_at``, or at
    ``send_at``'s wall-clock time in each recipient's own time zone (``local_time``)."""

    DRAFT, SCHEDULED, SENDING, SENT, CANCELLED = "draft", "scheduled", "sending", "sent", "cancelled"
    STATUSES = [(DRAFT, "Draft"), (SCHEDULED, "Scheduled"), (SENDING, "Sending"), (SENT, "Sent"),
                (CANCELLED, "Cancelled")]

    name = models.CharField(max_length=120)
    segment = models.ForeignKey("ecrm.Segment", on_delete=models.PROTECT, related_name="broadcasts")
    template = models.CharField(max_length=128, help_text='an Oscar e-mail template code, or "design:<slug>"')
    topic = models.CharField(max_length=50, help_text="the consent topic it is sent under (newsletter, offers, ...)")
    send_at = models.DateTimeField(null=True, blank=True, help_text="when; empty until scheduled")
    local_time = models.BooleanField(default=False, help_text="send at send_at's clock time in each "
                                                              "recipient's own time zone")
    holdout_share = models.FloatField(default=_holdout_default, help_text="0..1 of the audience left out")
    attribution_days = models.PositiveSmallIntegerField(default=_attribution_default)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0, help_text="for ROI")
    status = models.CharField(max_length=10, choices=STATUSES, default=DRAFT)

    fanout_at = models.DateTimeField(null=True, blank=True, help_text="when the tick creates the messages")
    fanout_cursor = models.BigIntegerField(default=0, help_text="last profile id fanned out (resume point)")
    fanout_done_at = models.DateTimeField(null=True, blank=True)
    audience = models.PositiveIntegerField(default=0, help_text="consenting members fanned out so far")
    held_out = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "fanout_at"], name="campaigns_broadcast_due")]
        permissions = [("view_campaign_results", "Can view campaign results")]

    def __str__(self) -> str:
        return self.name

    @property
    def campaign(self) -> str:
        """What its messages and holdout are counted under."""
        return f"broadcast:{self.pk}"


class _Engagement(models.Model):
    person_key = models.CharField(max_length=254, db_index=True)
    campaign = models.CharField(max_length=40, db_index=True)
    at = models.DateTimeField(default=timezone.now)
    automated = models.BooleanField(default=False, help_text="the user agent was a known mail proxy or scanner")

    class Meta:
        abstract = True


class MessageOpen(_Engagement):
    """The first time a message's pixel was fetched (a mail client showing its images)."""

    message = models.OneToOneField("campaigns.Message", on_delete=models.CASCADE, related_name="opened")


class MessageClick(_Engagement):
    """The first click on one link of a message."""

    message = models.ForeignKey("campaigns.Message", on_delete=models.CASCADE, related_name="clicks")
    url = models.URLField(max_length=2000)
    url_hash = models.CharField(max_length=16)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "url_hash"], name="campaigns_click_once")]
