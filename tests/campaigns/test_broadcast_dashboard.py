"""Broadcasts in the dashboard: Marketing creates, schedules and cancels (with CSRF), sees
the live audience; Support only looks; bad input is a clear 4xx."""

from __future__ import annotations

import pytest
from django.test import Client

from campaigns.models import Broadcast, Message
from tests.campaigns.broadcast_helpers import audience

pytestmark = pytest.mark.django_db


def _csrf(client, url):
    return str(client.get(url).context["csrf_token"])


def test_marketing_creates_schedules_and_cancels_with_csrf(marketing_template, make_staff, settings):
    settings.CAMPAIGNS_QUIET_HOURS = None
    segment, _ = audience(10, consenting=lambda i: i < 7)
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    count = client.get("/dashboard/campaigns/broadcasts/audience/", {"segment": segment.pk, "topic": "offers"})
    assert count.json() == {"segment": segment.name, "topic": "offers", "members": 10, "count": 7}
    assert client.get("/dashboard/campaigns/broadcasts/audience/", {"segment": "x", "topic": "a"}).status_code == 400
    assert client.get("/dashboard/campaigns/broadcasts/audience/", {"segment": 999, "topic": "a"}).status_code == 404

    form = {"name": "Holiday gift guide", "segment": segment.pk, "template": "WINTER_NEWS", "topic": "offers",
            "holdout_percent": "10", "attribution_days": "5", "cost": "120.00"}
    assert client.post("/dashboard/campaigns/broadcasts/new/", form).status_code == 403  # no CSRF token
    token = _csrf(client, "/dashboard/campaigns/broadcasts/new/")
    bad = client.post("/dashboard/campaigns/broadcasts/new/", {**form, "template": "NOPE", "csrfmiddlewaretoken": token})
    assert bad.status_code == 200 and "No e-mail template with code" in bad.content.decode()
    created = client.post("/dashboard/campaigns/broadcasts/new/", {**form, "csrfmiddlewaretoken": token})
    assert created.status_code == 302
    b = Broadcast.objects.get()
    assert (b.status, b.holdout_share, b.cost, b.created_by.email) == (Broadcast.DRAFT, 0.1, 120, "marketer@example.com")
    detail = client.get(f"/dashboard/campaigns/broadcasts/{b.pk}/")
    assert detail.status_code == 200 and "7 consenting members" in detail.content.decode()

    url = f"/dashboard/campaigns/broadcasts/{b.pk}/schedule/"
    assert client.post(url, {"when": "now"}).status_code == 403
    past = client.post(url, {"when": "at", "send_at": "2001-01-01T09:00", "csrfmiddlewaretoken": token})
    assert past.status_code == 400 and "That moment has passed" in past.content.decode()
    assert client.post(url, {"when": "at", "csrfmiddlewaretoken": token}).status_code == 400
    assert client.post(url, {"when": "now", "csrfmiddlewaretoken": token}).status_code == 302
    assert Broadcast.objects.get().status == Broadcast.SCHEDULED
    from campaigns.tick import tick_run

    tick_run()
    progress = client.get(f"/dashboard/campaigns/broadcasts/{b.pk}/progress/").json()
    assert progress["status"] == "sending" and progress["audience"] == 7 and progress["total"] >= 5
    assert client.post(f"/dashboard/campaigns/broadcasts/{b.pk}/cancel/").status_code == 403
    cancel = client.post(f"/dashboard/campaigns/broadcasts/{b.pk}/cancel/", {"csrfmiddlewaretoken": token})
    assert cancel.status_code == 302
    assert Broadcast.objects.get().status == Broadcast.CANCELLED
    assert not Message.objects.filter(campaign=b.campaign, status=Message.QUEUED).exists()
    listing = client.get("/dashboard/campaigns/broadcasts/").content.decode()
    assert "Holiday gift guide" in listing and "Cancelled" in listing


def test_support_may_look_but_not_create_or_cancel(marketing_template, make_staff):
    segment, _ = audience(3)
    b = Broadcast.objects.create(name="News", segment=segment, template="WINTER_NEWS", topic="news")
    client = Client()
    client.force_login(make_staff("support@example.com", group="Support"))
    assert client.get("/dashboard/campaigns/broadcasts/").status_code == 200
    assert client.get(f"/dashboard/campaigns/broadcasts/{b.pk}/").status_code == 200
    assert client.get("/dashboard/campaigns/broadcasts/new/").status_code == 403
    assert client.post(f"/dashboard/campaigns/broadcasts/{b.pk}/schedule/", {"when": "now"}).status_code == 403
    assert client.post(f"/dashboard/campaigns/broadcasts/{b.pk}/cancel/").status_code == 403
    assert Broadcast.objects.get().status == Broadcast.DRAFT
    anonymous = Client().get("/dashboard/campaigns/broadcasts/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
