"""Segment-compatible HTTP Tracking API: ``/tracking/v1/{batch,track,identify,page,...}``.

A request is validated whole, appended to the Redis stream, and answered
``200 {"success": true}`` as Segment does. Nothing is stored from a request
that fails: one bad message rejects the whole batch with its reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import timedelta

import redis
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tracking.defaults import setting
from tracking.messages import (
    BROWSER_CALL_TYPES, InvalidMessage, normalise, parse_time, truncate_ip,
)
from tracking.models import WriteKey
from tracking.stream import append


SUCCESS = b'{"success": true}'


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"success": False, "error": message}, status=status)


def _write_key(request, body) -> WriteKey | None:
    """From the basic-auth user name, or (as Segment allows, and as ``sendBeacon`` must,
    since it cannot send headers) a ``writeKey`` field in the body."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        raw_key = body.get("writeKey") if isinstance(body, dict) else None
        return _active_key(WriteKey.hash(raw_key)) if isinstance(raw_key, str) and raw_key else None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    raw_key = decoded.split(":", 1)[0]
    if not raw_key:
        return None
    return _active_key(WriteKey.hash(raw_key))


_key_cache: dict[str, tuple[float, WriteKey | None]] = {}


def _active_key(key_hash: str) -> WriteKey | None:
    """The active key with this hash. Kept per process for TRACKING_WRITE_KEY_CACHE_SECONDS,
    so the hot path makes no database query; a revocation applies within that time."""
    ttl = setting("TRACKING_WRITE_KEY_CACHE_SECONDS")
    now = time.monotonic()
    cached = _key_cache.get(key_hash)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    key = WriteKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if ttl > 0:
        if len(_key_cache) > 1000:
            _key_cache.clear()  # unknown keys sent by a scanner must not grow memory
        _key_cache[key_hash] = (now, key)
    return key


def _request_context(request) -> dict:
    ip = request.META.get("REMOTE_ADDR", "")
    return {"ip": truncate_ip(ip), "userAgent": request.META.get("HTTP_USER_AGENT", "")}


def _check_browser_rules(key: WriteKey, message: dict, request) -> None:
    if key.kind != WriteKey.BROWSER:
        return
    if message["type"] not in BROWSER_CALL_TYPES:
        raise InvalidMessage(f"a browser key cannot send {message['type']} calls")
    if message["user_id"]:
        own = str(request.user.pk) if request.user.is_authenticated else None
        if message["user_id"] != own:
            raise PermissionError("a browser key cannot send events for another user_id")


@csrf_exempt
@require_POST
def ingest(request, call_type: str):
    """One endpoint per Segment call type, and ``batch``."""
    limit = setting("TRACKING_MAX_BATCH_BYTES") if call_type == "batch" else setting(
        "TRACKING_MAX_EVENT_BYTES")
    if len(request.body) > limit:
        return _error(413, f"request body is {len(request.body)} bytes; the limit is {limit}")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "the body is not valid JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    key = _write_key(request, body)
    if key is None:
        return _error(401, "missing, unknown or revoked write key (send it as the basic-auth user)")

    received_at = timezone.now()
    options = {"received_at": received_at, "max_bytes": setting("TRACKING_MAX_EVENT_BYTES"),
               "max_future": timedelta(seconds=setting("TRACKING_MAX_FUTURE_SKEW_SECONDS"))}
    if call_type == "batch":
        raw_messages = body.get("batch")
        if not isinstance(raw_messages, list) or not raw_messages:
            return _error(400, "batch must be a non-empty list of messages")
        try:
            options["sent_at"] = parse_time(body.get("sentAt"), "sentAt")
        except InvalidMessage as exc:
            return _error(400, str(exc))
        typed = [(raw, None) for raw in raw_messages]
    else:
        typed = [(body, call_type)]
        options["max_bytes"] = None  # the whole body, checked above, is this one message

    messages, server_context = [], _request_context(request)
    for position, (raw, endpoint_type) in enumerate(typed):
        try:
            message = normalise(raw, call_type=endpoint_type, **options)
            _check_browser_rules(key, message, request)
        except InvalidMessage as exc:
            where = f"batch[{position}]: " if call_type == "batch" else ""
            return _error(400, f"{where}{exc}")
        except PermissionError as exc:
            return _error(403, str(exc))
        message["context"] = {**message["context"], **server_context}
        message["source"] = "browser" if key.kind == WriteKey.BROWSER else "api"
        message["write_key_id"] = key.pk
        messages.append(message)
    try:
        append(messages)
    except redis.RedisError:
        return _error(503, "the event queue is unavailable; retry later")
    return HttpResponse(SUCCESS, content_type="application/json")
