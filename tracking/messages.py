"""Validate and normalise Segment messages (plain Python, no ORM).

Follows Segment's HTTP Tracking API: camelCase JSON, ``messageId`` for
de-duplication, ``timestamp`` corrected for the client's clock with
``sentAt`` against the server's ``receivedAt``.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache

CALL_TYPES = {"track", "identify", "page", "screen", "group", "alias"}
BROWSER_CALL_TYPES = {"track", "page", "identify"}
MAX_ID_LENGTH = 100
MAX_NAME_LENGTH = 200


class InvalidMessage(ValueError):
    """A message that cannot be accepted; the text says why, for the client."""


def parse_time(value, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"{field} must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMessage(f"{field} {value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _identifier(message: dict, field: str) -> str:
    value = message.get(field)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidMessage(f"{field} must be a string")
    value = str(value)
    if len(value) > MAX_ID_LENGTH:
        raise InvalidMessage(f"{field} is longer than {MAX_ID_LENGTH} characters")
    return value


def _object(message: dict, field: str) -> dict:
    value = message.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidMessage(f"{field} must be a JSON object")
    return value


@lru_cache(maxsize=4096)  # the API's hot path: most requests come from recent addresses
def truncate_ip(ip: str, *, keep_v4_bits: int = 24, keep_v6_bits: int = 48) -> str:
    """Zero the host part of an address (a /24 for IPv4, a /48 for IPv6)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    bits = keep_v4_bits if address.version == 4 else keep_v6_bits
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False).network_address)


def normalise(
    message,
    *,
    received_at: datetime,
    call_type: str | None = None,
    max_bytes: int | None = 32 * 1024,
    max_future: timedelta = timedelta(hours=24),
    sent_at: datetime | None = None,
) -> dict:
    """Return the message in our stored shape, or raise ``InvalidMessage``.

    ``call_type`` is the endpoint's type (``/track`` etc.); in a batch each
    message names its own. ``sent_at`` is the batch's ``sentAt``, if any.
    """
    if not isinstance(message, dict):
        raise InvalidMessage("each message must be a JSON object")
    if max_bytes is not None:  # None: the caller has measured the message already
        size = len(json.dumps(message, separators=(",", ":")).encode())
        if size > max_bytes:
            raise InvalidMessage(f"message is {size} bytes; the limit is {max_bytes}")
    kind = message.get("type", call_type)
    if call_type and kind != call_type:
        raise InvalidMessage(f"type {kind!r} sent to the /{call_type} endpoint")
    if kind not in CALL_TYPES:
        raise InvalidMessage(f"unknown call type {kind!r}; expected one of {sorted(CALL_TYPES)}")
    user_id = _identifier(message, "userId")
    anonymous_id = _identifier(message, "anonymousId")
    if not user_id and not anonymous_id:
        raise InvalidMessage("userId or anonymousId is required")
    event = ""
    if kind == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            raise InvalidMessage("track needs an event name")
        if len(event) > MAX_NAME_LENGTH:
            raise InvalidMessage(f"event name is longer than {MAX_NAME_LENGTH} characters")
    name = message.get("name") or ""
    if not isinstance(name, str):
        raise InvalidMessage("name must be a string")
    previous_id = _identifier(message, "previousId")
    if kind == "alias" and not (previous_id and user_id):
        raise InvalidMessage("alias needs userId and previousId")
    properties = _object(message, "properties")
    traits = _object(message, "traits")
    context = dict(_object(message, "context"))
    if kind == "identify" and not traits:
        traits = _object(context, "traits")
    if kind == "alias":
        properties = {**properties, "previous_id": previous_id}
    if kind == "group":
        properties = {**properties, "group_id": _identifier(message, "groupId")}

    timestamp = parse_time(message.get("timestamp"), "timestamp")
    message_sent_at = parse_time(message.get("sentAt"), "sentAt") or sent_at
    if timestamp is None:
        timestamp = received_at
    elif message_sent_at is not None:
        # Segment's clock-skew correction: the client's clock is off by (sentAt - receivedAt).
        timestamp = received_at - (message_sent_at - timestamp)
    if timestamp > received_at + max_future:
        raise InvalidMessage(f"timestamp {message.get('timestamp')!r} is too far in the future")

    message_id = _identifier(message, "messageId") or f"server-{uuid.uuid4()}"
    return {
        "message_id": message_id,
        "type": kind,
        "event": event.strip(),
        "name": name[:MAX_NAME_LENGTH],
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "timestamp": timestamp.isoformat(),
        "received_at": received_at.isoformat(),
        "context": context,
        "properties": properties,
        "traits": traits,
    }
