"""Move events from the Redis stream into the database, exactly once.

Consumers read through a consumer group. An entry is acknowledged only after
the transaction that stores it has committed, so a consumer that dies
mid-batch leaves its entries pending; any consumer re-claims entries idle
for longer than ``TRACKING_CLAIM_IDLE_MS`` and stores them again, and the
unique ``message_id`` makes the second insert a no-op.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import zlib
from datetime import datetime
from functools import lru_cache

import redis
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from tracking.defaults import setting
from tracking.graph import BatchIdentities, link_identities, sessionise
from tracking.models import Event, QuarantinedEvent, WriteKey
from tracking.signals import events_stored
from tracking.stream import client, shard_streams

logger = logging.getLogger(__name__)

ADVISORY_LOCK_NAMESPACE = 0x7E43  # keeps our advisory locks apart from other applications
EVENT_FIELDS = ("message_id", "type", "event", "name", "anonymous_id", "user_id",
                "context", "properties", "traits", "source", "write_key_id")


def ensure_group(stream: str | None = None, shards: list[int] | None = None) -> None:
    for key in shard_streams(stream, shards):
        try:
            client().xgroup_create(key, setting("TRACKING_CONSUMER_GROUP"), id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def to_event(payload: dict) -> Event:
    values = {field: payload.get(field) for field in EVENT_FIELDS}
    values["timestamp"] = datetime.fromisoformat(payload["timestamp"])
    values["received_at"] = datetime.fromisoformat(payload["received_at"])
    values["stored_at"] = values["received_at"]  # set when written; skips the default's clock call
    values["session_id"] = str(payload.get("context", {}).get("sessionId", ""))[:100]
    for text in ("event", "name", "anonymous_id", "user_id"):
        values[text] = values[text] or ""
    # Positional, in the model's field order: Django's keyword path costs twice as much
    # (~13 ms of a 2,000-event batch against ~6).
    return Event(*[values.get(name) for name in _event_attnames()])


@lru_cache(maxsize=1)
def _event_attnames() -> list[str]:
    return [f.attname for f in Event._meta.concrete_fields]  # the primary key first: None


@lru_cache(maxsize=4)
def _bot_pattern(expression: str) -> re.Pattern:
    return re.compile(expression, re.IGNORECASE)


def is_bot(payload: dict) -> bool:
    """Browser and API events whose user agent is a robot are not stored."""
    if payload.get("source") == "server":
        return False  # the server's own facts (an order) are real whoever fetched the page
    agent = str(payload.get("context", {}).get("userAgent", ""))
    return bool(agent) and _agent_is_bot(setting("TRACKING_BOT_USER_AGENTS"), agent)


@lru_cache(maxsize=4096)
def _agent_is_bot(expression: str, agent: str) -> bool:
    """Cached per user agent: a batch's 2,000 events come from far fewer browsers, and the
    robots' pattern (dozens of alternatives) cost ~5 µs an event, ~10 ms a batch."""
    return bool(_bot_pattern(expression).search(agent))


def _new_only(events: list[Event]) -> list[Event]:
    """Drop repeats (an SDK's retry, a re-claimed entry) before they touch sessions."""
    ids = [e.message_id for e in events]
    if connection.vendor == "postgresql":  # one array parameter rather than 2,000 placeholders
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT message_id FROM {Event._meta.db_table} WHERE message_id = ANY(%s)", [ids])
            seen = {row[0] for row in cursor.fetchall()}
    else:
        seen = set(Event.objects.filter(message_id__in=ids).values_list("message_id", flat=True))
    fresh = []
    for event in events:
        if event.message_id not in seen:
            seen.add(event.message_id)
            fresh.append(event)
    return fresh


def parse(entries: list[tuple[bytes, dict]]) -> tuple[list[tuple[Event, dict]], list[QuarantinedEvent]]:
    """Stream entries as (event, payload) pairs, robots left out, and those that cannot
    become an event as quarantine rows."""
    parsed, quarantined = [], []
    for _entry_id, fields in entries:
        raw, payload = fields.get(b"m", b""), None
        try:
            payload = json.loads(raw)
            if not is_bot(payload):
                parsed.append((to_event(payload), payload))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            quarantined.append(_quarantine(payload, raw, exc))
    return parsed, quarantined


def store(entries: list[tuple[bytes, dict]]) -> None:
    """Store stream entries (a ``message_id`` already stored is skipped); quarantine those
    that cannot be stored, with the reason, so that one bad entry never blocks the stream."""
    parsed, quarantined = parse(entries)
    store_events(parsed, quarantine=quarantined)


