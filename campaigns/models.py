"""The outbox (one row per message to one customer) and the suppression list.

Every message the store sends a customer is a ``Message`` first, created in the same
transaction as the fact that causes it, under a unique ``key`` that says what it is for
(``order-status:<order id>:<status>:<n>``, later ``flow-step:<step>:<person>:<window>`` and
``broadcast:<id>:<person>``): creating it twice keeps one row, and a row is sent at most
once by the claim in ``campaigns.outbox``. Flows, broadcasts and their designs point at
their messages through ``source_kind``/``source_id`` (see docs/campaigns.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Message(models.Model):
    TRANSACTIONAL, MARKETING = "transactional", "marketing"
    KINDS = [(TRANSACTIONAL, "Transactional"), (MARKETING, "Marketing")]
    EMAIL, SMS = "email", "sms"
    CHANNELS = [(EMAIL, "E-mail"), (SMS, "SMS")]

    QUEUED, SENDING, SENT, SKIPPED, DEAD = "queued", "sending", "sent", "skipped", "dead"
    STATUSES = [(QUEUED, "Queued"), (SENDING, "Sending"), (SENT, "Sent"),
                (SKIPPED, "Not sent (policy)"), (DEAD, "Dead letter")]

    key = models.CharField(max_length=255, unique=True,
                           help_text="what the message is for; one message per key, ever")
    source_kind = models.CharField(max_length=30, help_text="order-status, flow-step, broadcast, ...")
    source_id = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=40, blank=True, db_index=True,
                                help_text='what results are counted under: "flow:<id>", "broadcast:<id>"; '
                                          'blank for transactional notices')
    kind = models.CharField(max_length=15, choices=KINDS)
    channel = models.CharField(max_length=10, choices=CHANNELS, default=EMAIL)
    topic = models.CharField(max_length=50, blank=True, help_text="the consent topic a marketing message needs")
    person_key = models.CharField(max_length=254, db_index=True, help_text="the customer (ecrm's person key)")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    to_email = models.EmailField(max_length=254, blank=True, help_text="e-mail messages")
    to_phone = models.CharField(max_length=40, blank=True, help_text="SMS messages: the number, with its +country code")
    template = models.CharField(max_length=128, help_text="Oscar communication event type code")
    context = models.JSONField(default=dict, blank=True, help_text="ids the template is rendered with at send time")

    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    due_at = models.DateTimeField(default=timezone.now, help_text="not sent before this")
    deferred_because = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="last handed to a worker")
    claim = models.CharField(max_length=36, blank=True, help_text="the worker attempt holding it")
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    subject = models.CharField(max_length=255, blank=True, help_text="as sent")
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True, help_text="the Message-ID header")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_event = models.CharField(max_length=20, blank=True, help_text="latest from the ESP: delivered, bounced, ...")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="campaigns_msg_due"),
                   models.Index(fields=["person_key", "kind", "sent_at"], name="campaigns_msg_cap")]
        permissions = [("retry_message", "Can send a dead letter again")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.template} to {self.to_email} ({self.status})"


class Suppression(models.Model):
    """An address the store must not e-mail: after a bounce (hard: nothing at all), a spam
    complaint or a refusal by the provider (marketing only)."""

    BOUNCED, COMPLAINED, REJECTED, MANUAL = "bounced", "complained", "rejected", "manual"
    REASONS = [(BOUNCED, "Bounced"), (COMPLAINED, "Complained (spam report)"),
               (REJECTED, "Rejected by the provider"), (MANUAL, "Added by staff")]

    email = models.EmailField(max_length=254, unique=True, help_text="lower case")
    reason = models.CharField(max_length=12, choices=REASONS)
    blocks_transactional = models.BooleanField(default=False, help_text="hard bounces: the address does not exist")
    detail = models.TextField(blank=True)
    event = models.JSONField(default=dict, blank=True, help_text="the webhook's event as received")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class ContactPreference(models.Model):
    """The customer's own limits on marketing, from the preference centre: how often at most
    (never more often than the store's frequency cap), and a pause. Topics and channels are
    the consent ledger's (ecrm)."""

    DEFAULT, WEEKLY, MONTHLY = "default", "weekly", "monthly"
    FREQUENCIES = [(DEFAULT, "As often as there is news"), (WEEKLY, "At most once a week"),
                   (MONTHLY, "At most once a month")]
    FREQUENCY_HOURS = {DEFAULT: 0, WEEKLY: 7 * 24, MONTHLY: 30 * 24}

    person_key = models.CharField(max_length=254, unique=True)
    frequency = models.CharField(max_length=10, choices=FREQUENCIES, default=DEFAULT)
    paused_until = models.DateTimeField(null=True, blank=True, help_text="no marketing before this")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.person_key}: {self.frequency}"


class HoldoutMember(models.Model):
    """A customer a campaign left out on purpose: the comparison group for its lift.

    Chosen by ``campaigns.holdout.in_holdout`` (a stable hash of campaign and person, so the
    same customer stays in or out of a campaign's holdout every time it fires). One row per
    firing the customer would otherwise have been messaged for (``window``, as in the outbox
    key), with the moment it happened: conversions are counted from ``at`` within the
    attribution window, exactly as for a sent message.
    """

    campaign = models.CharField(max_length=40, help_text='"flow:<id>" or "broadcast:<id>"')
    person_key = models.CharField(max_length=254)
    window = models.CharField(max_length=120, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person_key", "window"],
                                               name="campaigns_holdout_once")]
        indexes = [models.Index(fields=["person_key"], name="campaigns_holdout_person")]

    def __str__(self) -> str:
        return f"{self.person_key} held out of {self.campaign} ({self.window or 'once'})"


from campaigns.flow_models import *  # noqa: F401,F403,E402
from campaigns.designs_models import *  # noqa: F401,F403,E402
from campaigns.trigger_models import *  # noqa: F401,F403,E402
from campaigns.broadcast_models import *  # noqa: F401,F403,E402
