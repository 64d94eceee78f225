"""The tracking screens in Oscar's dashboard: write keys, live events, quarantine."""

import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.tracking.conftest import basic_auth
from tracking.models import Event, QuarantinedEvent, Session, WriteKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_staff):
    client = Client()
    client.force_login(make_staff("admin@example.com", superuser=True))
    return client


def _track(client, raw_key):
    return client.post("/tracking/v1/track", data=json.dumps(
        {"event": "Price List Downloaded", "anonymousId": "a-1"}), content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(raw_key))


def test_a_created_key_is_shown_once_works_and_stops_working_when_revoked(admin_client, stream_name):
    response = admin_client.post("/dashboard/tracking/write-keys/new/",
                                 {"name": "Mobile app", "kind": "server"})
    assert response.status_code == 200
    raw = response.context["raw_key"]
    key = WriteKey.objects.get(name="Mobile app")
    assert key.key_hash == WriteKey.hash(raw) and raw not in key.key_hash and key.public_value == ""
    assert raw in response.content.decode()
    # not shown again anywhere
    listing = admin_client.get("/dashboard/tracking/write-keys/").content.decode()
    assert "Mobile app" in listing and raw not in listing and key.prefix in listing

    api = Client()
    assert _track(api, raw).status_code == 200
    confirm = admin_client.get(f"/dashboard/tracking/write-keys/{key.pk}/revoke/")
    assert confirm.status_code == 200 and "cannot be restored" in confirm.content.decode()
    assert admin_client.post(f"/dashboard/tracking/write-keys/{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert _track(api, raw).status_code == 401
    assert "Revoked" in admin_client.get("/dashboard/tracking/write-keys/").content.decode()


def test_a_blank_name_is_a_form_error(admin_client):
    response = admin_client.post("/dashboard/tracking/write-keys/new/", {"name": "  ", "kind": "server"})
    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert not WriteKey.objects.exists()


def test_revoking_needs_a_csrf_token(make_staff):
    key, _raw = WriteKey.generate(name="k")
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("admin@example.com", superuser=True))
    assert client.post(f"/dashboard/tracking/write-keys/{key.pk}/revoke/").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


@pytest.mark.parametrize("url", ["/dashboard/tracking/write-keys/", "/dashboard/tracking/events/",
                                 "/dashboard/tracking/quarantine/", "/dashboard/tracking/write-keys/new/"])
def test_only_staff_with_the_permission_get_in(url, make_staff):
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    for group in ("Marketing", "Support"):
        client = Client()
        client.force_login(make_staff(f"{group.lower()}@example.com", group=group))
        assert client.get(url).status_code == 403
        assert b"/dashboard/tracking/" not in client.get("/dashboard/").content  # no menu entry


def test_menu_shows_tracking_to_an_administrator(admin_client):
    page = admin_client.get("/dashboard/").content.decode()
    assert "/dashboard/tracking/write-keys/" in page and "/dashboard/tracking/events/" in page


def _event(message_id, **fields):
    now = timezone.now()
    values = {"type": "track", "event": "Product Viewed", "anonymous_id": "a-1", "timestamp": now,
              "received_at": now, "source": "api", **fields}
    return Event.objects.create(message_id=message_id, **values)


def test_live_events_filter_and_detail(admin_client, stream_name):
    key, _raw = WriteKey.generate(name="shop")
    _event("e-1", write_key=key, properties={"sku": "SKU-1"})
    _event("e-2", type="page", event="", anonymous_id="b-2", source="browser")
    _event("e-3", user_id="42", event="Order Completed")
    page = admin_client.get("/dashboard/tracking/events/")
    assert [e.message_id for e in page.context["events"]] == ["e-3", "e-2", "e-1"]
    assert page.context["queue"] == {"length": 0, "pending": 0}

    def found(**query):
        return [e.message_id for e in admin_client.get("/dashboard/tracking/events/", query).context["events"]]

    assert found(type="page") == ["e-2"]
    assert found(event="order completed") == ["e-3"]
    assert found(person="42") == ["e-3"] and found(person="a-1") == ["e-3", "e-1"]
    assert found(write_key=key.pk) == ["e-1"] and found(source="browser") == ["e-2"]
    assert found(type="nonsense") == [] and found(write_key="abc") == []
    detail = admin_client.get(f"/dashboard/tracking/events/{Event.objects.get(message_id='e-1').pk}/")
    assert detail.status_code == 200 and "SKU-1" in detail.content.decode()
    assert admin_client.get("/dashboard/tracking/events/999999/").status_code == 404


def test_unreachable_redis_is_a_warning_not_an_error(admin_client, settings):
    from tracking import stream

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    stream.client.cache_clear()
    try:
        page = admin_client.get("/dashboard/tracking/events/")
    finally:
        stream.client.cache_clear()
    assert page.status_code == 200 and "cannot be reached" in page.content.decode()


def test_quarantined_events_are_replayed_from_the_dashboard(admin_client):
    now = timezone.now().isoformat()
    payload = {"message_id": "q-1", "type": "track", "event": "Price List Downloaded",
               "anonymous_id": "a", "user_id": "", "timestamp": now, "received_at": now,
               "context": {}, "properties": {}, "traits": {}, "source": "api"}
    fixed = QuarantinedEvent.objects.create(message_id="q-1", payload=payload, reason="was broken")
    broken = QuarantinedEvent.objects.create(message_id="q-2", payload={"raw": "{"}, reason="not JSON")
    listing = admin_client.get("/dashboard/tracking/quarantine/")
    assert {e.pk for e in listing.context["entries"]} == {fixed.pk, broken.pk}
    assert "not JSON" in admin_client.get(f"/dashboard/tracking/quarantine/{broken.pk}/").content.decode()
    response = admin_client.post("/dashboard/tracking/quarantine/replay/", {"all": "1"}, follow=True)
    assert "Replayed 1 events; 1 still quarantined." in response.content.decode()
    assert Event.objects.get().message_id == "q-1" and Session.objects.get(visitor="a")
    fixed.refresh_from_db()
    broken.refresh_from_db()
    assert fixed.replayed_at and broken.replayed_at is None
    assert admin_client.post("/dashboard/tracking/quarantine/replay/", {"selected": ["x"]}).status_code == 302
