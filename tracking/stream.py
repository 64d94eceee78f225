"""The Redis Stream between the HTTP API and the consumers."""

from __future__ import annotations

import json
from functools import lru_cache

import redis
from django.conf import settings

from tracking.defaults import setting


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def append(messages: list[dict]) -> None:
    """Append every message or none (one MULTI/EXEC); raises ``redis.RedisError``."""
    stream = setting("TRACKING_STREAM")
    if len(messages) == 1:  # one command is atomic already: save the MULTI/EXEC round trip
        client().xadd(stream, {"m": json.dumps(messages[0], separators=(",", ":"))})
        return
    pipe = client().pipeline(transaction=True)
    for message in messages:
        pipe.xadd(stream, {"m": json.dumps(message, separators=(",", ":"))})
    pipe.execute()
