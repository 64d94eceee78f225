"""The Redis Streams between the HTTP API and the consumers.

The stream is sharded by visitor (``TRACKING_STREAM_SHARDS`` streams named
``<TRACKING_STREAM>:<n>``): one visitor's events always go to the same shard,
in order, so consumers given different shards never contend for a visitor.

``append`` returns only once Redis has the messages, so an answered request is
never lost. Under concurrent requests (threaded web workers) appends are
group-committed: while one thread's round trip to Redis is in flight, the
others queue, and the next round trip carries all of them in one pipeline, so
the cost of the round trip is shared instead of paid per request.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from functools import lru_cache

import redis
from django.conf import settings

from tracking.defaults import setting


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2)


def shard_of(visitor: str, shards: int | None = None) -> int:
    return zlib.crc32(visitor.encode()) % (shards or setting("TRACKING_STREAM_SHARDS"))


def shard_streams(stream: str | None = None, shards: list[int] | None = None) -> list[str]:
    """The Redis keys of the given shards (default: all) of ``stream`` (default: TRACKING_STREAM)."""
    stream = stream or setting("TRACKING_STREAM")
    if shards is None:
        shards = range(setting("TRACKING_STREAM_SHARDS"))
    return [f"{stream}:{shard}" for shard in shards]


def backlog(stream: str | None = None) -> dict[str, int]:
    """Entries in the streams, and how many of them consumers took but have not acknowledged."""
    group = setting("TRACKING_CONSUMER_GROUP")
    length = pending = 0
    for key in shard_streams(stream):
        length += client().xlen(key)
        try:
            pending += client().xpending(key, group)["pending"]
        except redis.ResponseError:  # no such stream or group yet
            pass
    return {"length": length, "pending": pending}


class _Append:
    __slots__ = ("encoded", "done", "error")

    def __init__(self, encoded: list[tuple[str, bytes]]):
        self.encoded, self.done, self.error = encoded, False, None


class GroupCommit:
    """Leader/follower group commit: the first waiting thread flushes everybody's appends."""

    def __init__(self):
        self._condition = threading.Condition()
        self._queue: list[_Append] = []
        self._flushing = False
        # Only the flushing thread uses it: one connection of its own per process, which
        # saves the pool's checkout and the client's bookkeeping on the hot path.
        self._connection: tuple[int, redis.Redis, redis.Connection] | None = None

    def append(self, encoded: list[tuple[str, bytes]]) -> None:
        """Append (stream key, message) pairs; returns once Redis has them all."""
        item = _Append(encoded)
        with self._condition:
            self._queue.append(item)
            while not item.done:
                if self._flushing:
                    self._condition.wait()
                    continue
                batch, self._queue, self._flushing = self._queue, [], True
                self._condition.release()
                try:
                    error = self._flush(batch)
                finally:
                    self._condition.acquire()
                    self._flushing = False
                for waiting in batch:
                    waiting.done, waiting.error = True, error
                self._condition.notify_all()
        if item.error is not None:
            raise item.error

    def _connection_for(self, redis_client: redis.Redis) -> redis.Connection:
        pid = os.getpid()  # a forked web worker must not share its parent's socket
        if self._connection is None or self._connection[:2] != (pid, redis_client):
            self._connection = (pid, redis_client, redis_client.connection_pool.make_connection())
        return self._connection[2]

    def _flush(self, batch: list[_Append]) -> redis.RedisError | None:
        """One round trip for the whole batch; all or nothing (MULTI/EXEC)."""
        commands = [("XADD", key, "*", "m", message) for item in batch for key, message in item.encoded]
        if len(commands) > 1:  # one command is atomic already: save the MULTI/EXEC
            commands = [("MULTI",), *commands, ("EXEC",)]
        connection = self._connection_for(client())
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            replies = [connection.read_response() for _ in commands]
        except redis.RedisError as exc:
            connection.disconnect()  # replies may be left unread: start afresh next time
            return exc
        if replies[-1] is None:  # EXEC refused the transaction
            return redis.ResponseError("the stream transaction was aborted")
        return None


_group_commit = GroupCommit()


def append(messages: list[dict]) -> None:
    """Append every message (each to its visitor's shard) or none; raises
    ``redis.RedisError`` when Redis cannot take them."""
    if not messages:
        return
    stream, shards = setting("TRACKING_STREAM"), setting("TRACKING_STREAM_SHARDS")
    _group_commit.append([
        (f"{stream}:{shard_of(message['anonymous_id'] or message['user_id'], shards)}",
         json.dumps(message, separators=(",", ":")).encode())
        for message in messages
    ])
