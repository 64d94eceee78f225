"""The stream between API and consumers: sharding by visitor, group commit, concurrency."""

import threading
from io import StringIO

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from tracking.consumer import consume_once, ensure_group, store
from tracking.messages import normalise
from tracking.models import Event, Session
from tracking.stream import GroupCommit, _Append, append, backlog, client, shard_of, shard_streams


def _message(message_id, visitor, *, user_id=None, event="Product Viewed"):
    raw = {"type": "track", "event": event, "anonymousId": visitor, "userId": user_id,
           "messageId": message_id}
    return {**normalise(raw, received_at=timezone.now()), "source": "api", "write_key_id": None}


def test_a_visitors_events_always_go_to_the_same_shard(stream_name, settings):
    settings.TRACKING_STREAM_SHARDS = 4
    visitors = [f"visitor-{n}" for n in range(40)]
    append([_message(f"m-{n}-{visitor}", visitor) for n in range(3) for visitor in visitors])
    for shard, key in enumerate(shard_streams()):
        entries = client().xrange(key)
        assert len(entries) == 3 * sum(shard_of(v) == shard for v in visitors)
        # in order, and only this shard's visitors
        assert all(shard_of(normalise_visitor(fields)) == shard for _id, fields in entries)
    assert len({shard_of(v) for v in visitors}) == 4  # the visitors spread over every shard


def normalise_visitor(fields):
    import json

    payload = json.loads(fields[b"m"])
    return payload["anonymous_id"] or payload["user_id"]


@pytest.mark.django_db
def test_a_consumer_given_shards_takes_only_those(stream_name, settings):
    settings.TRACKING_STREAM_SHARDS = 2
    ensure_group()
    visitors = [f"v-{n}" for n in range(20)]
    append([_message(f"m-{visitor}", visitor) for visitor in visitors])
    while consume_once("only-shard-0", block_ms=50, shards=[0]):
        pass
    stored = set(Event.objects.values_list("anonymous_id", flat=True))
    assert stored == {v for v in visitors if shard_of(v) == 0}
    assert backlog()["length"] >= len(visitors) - len(stored)  # shard 1 still waits
    while consume_once("only-shard-1", block_ms=50, shards=[1]):
        pass
    assert Event.objects.count() == len(visitors)


@pytest.mark.django_db
def test_consume_command_checks_its_shards(stream_name, settings):
    settings.TRACKING_STREAM_SHARDS = 4
    for bad in ("4", "-1", "a,b", ","):
        with pytest.raises(CommandError, match="--shards"):
            call_command("tracking_consume", "--shards", bad, "--until-idle", stdout=StringIO())
    out = StringIO()
    call_command("tracking_consume", "--shards", "1,3", "--until-idle", stdout=out)
    assert "from shards 1, 3" in out.getvalue()


def test_concurrent_appends_share_round_trips_and_all_arrive(stream_name):
    group_commit, flushes = GroupCommit(), []
    original = group_commit._flush

    def counting_flush(batch):
        flushes.append(len(batch))
        return original(batch)

    group_commit._flush = counting_flush
    key = shard_streams()[0]

    def worker(n):
        for i in range(50):
            group_commit.append([(key, f"{n}-{i}".encode())])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client().xlen(key) == 400
    assert sum(flushes) == 400 and len(flushes) <= 400


def test_a_failed_round_trip_fails_every_waiting_append(stream_name, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    from tracking import stream

    stream.client.cache_clear()
    try:
        with pytest.raises(redis.RedisError):
            GroupCommit().append([("k", b"x")])
        batch = [_Append([("k", b"x")]), _Append([("k", b"y")])]
        assert isinstance(GroupCommit()._flush(batch), redis.RedisError)
    finally:
        stream.client.cache_clear()


@pytest.mark.django_db(transaction=True)
def test_two_consumers_storing_one_visitor_at_once_keep_the_session_whole(stream_name):
    """Without the per-visitor lock, both would read the same open session and one
    consumer's counts would overwrite the other's."""
    if connection.vendor != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    import json

    rounds = 10
    barrier = threading.Barrier(2)
    errors = []

    def consumer(name):
        from django.db import connections

        try:
            for r in range(rounds):
                entries = [(b"x", {b"m": json.dumps(_message(f"{name}-{r}-{i}", "one-visitor")).encode()})
                           for i in range(5)]
                barrier.wait()
                store(entries)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=consumer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Event.objects.count() == 2 * rounds * 5
    session = Session.objects.get(visitor="one-visitor")
    assert session.event_count == 2 * rounds * 5
    assert set(Event.objects.values_list("session_id", flat=True)) == {session.key}


def test_an_unexpected_failure_reaches_the_caller_and_the_next_append_still_works(stream_name):
    group_commit = GroupCommit()
    original = group_commit._flush
    group_commit._flush = lambda batch: 1 / 0
    with pytest.raises(ZeroDivisionError):
        group_commit.append([(shard_streams()[0], b"x")])
    group_commit._flush = original
    group_commit.append([(shard_streams()[0], b"y")])  # not stuck behind the failed flush
    assert client().xlen(shard_streams()[0]) == 1
