"""Segment message validation and normalisation (no database)."""

from datetime import datetime, timedelta, timezone

import pytest

from tracking.messages import InvalidMessage, normalise, truncate_ip

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def _track(**extra):
    return {"type": "track", "event": "Product Viewed", "anonymousId": "a-1", "messageId": "m-1",
            **extra}


def test_track_is_normalised():
    message = normalise(_track(properties={"product_id": "DEMO1"}), received_at=NOW)
    assert message["event"] == "Product Viewed"
    assert message["anonymous_id"] == "a-1" and message["message_id"] == "m-1"
    assert message["properties"] == {"product_id": "DEMO1"}
    assert message["timestamp"] == NOW.isoformat()


def test_clock_skew_is_corrected_with_sent_at():
    # The client's clock is 10 minutes fast: it says it sent at 12:10 what happened at 12:05.
    message = normalise(
        _track(timestamp="2026-11-22T12:05:00Z", sentAt="2026-11-22T12:10:00Z"), received_at=NOW
    )
    assert message["timestamp"] == (NOW - timedelta(minutes=5)).isoformat()


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "track", "anonymousId": "a"}, "track needs an event name"),
        ({"type": "track", "event": "X"}, "userId or anonymousId is required"),
        ({"type": "launch", "event": "X", "anonymousId": "a"}, "unknown call type"),
        (_track(properties=[1, 2]), "properties must be a JSON object"),
        (_track(userId={"id": 1}), "userId must be a string"),
        (_track(timestamp="yesterday"), "not an ISO 8601 date-time"),
        (_track(timestamp="2027-06-01T00:00:00Z"), "too far in the future"),
        (_track(properties={"blob": "x" * 40_000}), "the limit is 32768"),
        ({"type": "alias", "userId": "u"}, "alias needs userId and previousId"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(message, reason):
    with pytest.raises(InvalidMessage, match=reason):
        normalise(message, received_at=NOW)


def test_endpoint_type_must_match_message_type():
    with pytest.raises(InvalidMessage, match="sent to the /identify endpoint"):
        normalise(_track(), call_type="identify", received_at=NOW)


def test_missing_message_id_gets_one():
    message = normalise({"type": "page", "anonymousId": "a"}, received_at=NOW)
    assert message["message_id"].startswith("server-")


@pytest.mark.parametrize(
    ("ip", "truncated"),
    [("203.0.113.77", "203.0.113.0"), ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
     ("not-an-ip", "")],
)
def test_ip_truncation(ip, truncated):
    assert truncate_ip(ip) == truncated
