"""Tracking's tables: write keys, the append-only event log and the quarantine."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone


class WriteKey(models.Model):
    """A key an SDK sends as the HTTP basic-auth user name. Only its hash is stored."""

    SERVER, BROWSER = "server", "browser"
    KINDS = [(SERVER, "Server (may send any call)"), (BROWSER, "Browser (public)")]

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=KINDS, default=SERVER)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    public_value = models.CharField(
        max_length=64, blank=True,
        help_text="Browser keys only: they are public, shown in every page, so kept readable.")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def generate(cls, *, name: str, kind: str = SERVER) -> tuple["WriteKey", str]:
        raw = secrets.token_urlsafe(24)
        key = cls.objects.create(name=name, kind=kind, prefix=raw[:8], key_hash=cls.hash(raw),
                                 public_value=raw if kind == cls.BROWSER else "")
        return key, raw

    @classmethod
    def storefront_key(cls) -> str:
        """The browser key the store's pages use, created on first use."""
        key = cls.objects.filter(kind=cls.BROWSER, revoked_at__isnull=True).exclude(
            public_value="").order_by("created_at").first()
        if key is None:
            key, _raw = cls.generate(name="Storefront (browser)", kind=cls.BROWSER)
        return key.public_value

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Event(models.Model):
    """One Segment call, as stored. Append-only: nothing updates or deletes rows but the
    retention purge."""

    message_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=10)  # track, identify, page, ...
    event = models.CharField(max_length=200, blank=True)  # track's event name
    name = models.CharField(max_length=200, blank=True)  # page/screen name
    anonymous_id = models.CharField(max_length=100, blank=True)
    user_id = models.CharField(max_length=100, blank=True)
    session_id = models.CharField(max_length=100, blank=True, db_index=True)
    timestamp = models.DateTimeField(db_index=True, help_text="When it happened, skew-corrected.")
    received_at = models.DateTimeField()
    source = models.CharField(max_length=10)  # server, browser, api
    write_key = models.ForeignKey(WriteKey, null=True, blank=True, on_delete=models.SET_NULL)
    context = models.JSONField(default=dict, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    stored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Every index costs each insert (the consumer's hot path): only those queries use.
        # A person's or visitor's history, an event's occurrences over time (funnels).
        indexes = [models.Index(fields=["user_id", "timestamp"]),
                   models.Index(fields=["anonymous_id", "timestamp"]),
                   models.Index(fields=["event", "timestamp"])]

    def __str__(self) -> str:
        return f"{self.type} {self.event or self.name} {self.message_id}"


class QuarantinedEvent(models.Model):
    """An accepted message that could not be stored, kept with the reason for replay."""

    message_id = models.CharField(max_length=100, blank=True, db_index=True)
    payload = models.JSONField()
    reason = models.TextField()
    quarantined_at = models.DateTimeField(default=timezone.now)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-quarantined_at"]


class Session(models.Model):
    """A visit: 30 minutes of inactivity or a new campaign ends it."""

    key = models.CharField(max_length=40, unique=True)
    visitor = models.CharField(max_length=100, db_index=True, help_text="anonymous id, or user id")
    user_id = models.CharField(max_length=100, blank=True, db_index=True)
    started_at = models.DateTimeField(db_index=True)
    last_event_at = models.DateTimeField()
    entry_path = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=100, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    campaign = models.CharField(max_length=200, blank=True)
    referrer_domain = models.CharField(max_length=200, blank=True)
    search_terms = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=10, blank=True,
                              help_text="desktop, mobile or tablet, from the first user agent seen")
    page_count = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    converted = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["visitor", "-last_event_at"])]

    @property
    def duration(self):
        return self.last_event_at - self.started_at


class IdentityLink(models.Model):
    """An edge of the identity graph: this anonymous id (or earlier user id) is this person.

    History is never rewritten: a person's events are those with their user id or
    any anonymous id linked to it.
    """

    ANONYMOUS, ALIAS, EMAIL = "anonymous", "alias", "email"
    KINDS = [(ANONYMOUS, "Anonymous id"), (ALIAS, "Earlier user id (alias)"),
             (EMAIL, "Guest checkout e-mail")]

    kind = models.CharField(max_length=10, choices=KINDS)
    identifier = models.CharField(max_length=254)
    user_id = models.CharField(max_length=254, db_index=True)
    first_seen_at = models.DateTimeField()
    via = models.CharField(max_length=30, help_text="the call that linked them: identify, alias, ...")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "identifier", "user_id"],
                                               name="tracking_identity_link_unique")]