def store_events(parsed: list[tuple[Event, dict]], *, quarantine=(),
                 save_refused: bool = True) -> list[QuarantinedEvent]:
    """Store events with their identities and sessions, in one transaction with the
    ``quarantine`` rows given. Returns quarantine rows for the events the database
    refused, saved unless ``save_refused`` is false (a replay updates its own rows)."""
    _forget_deleted_write_keys([event for event, _ in parsed])
    try:
        with transaction.atomic():
            _write([event for event, _ in parsed])
            QuarantinedEvent.objects.bulk_create(list(quarantine))
        return []
    except DatabaseError:
        # Something in the batch breaks a constraint: store what can be stored, one by one.
        logger.exception("batch of %d events failed; storing one by one", len(parsed))
    refused = []
    for event, payload in parsed:
        try:
            with transaction.atomic():
                _write([event], bulk_copy=False)
        except DatabaseError as exc:
            refused.append(_quarantine(payload, b"", exc))
    QuarantinedEvent.objects.bulk_create([*quarantine, *(refused if save_refused else [])])
    return refused


def _write(events: list[Event], *, bulk_copy: bool = True) -> None:
    """Inside a transaction: serialise per visitor, then keep only new events and store them."""
    lock_visitors({e.anonymous_id or e.user_id for e in events})
    events = _new_only(events)
    link_identities(events)
    sessionise(events)
    stored_at = timezone.now()  # for the pipeline's acceptance-to-stored latency
    for event in events:
        event.stored_at = stored_at
    if bulk_copy and connection.vendor == "postgresql":
        _copy(events)
    else:
        Event.objects.bulk_create(events, ignore_conflicts=True, batch_size=500)
    if events:
        for receiver_function, result in events_stored.send_robust(
                sender=Event, events=events, identities=BatchIdentities(events)):
            if isinstance(result, Exception):
                logger.error("%s failed on %d stored events", receiver_function, len(events),
                             exc_info=result)


def _copy(events: list[Event]) -> None:
    """PostgreSQL's COPY: several times faster than a multi-row INSERT for a batch of events.

    No ``ON CONFLICT`` here: repeats were dropped under the visitors' locks, and should
    two visitors share a ``message_id`` the batch fails and is stored one by one with
    ``INSERT ... ON CONFLICT DO NOTHING``.
    """
    fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
    # Values as COPY's text format takes them: JSON as its text, the rest as they are.
    as_json = [isinstance(f, models.JSONField) for f in fields]
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for event in events:
            copy.write_row([json.dumps(getattr(event, name)) if is_json else getattr(event, name)
                            for name, is_json in zip(attnames, as_json)])


def lock_visitors(visitors: set[str]) -> None:
    """Take a transaction-scoped PostgreSQL advisory lock per visitor, in a fixed order.

    Two consumers handling the same visitor at the same moment would otherwise both
    read the same open session and one's counts would be lost, or both insert an event
    they each saw as new. (SQLite serialises writers by itself.)
    """
    if connection.vendor != "postgresql" or not visitors:
        return
    keys = sorted({(ADVISORY_LOCK_NAMESPACE << 32) | zlib.crc32(v.encode()) for v in visitors if v})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [keys])


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


def heap_freeze() -> None:
    """Leave everything loaded so far (Django, Oscar, Wagtail, every app's modules: about a
    million objects) out of the garbage collector's full collections, for a long-running
    consumer. Each 2,000-event batch allocates enough (events, their JSON, sessions) to set
    off a full collection, which walked that whole heap: ~120 ms of CPU a batch, a third of
    the consumer's time (``bench/run.py --only pipeline_phases``). After ``gc.freeze()`` a
    full collection walks only what was allocated since. Objects loaded later are collected
    as usual; the frozen ones are never freed, which for modules and settings they never
    were anyway."""
    gc.collect()
    gc.freeze()


def consume_once(
    consumer: str, *, block_ms: int = 1000, stream: str | None = None, count: int | None = None,
    claim_idle_ms: int | None = None, shards: list[int] | None = None,
) -> int:
    """Claim stale entries, read new ones, store and acknowledge them, from the given shards
    (default: all) of the stream. Returns entries handled."""
    keys = shard_streams(stream, shards)
    group = setting("TRACKING_CONSUMER_GROUP")
    count = max(1, (count or setting("TRACKING_CONSUMER_BATCH")) // len(keys))  # per shard
    if claim_idle_ms is None:
        claim_idle_ms = setting("TRACKING_CLAIM_IDLE_MS")
    redis_client = client()
    entries: list[tuple[str, bytes, dict]] = []
    for key in keys:
        _next, claimed, *_ = redis_client.xautoclaim(
            key, group, consumer, min_idle_time=claim_idle_ms, count=count)
        entries += [(key, entry_id, fields) for entry_id, fields in claimed if fields]
    if not entries:
        response = redis_client.xreadgroup(group, consumer, {key: ">" for key in keys},
                                           count=count, block=block_ms)
        entries = [(name.decode() if isinstance(name, bytes) else name, entry_id, fields)
                   for name, stream_entries in response for entry_id, fields in stream_entries]
    if not entries:
        return 0
    store([(entry_id, fields) for _key, entry_id, fields in entries])
    for key in {key for key, _id, _fields in entries}:
        redis_client.xack(key, group, *[entry_id for k, entry_id, _ in entries if k == key])
        _trim(redis_client, key, group)
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
