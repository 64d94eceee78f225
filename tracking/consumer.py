"""Move events from the Redis stream into the database, exactly once.

Consumers read through a consumer group. An entry is acknowledged only after
the transaction that stores it has committed, so a consumer that dies
mid-batch leaves its entries pending; any consumer re-claims entries idle
for longer than ``TRACKING_CLAIM_IDLE_MS`` and stores them again, and the
unique ``message_id`` makes the second insert a no-op.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from functools import lru_cache

import redis
from django.db import DatabaseError, transaction

from tracking.defaults import setting
from tracking.graph import link_identities, sessionise
from tracking.models import Event, QuarantinedEvent, WriteKey
from tracking.stream import client

logger = logging.getLogger(__name__)

EVENT_FIELDS = ("message_id", "type", "event", "name", "anonymous_id", "user_id",
                "context", "properties", "traits", "source", "write_key_id")


def ensure_group(stream: str | None = None) -> None:
    try:
        client().xgroup_create(stream or setting("TRACKING_STREAM"),
                               setting("TRACKING_CONSUMER_GROUP"), id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def to_event(payload: dict) -> Event:
    values = {field: payload.get(field) for field in EVENT_FIELDS}
    values["timestamp"] = datetime.fromisoformat(payload["timestamp"])
    values["received_at"] = datetime.fromisoformat(payload["received_at"])
    values["session_id"] = str(payload.get("context", {}).get("sessionId", ""))[:100]
    for text in ("event", "name", "anonymous_id", "user_id"):
        values[text] = values[text] or ""
    return Event(**values)


@lru_cache(maxsize=4)
def _bot_pattern(expression: str) -> re.Pattern:
    return re.compile(expression, re.IGNORECASE)


def is_bot(payload: dict) -> bool:
    """Browser and API events whose user agent is a robot are not stored."""
    if payload.get("source") == "server":
        return False  # the server's own facts (an order) are real whoever fetched the page
    agent = str(payload.get("context", {}).get("userAgent", ""))
    return bool(agent) and bool(_bot_pattern(setting("TRACKING_BOT_USER_AGENTS")).search(agent))


def _new_only(events: list[Event]) -> list[Event]:
    """Drop repeats (an SDK's retry, a re-claimed entry) before they touch sessions."""
    seen = set(Event.objects.filter(message_id__in=[e.message_id for e in events])
               .values_list("message_id", flat=True))
    fresh = []
    for event in events:
        if event.message_id not in seen:
            seen.add(event.message_id)
            fresh.append(event)
    return fresh


def store(entries: list[tuple[bytes, dict]]) -> None:
    """Store stream entries (a ``message_id`` already stored is skipped); quarantine those
    that cannot be stored, with the reason, so that one bad entry never blocks the stream."""
    parsed, quarantined = [], []
    for _entry_id, fields in entries:
        raw, payload = fields.get(b"m", b""), None
        try:
            payload = json.loads(raw)
            if not is_bot(payload):
                parsed.append((to_event(payload), payload))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            quarantined.append(_quarantine(payload, raw, exc))
    _forget_deleted_write_keys([event for event, _ in parsed])
    fresh = {id(event) for event in _new_only([event for event, _ in parsed])}
    parsed = [(event, payload) for event, payload in parsed if id(event) in fresh]
    try:
        with transaction.atomic():
            _write([event for event, _ in parsed])
            QuarantinedEvent.objects.bulk_create(quarantined)
    except DatabaseError:
        # Something in the batch breaks a constraint: store what can be stored, one by one.
        logger.exception("batch of %d events failed; storing one by one", len(parsed))
        for event, payload in parsed:
            try:
                with transaction.atomic():
                    _write([event])
            except DatabaseError as exc:
                quarantined.append(_quarantine(payload, b"", exc))
        QuarantinedEvent.objects.bulk_create(quarantined)


def _write(events: list[Event]) -> None:
    link_identities(events)
    sessionise(events)
    Event.objects.bulk_create(events, ignore_conflicts=True, batch_size=500)


def _quarantine(payload, raw: bytes, exc: Exception) -> QuarantinedEvent:
    is_message = isinstance(payload, dict)
    return QuarantinedEvent(
        message_id=str(payload.get("message_id", ""))[:100] if is_message else "",
        payload=payload if is_message else {"raw": raw.decode(errors="replace")},
        reason=f"{type(exc).__name__}: {exc}",
    )


def _forget_deleted_write_keys(events: list[Event]) -> None:
    """An event accepted under a key deleted since is still the visitor's event."""
    ids = {e.write_key_id for e in events if e.write_key_id}
    if not ids:
        return
    existing = set(WriteKey.objects.filter(pk__in=ids).values_list("pk", flat=True))
    for event in events:
        if event.write_key_id and event.write_key_id not in existing:
            event.write_key_id = None


def consume_once(
    consumer: str, *, block_ms: int = 1000, stream: str | None = None, count: int | None = None,
    claim_idle_ms: int | None = None,
) -> int:
    """Claim stale entries, read new ones, store and acknowledge them. Returns entries handled."""
    stream = stream or setting("TRACKING_STREAM")
    group = setting("TRACKING_CONSUMER_GROUP")
    count = count or setting("TRACKING_CONSUMER_BATCH")
    if claim_idle_ms is None:
        claim_idle_ms = setting("TRACKING_CLAIM_IDLE_MS")
    redis_client = client()
    _next, claimed, *_ = redis_client.xautoclaim(
        stream, group, consumer, min_idle_time=claim_idle_ms, count=count
    )
    entries = [(entry_id, fields) for entry_id, fields in claimed if fields]
    if not entries:
        response = redis_client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
        entries = [entry for _name, stream_entries in response for entry in stream_entries]
    if not entries:
        return 0
    store(entries)
    redis_client.xack(stream, group, *[entry_id for entry_id, _ in entries])
    _trim(redis_client, stream, group)
    return len(entries)


def _trim(redis_client, stream: str, group: str) -> None:
    """Drop entries every consumer has acknowledged, so the stream does not grow forever.

    Everything older than the oldest unacknowledged entry (or, with none pending, than
    the last delivered one) has been stored. Assumes this group is the stream's only reader.
    """
    pending = redis_client.xpending(stream, group)
    if pending["pending"]:
        floor = pending["min"]
    else:
        groups = {g["name"].decode() if isinstance(g["name"], bytes) else g["name"]: g
                  for g in redis_client.xinfo_groups(stream)}
        floor = groups[group]["last-delivered-id"]
    redis_client.xtrim(stream, minid=floor)
