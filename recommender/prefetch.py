"""Serving many people at once (a broadcast's delivery batch): the Redis reads
``recommendations_for`` makes for each of them, made for all of them in two round trips.

``recommendations_for_many`` reads, in one pipeline, the serving version, the running A/B
test and every person's recent activity; then, in a second, what the slot's chain reads per
person (their published personal lists and purchases) and once (popular, trending). Each
person then goes through ``recommendations_for`` itself — the same code, with a
``PrefetchedReads`` as its Redis client: a read already made is answered from the batch,
anything else (a session's neighbours, a list nobody prefetched) goes to Redis as before.
So the picks are those of calling ``recommendations_for`` person by person, minus some
hundred round trips.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

READS = frozenset({"get", "mget", "hget", "hmget", "lrange"})  # what serving asks Redis
_reads: ContextVar[PrefetchedReads | None] = ContextVar("recommender_prefetched_reads", default=None)


def _command(name: str, args: tuple) -> tuple:
    return (name, *(tuple(arg) if isinstance(arg, list) else arg for arg in args))


class PrefetchedReads:
    """A read-only stand-in for the Redis client: known replies from the batch's pipelines,
    the rest read from ``redis`` (a real client) when asked."""

    def __init__(self, redis, known: dict[tuple, object]):
        self.redis, self.known = redis, known

    def answer(self, commands: list[tuple]) -> list:
        missing = [command for command in commands if command not in self.known]
        if missing:
            pipe = self.redis.pipeline(transaction=False)
            for name, *args in missing:
                getattr(pipe, name)(*args)
            replies = dict(zip(missing, pipe.execute()))
            return [self.known[command] if command in self.known else replies[command] for command in commands]
        return [self.known[command] for command in commands]

    def pipeline(self, transaction: bool = False):  # noqa: ARG002 - reads only, as redis-py's signature
        return _Pipeline(self)

    def __getattr__(self, name):
        if name not in READS:
            raise AttributeError(f"{name}: serving's prefetched reads answer only {sorted(READS)}")
        return lambda *args: self.answer([_command(name, args)])[0]


class _Pipeline:
    def __init__(self, reads: PrefetchedReads):
        self.reads, self.commands = reads, []

    def __getattr__(self, name):
        if name not in READS:
            raise AttributeError(name)

        def queue(*args):
            self.commands.append(_command(name, args))
            return self
        return queue

    def execute(self) -> list:
        commands, self.commands = self.commands, []
        return self.reads.answer(commands)


def current_reads():
    """The batch's prefetched reads, or None outside ``recommendations_for_many``."""
    return _reads.get()


@contextmanager
def prefetched(reads: PrefetchedReads):
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)
