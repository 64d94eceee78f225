"""Identity stitching: a visitor's anonymous history joins the customer's, across devices."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tracking.consumer import consume_once, ensure_group
from tracking.graph import events_of_user
from tracking.messages import normalise
from tracking.models import Session
from tracking.stream import append

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def _send(*raw):
    append([{**normalise(m, received_at=NOW), "source": "api", "write_key_id": None} for m in raw])
    while consume_once("test", block_ms=50):
        pass


def _track(message_id, anonymous_id, minutes, user_id=None, event="Product Viewed"):
    return {"type": "track", "event": event, "anonymousId": anonymous_id, "userId": user_id,
            "messageId": message_id, "timestamp": (NOW - timedelta(minutes=minutes)).isoformat()}


def test_login_stitches_earlier_anonymous_events_and_a_second_device(stream_name):
    ensure_group()
    _send(_track("laptop-1", "laptop", 300), _track("laptop-2", "laptop", 299),
          _track("phone-1", "phone", 100))
    assert events_of_user("42").count() == 0
    # She signs in on the laptop ...
    _send({"type": "identify", "userId": "42", "anonymousId": "laptop", "messageId": "id-1",
           "traits": {"email": "ada@example.com"}})
    assert set(events_of_user("42").values_list("message_id", flat=True)) == {
        "laptop-1", "laptop-2", "id-1"}
    # ... and later on her phone: both devices' histories are hers.
    _send(_track("phone-2", "phone", 5, user_id="42", event="Order Completed"))
    assert set(events_of_user("42").values_list("message_id", flat=True)) == {
        "laptop-1", "laptop-2", "id-1", "phone-1", "phone-2"}


def test_alias_joins_an_earlier_user_id(stream_name):
    ensure_group()
    _send(_track("old-1", "device", 50, user_id="legacy-7"),
          {"type": "alias", "userId": "42", "previousId": "legacy-7", "messageId": "alias-1"})
    assert "old-1" in set(events_of_user("42").values_list("message_id", flat=True))


def test_sessions_are_stored_with_their_counts(stream_name):
    ensure_group()
    _send(_track("s-1", "v", 120), _track("s-2", "v", 110), _track("s-3", "v", 10),
          _track("s-4", "v", 5, event="Order Completed"))
    sessions = list(Session.objects.filter(visitor="v").order_by("started_at"))
    assert [s.event_count for s in sessions] == [2, 2]
    assert [s.converted for s in sessions] == [False, True]
    # A late batch extends the open session rather than starting another.
    _send(_track("s-5", "v", 1))
    assert Session.objects.filter(visitor="v").count() == 2
    assert Session.objects.filter(visitor="v").order_by("started_at").last().event_count == 3


def test_only_the_server_may_tie_a_visitor_to_an_email(stream_name):
    from tracking.models import IdentityLink

    ensure_group()
    claim = {**_track("fake-order", "intruder", 1, event="Order Completed"),
             "properties": {"email": "ada@example.com"}}
    append([{**normalise(claim, received_at=NOW), "source": "browser", "write_key_id": None}])
    _send({"type": "identify", "userId": "42", "anonymousId": "laptop", "messageId": "id-1",
           "traits": {"email": "Ada@Example.com"}})
    assert IdentityLink.objects.filter(kind=IdentityLink.EMAIL, identifier="ada@example.com",
                                       user_id="42").exists()
    assert "fake-order" not in set(events_of_user("42").values_list("message_id", flat=True))
    guest = {**_track("real-order", "kiosk", 1, event="Order Completed"),
             "properties": {"email": "ada@example.com"}}
    _send(guest)  # a server-side SDK's guest order with her address is hers
    assert "real-order" in set(events_of_user("42").values_list("message_id", flat=True))


def test_sessions_are_stored_with_their_device(stream_name):
    ensure_group()
    phone = {**_track("d-1", "dv", 20), "context": {"userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile"}}
    _send(_track("d-0", "dv", 21), phone)
    assert Session.objects.get(visitor="dv").device == "mobile"
    _send({**_track("d-2", "dv", 19), "context": {"userAgent": "Mozilla/5.0 (X11; Linux x86_64)"}})
    assert Session.objects.get(visitor="dv").device == "mobile"  # the first one seen stays
