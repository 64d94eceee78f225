"""The Segment-compatible HTTP API: accepted calls reach the stream; bad input gets a 4xx."""

import json

import pytest

from tests.tracking.conftest import basic_auth
from tracking.models import WriteKey
from tracking.stream import backlog

pytestmark = pytest.mark.django_db


def _post(http, path, body, key=None, raw=None):
    headers = {"HTTP_AUTHORIZATION": basic_auth(key)} if key else {}
    data = raw if raw is not None else json.dumps(body)
    return http.post(f"/tracking/v1/{path}", data=data, content_type="application/json", **headers)


def _stream_length(stream_name):
    return backlog(stream_name)["length"]


def _track(message_id="m-1", **extra):
    return {"event": "Product Viewed", "anonymousId": "anon-1", "messageId": message_id,
            "properties": {"product_id": "DEMO00001"}, **extra}


def test_track_is_accepted_as_segment_answers(client, stream_name, server_key):
    response = _post(client, "track", _track(), server_key)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert _stream_length(stream_name) == 1


def test_batch_appends_every_message(client, stream_name, server_key):
    batch = {"batch": [{**_track(f"m-{i}"), "type": "track"} for i in range(5)]
             + [{"type": "identify", "userId": "42", "anonymousId": "anon-1", "messageId": "m-id",
                 "traits": {"email": "a@example.com"}}],
             "sentAt": "2026-11-22T12:00:00Z"}
    assert _post(client, "batch", batch, server_key).status_code == 200
    assert _stream_length(stream_name) == 6


@pytest.mark.parametrize(
    ("path", "body", "raw", "status", "reason"),
    [
        ("track", None, "{not json", 400, "not valid JSON"),
        ("track", [1, 2], None, 400, "must be a JSON object"),
        ("track", {"anonymousId": "a", "messageId": "x"}, None, 400, "track needs an event name"),
        ("track", {"event": "X", "anonymousId": 5.5}, None, 400, "anonymousId must be a string"),
        ("batch", {"batch": []}, None, 400, "non-empty list"),
        ("batch", {"batch": [{"type": "track", "event": "X", "anonymousId": "a"},
                             {"type": "explode", "anonymousId": "a"}]}, None, 400,
         "batch\\[1\\]: unknown call type"),
        ("track", {"event": "X", "anonymousId": "a", "timestamp": "2099-01-01T00:00:00Z"}, None,
         400, "too far in the future"),
        ("track", {"event": "X", "anonymousId": "a", "properties": {"x": "y" * 40_000}}, None,
         413, "the limit is 32768"),
    ],
)
def test_bad_input_gets_a_reason_and_stores_nothing(client, stream_name, server_key, path, body,
                                                    raw, status, reason):
    response = _post(client, path, body, server_key, raw=raw)
    assert response.status_code == status
    assert response.json()["success"] is False
    import re

    assert re.search(reason, response.json()["error"])
    assert _stream_length(stream_name) == 0


def test_oversize_batch_is_refused(client, stream_name, server_key):
    batch = {"batch": [{**_track(f"m-{i}"), "type": "track",
                        "properties": {"pad": "x" * 20_000}} for i in range(30)]}
    response = _post(client, "batch", batch, server_key)
    assert response.status_code == 413
    assert "512000" in response.json()["error"]
    assert _stream_length(stream_name) == 0


def test_missing_unknown_and_revoked_keys_are_refused(client, stream_name, server_key):
    from django.utils import timezone

    assert _post(client, "track", _track()).status_code == 401
    assert _post(client, "track", _track(), "not-a-key").status_code == 401
    WriteKey.objects.update(revoked_at=timezone.now())
    assert _post(client, "track", _track(), server_key).status_code == 401
    assert _stream_length(stream_name) == 0


def test_browser_key_cannot_claim_another_user_or_send_server_calls(client, stream_name, browser_key):
    assert _post(client, "track", _track(userId="1234"), browser_key).status_code == 403
    response = _post(client, "alias", {"userId": "u", "previousId": "a"}, browser_key)
    assert response.status_code == 400 and "browser key cannot send alias" in response.json()["error"]
    assert _post(client, "track", _track(), browser_key).status_code == 200
    assert _stream_length(stream_name) == 1


def test_browser_key_may_identify_the_signed_in_visitor(client, stream_name, browser_key):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("v", "v@example.com", "pw")
    client.force_login(user)
    assert _post(client, "track", _track(userId=str(user.pk)), browser_key).status_code == 200


def test_get_is_not_allowed(client):
    assert client.get("/tracking/v1/track").status_code == 405


def test_unreachable_redis_answers_503(client, stream_name, server_key, settings):
    from tracking import stream

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    stream.client.cache_clear()
    try:
        response = _post(client, "track", _track(), server_key)
    finally:
        stream.client.cache_clear()
    assert response.status_code == 503
    assert "retry" in response.json()["error"]


def test_api_answers_set_no_tracking_cookie(client, stream_name, server_key):
    """SDK calls name their own visitor: the store's first-party cookie is not for them."""
    response = _post(client, "track", _track(), server_key)
    assert response.status_code == 200 and "ecrm_aid" not in response.cookies


def test_api_is_answered_ahead_of_the_storefront_middleware(client, stream_name, server_key):
    """No session, CSRF or anonymous-id cookie for an SDK call; security headers still set."""
    response = _post(client, "track", _track(), server_key)
    assert response.status_code == 200 and not response.cookies
    assert response["X-Content-Type-Options"] == "nosniff"
    other = client.post("/tracking/v1/explode", data="{}", content_type="application/json")
    assert other.status_code in (301, 404)  # not an API call: passed on to the store's URLs
    assert _stream_length(stream_name) == 1


def test_api_works_without_its_middleware(client, stream_name, server_key, browser_key, settings):
    """A store that leaves TrackingApiMiddleware out gets the same API through the URLconf."""
    from django.contrib.auth import get_user_model

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "TrackingApiMiddleware" not in m]
    assert _post(client, "track", _track(), server_key).status_code == 200
    user = get_user_model().objects.create_user("w", "w@example.com", "pw")
    client.force_login(user)
    assert _post(client, "track", _track("m-2", userId=str(user.pk)), browser_key).status_code == 200
    assert _post(client, "track", _track("m-3", userId="someone-else"), browser_key).status_code == 403
    assert _stream_length(stream_name) == 2
