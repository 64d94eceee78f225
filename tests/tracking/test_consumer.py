"""Consumers store each acknowledged event exactly once, even when killed mid-batch."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from tests.helpers import subprocess_env
from tracking.consumer import consume_once, ensure_group
from tracking.messages import normalise
from tracking.models import Event, QuarantinedEvent
from tracking.stream import append, backlog, client, shard_streams

ROOT = Path(__file__).resolve().parents[2]


def _messages(count, *, prefix="m"):
    now = timezone.now()
    return [
        {**normalise({"type": "track", "event": "Product Viewed", "anonymousId": f"a-{i % 50}",
                      "messageId": f"{prefix}-{i}", "properties": {"product_id": f"P{i % 97}"},
                      "context": {"sessionId": f"s-{i % 20}"}}, received_at=now),
         "source": "api", "write_key_id": None}
        for i in range(count)
    ]


@pytest.mark.django_db
def test_duplicate_message_id_is_stored_once(stream_name):
    ensure_group()
    append(_messages(3))
    append(_messages(3))  # an SDK retried the same three events
    while consume_once("test", block_ms=50):
        pass
    assert Event.objects.count() == 3
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m-0", "m-1", "m-2"]
    event = Event.objects.get(message_id="m-1")
    assert (event.type, event.event, event.anonymous_id) == ("track", "Product Viewed", "a-1")
    from tracking.models import Session

    # The retried copies did not count twice in the visitors' sessions.
    assert sorted(Session.objects.values_list("event_count", flat=True)) == [1, 1, 1]
    assert event.session_id == Session.objects.get(visitor="a-1").key
    assert backlog()["pending"] == 0


@pytest.mark.django_db
def test_a_referrer_from_the_store_itself_is_not_a_traffic_source(stream_name, settings):
    """A session that starts on an internal link (a tab left open past the timeout) is
    direct, not a referral from the store's own host (ALLOWED_HOSTS by default)."""
    from tracking.models import Session

    settings.ALLOWED_HOSTS = [".shop.example.com"]
    now = timezone.now()
    ensure_group()
    append([{**normalise({"type": "page", "anonymousId": visitor, "messageId": visitor,
                          "context": {"page": {"path": "/basket/", "referrer": referrer}}},
                         received_at=now), "source": "api", "write_key_id": None}
            for visitor, referrer in (("internal", "https://www.shop.example.com/catalogue/"),
                                      ("external", "https://www.reddit.com/r/cooking/"))])
    while consume_once("test", block_ms=50):
        pass
    sources = dict(Session.objects.values_list("visitor", "medium"))
    assert sources == {"internal": "none", "external": "referral"}


@pytest.mark.django_db
def test_stored_entries_are_trimmed_from_the_stream(stream_name):
    ensure_group()
    append(_messages(1000))
    while consume_once("test", block_ms=50):
        pass
    assert Event.objects.count() == 1000
    # Trimming is approximate (whole stream nodes of 100 entries), so the stream stays small.
    assert backlog()["length"] < 200 * 4  # per shard


@pytest.mark.django_db
def test_unstorable_entry_is_quarantined_with_its_reason(stream_name):
    ensure_group()
    broken = _messages(1, prefix="bad")[0]
    del broken["timestamp"]
    append(_messages(2) + [broken])
    consume_once("test", block_ms=50)
    assert Event.objects.count() == 2
    quarantined = QuarantinedEvent.objects.get()
    assert quarantined.message_id == "bad-0" and "timestamp" in quarantined.reason


def _consumer(stream_name, *extra):
    return subprocess.Popen(
        [sys.executable, "manage.py", "tracking_consume", "--stream", stream_name, *extra],
        cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_consumer_killed_mid_batch_loses_nothing_and_stores_nothing_twice(stream_name):
    total = 6000
    ensure_group(stream_name)
    for start in range(0, total, 1000):
        append(_messages(total)[start:start + 1000])

    first = _consumer(stream_name, "--batch", "400", "--name", "first")
    deadline = time.monotonic() + 120
    while Event.objects.count() == 0:
        assert first.poll() is None, first.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    stored_at_kill = Event.objects.count()
    assert stored_at_kill < total, "the consumer finished before it could be killed"

    second = _consumer(stream_name, "--batch", "400", "--name", "second", "--claim-idle-ms", "0",
                       "--until-idle")
    output, _ = second.communicate(timeout=180)
    assert second.returncode == 0, output
    assert Event.objects.count() == total
    assert Event.objects.values("message_id").distinct().count() == total
    assert backlog()["pending"] == 0


@pytest.mark.django_db
def test_events_of_a_deleted_write_key_are_still_stored(stream_name):
    from tracking.models import WriteKey

    ensure_group()
    key, _raw = WriteKey.generate(name="short-lived")
    messages = _messages(2)
    for message in messages:
        message["write_key_id"] = key.pk
    append(messages)
    key.delete()
    consume_once("test", block_ms=50)
    assert Event.objects.count() == 2
    assert not Event.objects.exclude(write_key=None).exists()


@pytest.mark.django_db
def test_entry_that_is_not_json_is_quarantined_not_fatal(stream_name):
    ensure_group()
    append(_messages(1))
    client().xadd(shard_streams()[0], {"m": "{broken"})
    while consume_once("test", block_ms=50):
        pass
    assert Event.objects.count() == 1
    assert QuarantinedEvent.objects.get().payload == {"raw": "{broken"}
    assert backlog()["pending"] == 0


def _visitors_batch(count, *, prefix):
    """``count`` events of ``count`` different visitors, one in ten signed in (and so linked),
    about products: every ``events_stored`` receiver has work to do for each."""
    now = timezone.now()
    return [
        {**normalise({"type": "track", "event": "Product Viewed", "anonymousId": f"{prefix}-visitor-{i}",
                      **({"userId": f"{prefix}-user-{i}"} if i % 10 == 0 else {}),
                      "messageId": f"{prefix}-{i}", "properties": {"product_id": f"P{i % 97}"}},
                     received_at=now),
         "source": "api", "write_key_id": None}
        for i in range(count)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_batch_costs_the_same_queries_whatever_its_size(stream_name):
    """The consumer and every receiver of ``events_stored`` (profiles' marks, the aggregates'
    pending batch, the recommender's recent activity) are O(batch): no query per event."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tracking.consumer import parse, store_events

    def cost(count, prefix):
        entries = [(b"0-0", {b"m": json.dumps(m).encode()}) for m in _visitors_batch(count, prefix=prefix)]
        parsed, _quarantined = parse(entries)
        with CaptureQueriesContext(connection) as queries:
            store_events(parsed)
        return len(queries)

    cost(5, "warm")  # first-use reads (write keys, content types) out of the way
    small, large = cost(20, "small"), cost(400, "large")
    assert Event.objects.filter(message_id__startswith="large-").count() == 400
    assert small == large, (small, large)
