"""Management commands of tracking."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tracking.models import WriteKey

pytestmark = pytest.mark.django_db


def test_create_write_key_prints_a_key_that_is_stored_only_as_a_hash():
    out = StringIO()
    call_command("tracking_create_write_key", "Storefront SDK", stdout=out)
    raw = out.getvalue().strip()
    key = WriteKey.objects.get()
    assert len(raw) >= 30 and key.name == "Storefront SDK" and key.kind == WriteKey.SERVER
    assert key.key_hash == WriteKey.hash(raw) and raw not in key.key_hash
    assert raw.startswith(key.prefix)


def test_browser_key():
    call_command("tracking_create_write_key", "Web", "--browser", stdout=StringIO())
    assert WriteKey.objects.get().kind == WriteKey.BROWSER


def test_blank_name_is_refused():
    with pytest.raises(CommandError, match="NAME must be"):
        call_command("tracking_create_write_key", "  ", stdout=StringIO())


def test_consumer_refuses_a_bad_batch_size():
    with pytest.raises(CommandError, match="--batch must be at least 1"):
        call_command("tracking_consume", "--batch", "0", "--until-idle", stdout=StringIO())


def test_replay_stores_a_fixed_quarantined_event_once():
    from django.utils import timezone

    from tracking.models import Event, QuarantinedEvent

    payload = {"message_id": "q-1", "type": "track", "event": "Price List Downloaded",
               "anonymous_id": "a", "user_id": "", "received_at": timezone.now().isoformat(),
               "context": {}, "properties": {}, "traits": {}, "source": "api"}
    entry = QuarantinedEvent.objects.create(message_id="q-1", payload=payload, reason="no timestamp")
    call_command("tracking_replay", stdout=StringIO())
    entry.refresh_from_db()
    assert entry.replayed_at is None and "timestamp" in entry.reason  # still broken
    entry.payload["timestamp"] = timezone.now().isoformat()  # the fix
    entry.save()
    call_command("tracking_replay", stdout=StringIO())
    call_command("tracking_replay", stdout=StringIO())
    event = Event.objects.get()
    assert event.event == "Price List Downloaded"
    entry.refresh_from_db()
    assert entry.replayed_at is not None
    # replayed through the consumer's own path: the event has its session like any other
    from tracking.models import Session

    assert event.session_id == Session.objects.get(visitor="a").key


def test_purge_deletes_only_events_past_retention(settings):
    from datetime import timedelta

    from django.utils import timezone

    from tracking.models import Event

    now = timezone.now()
    for age in (1, 100, 800):
        Event.objects.create(message_id=f"e-{age}", type="track", event="X", anonymous_id="a",
                             timestamp=now - timedelta(days=age), received_at=now, source="api")
    out = StringIO()
    call_command("tracking_purge", "--days", "365", "--dry-run", stdout=out)
    assert "Would delete 1 events" in out.getvalue() and Event.objects.count() == 3
    call_command("tracking_purge", "--days", "365", stdout=StringIO())
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["e-1", "e-100"]


def test_bot_events_from_the_api_are_not_stored(stream_name):
    from tracking.consumer import consume_once, ensure_group, is_bot
    from tracking.stream import append

    assert is_bot({"source": "api", "context": {"userAgent": "Googlebot/2.1"}})
    assert not is_bot({"source": "api", "context": {"userAgent": "Mozilla/5.0 (iPhone)"}})
    assert not is_bot({"source": "server", "context": {"userAgent": "curl/8.0"}})
    from tracking.models import Event

    ensure_group()
    base = {"type": "track", "event": "Product Viewed", "anonymous_id": "a", "user_id": "",
            "timestamp": "2026-11-01T10:00:00+00:00", "received_at": "2026-11-01T10:00:00+00:00",
            "properties": {}, "traits": {}, "source": "browser", "name": ""}
    append([{**base, "message_id": "human", "context": {"userAgent": "Mozilla/5.0 (X11)"}},
            {**base, "message_id": "robot", "context": {"userAgent": "AhrefsBot/7.0"}}])
    consume_once("test", block_ms=50)
    assert list(Event.objects.values_list("message_id", flat=True)) == ["human"]
