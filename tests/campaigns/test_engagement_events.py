"""Opens, clicks and unsubscribes reach the customer's timeline as Segment Email-spec events
("Email Opened", "Email Link Clicked", "Unsubscribed"), once per fact, through tracking's real
stream (Redis) and consumer; the 360° card shows them; no personal data in their URLs."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django.test import Client

from campaigns.models import MessageClick
from campaigns.tokens import unsubscribe_url
from ecrm.models import Profile
from ecrm.timeline import customer_timeline
from tests.campaigns.test_engagement import _links, _path, sent  # noqa: F401 - the fixture
from tracking.consumer import consume_once, ensure_group
from tracking.models import Event

pytestmark = pytest.mark.django_db
HUMAN = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15"


def _drain():
    while consume_once("test", block_ms=50):
        pass


@pytest.fixture
def stream(stream_name, django_capture_on_commit_callbacks):
    ensure_group()
    return django_capture_on_commit_callbacks


def test_repeat_opens_are_one_email_opened_event_on_the_timeline(sent, stream):  # noqa: F811
    pixel = re.search(r'<img src="https://shop\.example\.com(/campaigns/o/[^"]+\.gif)"', sent.body_html).group(1)
    client = Client()
    with stream(execute=True):
        for _ in range(3):
            assert client.get(pixel, HTTP_USER_AGENT=HUMAN).status_code == 200
        assert client.head(pixel).status_code == 200
    _drain()
    opened = Event.objects.get(event="Email Opened")
    assert opened.user_id == sent.person_key and opened.source == "server"
    assert opened.properties["email_id"] == str(sent.pk)
    assert opened.properties["campaign_id"] == sent.campaign
    assert opened.properties["campaign_name"] == "Winter news"
    assert opened.properties["email_subject"] == sent.subject and opened.properties["automated"] is False
    profile = Profile.objects.get(person_key=sent.person_key)
    assert [e.title for e in customer_timeline(profile) if e.kind == "event"] == ["Email Opened"]
    # the pixel's URL carries a signed message id only: no address, no person key
    assert sent.to_email not in unquote(pixel) and sent.person_key not in unquote(pixel)


def test_a_click_is_one_event_per_link_and_a_scanner_is_none(sent, stream):  # noqa: F811
    tracked = next(u for u in _links(sent.body_html) if "/campaigns/c/" in u)
    path, query = _path(tracked)
    client = Client()
    with stream(execute=True):
        # a mail security scanner follows the link first: recorded as automated, no event
        assert client.get(path, query, HTTP_USER_AGENT="Mimecast URL scanner").status_code == 302
    _drain()
    assert not Event.objects.filter(event="Email Link Clicked").exists()
    assert MessageClick.objects.get().automated is True
    with stream(execute=True):
        assert client.get(path, query, HTTP_USER_AGENT=HUMAN).status_code == 302
        assert client.get(path, query, HTTP_USER_AGENT=HUMAN).status_code == 302
    _drain()
    clicked = Event.objects.get(event="Email Link Clicked")
    assert clicked.user_id == sent.person_key
    assert clicked.properties["link_url"] == "https://shop.example/new"
    assert clicked.properties["email_id"] == str(sent.pk)
    # the customer's click corrects the scanner's: it counts in the results now
    assert MessageClick.objects.get().automated is False
    assert sent.to_email not in unquote(tracked)


def test_a_clicked_link_is_recorded_without_its_query_string():
    from campaigns.engagement_events import link_without_query

    assert link_without_query("https://shop.example/p/1/?ecrm_token=abc.def#x") == "https://shop.example/p/1/"


def test_unsubscribe_is_an_unsubscribed_event_and_the_card_shows_engagement(sent, stream, make_staff):  # noqa: F811
    url = unsubscribe_url(person_key=sent.person_key, channel="email", topic="newsletter")
    with stream(execute=True):
        response = Client().post(url[len("https://shop.example.com"):], {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        Client().post(url[len("https://shop.example.com"):], {})  # the page's button a moment later
        pixel = re.search(r'<img src="https://shop\.example\.com(/campaigns/o/[^"]+\.gif)"', sent.body_html).group(1)
        Client().get(pixel, HTTP_USER_AGENT=HUMAN)
    _drain()
    event = Event.objects.get(event="Unsubscribed")
    assert event.user_id == sent.person_key
    assert event.properties == {"channel": "email", "list_id": "newsletter", "topic": "newsletter",
                                "source": "one-click"}
    profile = Profile.objects.get(person_key=sent.person_key)
    titles = [e.title for e in customer_timeline(profile)]
    assert "Unsubscribed" in titles and "Email Opened" in titles

    client = Client()
    client.force_login(make_staff("support@example.com", group="Support"))
    page = client.get(f"/dashboard/customers/support-desk/{profile.pk}/", {"tab": "campaign-messages"})
    assert page.status_code == 200
    assert re.search(r"Opened [^<]*\d", page.content.decode())
    timeline = client.get(f"/dashboard/customers/support-desk/{profile.pk}/", {"tab": "timeline"}).content.decode()
    assert "Email Opened" in timeline and "Unsubscribed" in timeline
