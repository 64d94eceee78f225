"""Writes: record a server-side event."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime

import redis
from django.db import transaction
from django.utils import timezone

from tracking.context import event_time
from tracking.messages import InvalidMessage, normalise

logger = logging.getLogger(__name__)


def event_record(
    *,
    event: str,
    properties: dict,
    user_id: str = "",
    anonymous_id: str = "",
    context: dict | None = None,
    message_id: str | None = None,
    timestamp: datetime | None = None,
    call_type: str = "track",
    traits: dict | None = None,
) -> dict | None:
    """Queue a server-side Segment call once the current transaction commits.

    ``message_id`` makes retries of the same fact (an order placed) collapse into
    one stored event. If Redis cannot take it, the event is stored directly, so a
    server-side event is never dropped.
    """
    if not user_id and not anonymous_id:
        return None  # e.g. consent withheld: nobody to attribute it to
    raw = {
        "type": call_type, "event": event, "userId": user_id or None,
        "anonymousId": anonymous_id or None, "properties": properties, "traits": traits or {},
        "context": context or {}, "messageId": message_id or f"srv-{uuid.uuid4()}",
        "timestamp": (timestamp or event_time.get() or timezone.now()).isoformat(),
    }
    try:
        message = normalise(raw, received_at=timezone.now())
    except InvalidMessage:
        logger.exception("server-side event %r could not be recorded", event)
        return None
    message.update(source="server", write_key_id=None)
    transaction.on_commit(lambda: _append_or_store(message))
    return message


def _append_or_store(message: dict) -> None:
    from tracking.consumer import store
    from tracking.stream import append

    try:
        append([message])
    except redis.RedisError:
        logger.warning("Redis unavailable: storing %s directly", message["message_id"])
        store([(b"direct", {b"m": json.dumps(message).encode()})])
