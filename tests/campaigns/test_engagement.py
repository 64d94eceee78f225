"""Opens and clicks: a broadcast's e-mail carries a pixel and redirected links; each records
once, without login; the redirect goes only where the e-mail said (the recommender's
?ecrm_token kept); bad tokens are refused."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oscar.core.loading import get_model

from campaigns.broadcasts import broadcast_schedule, broadcasts_run
from campaigns.engagement import click_url, instrument_html
from campaigns.models import Message, MessageClick, MessageOpen
from campaigns.outbox import message_deliver
from recommender.tokens import read_token
from recommender.training import train_version
from tests.campaigns.broadcast_helpers import audience, broadcast

pytestmark = pytest.mark.django_db
CommunicationEventType = get_model("communication", "CommunicationEventType")


@pytest.fixture
def sent(settings, marketing_template):
    settings.CAMPAIGNS_QUIET_HOURS = None
    settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    settings.ALLOWED_HOSTS = ["shop.example.com", "testserver"]
    segment, _ = audience(2)
    b = broadcast_schedule(broadcast=broadcast(segment))
    broadcasts_run()
    message = Message.objects.filter(campaign=b.campaign).first()
    assert message_deliver(message.pk) == "sent"
    message.refresh_from_db()
    return message


def _links(body: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', body)]


def _path(url: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_the_email_has_a_pixel_and_tracked_links_but_a_direct_unsubscribe(sent):
    links = _links(sent.body_html)
    tracked = [u for u in links if "/campaigns/c/" in u]
    assert len(tracked) == 1 and _path(tracked[0])[1]["u"] == "https://shop.example/new"
    assert any("/campaigns/unsubscribe/" in u for u in links)  # RFC 8058: never wrapped
    assert re.search(r'<img src="https://shop\.example\.com/campaigns/o/[^"]+\.gif" width="1" height="1"',
                     sent.body_html)
    assert "/campaigns/c/" not in sent.body_text  # the plain text keeps the plain links


def test_open_pixel_records_the_first_open_once_without_login(sent):
    pixel = re.search(r'<img src="https://shop\.example\.com(/campaigns/o/[^"]+\.gif)"', sent.body_html).group(1)
    client = Client()
    first = client.get(pixel, HTTP_USER_AGENT="Mozilla/5.0 (Macintosh) AppleWebKit")
    assert first.status_code == 200 and first["Content-Type"] == "image/gif" and first.content.startswith(b"GIF89a")
    assert "no-store" in first["Cache-Control"] and not first.cookies
    opened = MessageOpen.objects.get(message=sent)
    assert client.get(pixel, HTTP_USER_AGENT="Mozilla/5.0 (via ggpht.com GoogleImageProxy)").status_code == 200
    assert MessageOpen.objects.count() == 1 and MessageOpen.objects.get().at == opened.at
    assert client.head(pixel).status_code == 200 and MessageOpen.objects.count() == 1
    assert client.get("/campaigns/o/12:forged.gif").status_code == 404
    assert client.get(pixel.replace("/o/", "/o/9")).status_code == 404


def test_click_records_once_and_redirects_to_the_signed_url_only(sent):
    tracked = next(u for u in _links(sent.body_html) if "/campaigns/c/" in u)
    path, query = _path(tracked)
    client = Client()
    response = client.get(path, query, HTTP_USER_AGENT="Mozilla/5.0")
    assert response.status_code == 302 and response["Location"] == "https://shop.example/new"
    client.get(path, query, HTTP_USER_AGENT="Mozilla/5.0")
    click = MessageClick.objects.get()
    assert (click.message_id, click.url, click.automated) == (sent.pk, "https://shop.example/new", False)
    # A link checker's HEAD follows but is no click.
    assert client.head(path, query).status_code == 302 and MessageClick.objects.count() == 1
    # No open redirect: another destination with this token is refused ...
    evil = client.get(path, {"u": "https://evil.example/phish"})
    assert evil.status_code == 400 and "changed" in evil.content.decode()
    assert client.get(path, {"u": "//evil.example"}).status_code == 400
    # ... unless it is the shop's own page (followed, not recorded).
    own = client.get(path, {"u": "https://shop.example.com/offers/"})
    assert own.status_code == 302 and own["Location"] == "https://shop.example.com/offers/"
    assert MessageClick.objects.count() == 1
    assert client.get("/campaigns/c/1.abc:forged/", {"u": "https://shop.example/new"}).status_code == 400
    assert client.get(path).status_code == 400  # no destination


def test_a_link_that_is_not_the_web_is_left_alone():
    body = ('<html><body><a href="mailto:help@shop.example">mail</a> <a href="#top">top</a> '
            '<a href="https://shop.example/a?x=1&amp;y=2">a</a></body></html>')
    out = instrument_html(body, message_id=5)
    assert 'href="mailto:help@shop.example"' in out and 'href="#top"' in out
    tracked = next(u for u in _links(out) if "/campaigns/c/" in u)
    assert _path(tracked)[1]["u"] == "https://shop.example/a?x=1&y=2"
    assert out.endswith('aria-hidden="true"></body></html>')


def test_personal_recommendations_keep_their_attribution_through_the_redirect(shop, isolated, settings, client):
    settings.CAMPAIGNS_QUIET_HOURS = None
    settings.RECOMMENDER_EMAIL_BASE_URL = "https://shop.example.com"
    settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    products, users = shop
    version = train_version()
    CommunicationEventType.objects.create(
        code="GIFT_GUIDE", name="Gift guide", category=CommunicationEventType.USER_RELATED,
        email_subject_template="Gifts for {{ customer.email }}",
        email_body_html_template="<html><body><h1>Gift guide</h1>{{ recommendations.html|safe }}"
                                 '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>')
    from ecrm.models import Consent, Profile, Segment
    from ecrm.segments import static_members_set
    from ecrm.services import profiles_refresh

    profiles_refresh(person_keys={str(users[0].pk), str(users[1].pk)})
    people = list(Profile.objects.filter(person_key__in=[str(users[0].pk), str(users[1].pk)]))
    for person in people:
        Consent.objects.create(profile=person, channel="email", topic="all", granted=True, source="test")
    segment = Segment.objects.create(name="Tea drinkers", kind=Segment.STATIC)
    static_members_set(segment, {p.pk for p in people})
    b = broadcast_schedule(broadcast=broadcast(segment, template="GIFT_GUIDE"))
    broadcasts_run()
    bodies = {}
    for message in Message.objects.filter(campaign=b.campaign):
        assert message_deliver(message.pk) == "sent", message.last_error
        message.refresh_from_db()
        bodies[message.person_key] = message.body_html
    assert len(bodies) == 2 and len(set(bodies.values())) == 2  # each their own
    tracked = [u for u in _links(bodies[str(users[0].pk)]) if "/campaigns/c/" in u]
    assert len(tracked) >= 4 and all("ecrm_token=" in _path(u)[1]["u"] for u in tracked)
    path, query = _path(tracked[0])
    landing = client.get(path, query)
    assert landing.status_code == 302
    token = parse_qs(urlsplit(landing["Location"]).query)["ecrm_token"][0]
    assert read_token(token)["slot"] == f"email:broadcast-{b.pk}" and read_token(token)["version"] == version.pk
    assert urlsplit(landing["Location"]).netloc == "shop.example.com"


def test_click_urls_are_signed_per_message_and_url():
    one, other = click_url(1, "https://a.example/"), click_url(2, "https://a.example/")
    assert one != other and "u=https" in one


def test_opens_and_clicks_are_in_the_data_export_and_go_with_the_erasure(sent, make_staff):
    import io
    import json
    import zipfile

    from ecrm.models import Profile
    from ecrm.privacy import customer_erase, customer_export, erasure_plan

    pixel = re.search(r'<img src="https://shop\.example\.com(/campaigns/o/[^"]+\.gif)"', sent.body_html).group(1)
    path, query = _path(next(u for u in _links(sent.body_html) if "/campaigns/c/" in u))
    Client().get(pixel, HTTP_USER_AGENT="Mozilla/5.0")
    Client().get(path, query, HTTP_USER_AGENT="Mozilla/5.0")
    profile = Profile.objects.get(person_key=sent.person_key)
    archive = zipfile.ZipFile(io.BytesIO(customer_export(profile)))
    assert [o["message__key"] for o in json.loads(archive.read("campaign_opens.json"))] == [sent.key]
    assert json.loads(archive.read("campaign_clicks.json"))[0]["url"] == "https://shop.example/new"
    plan = erasure_plan(profile)
    assert (plan["campaign opens"], plan["campaign clicks"]) == (1, 1)
    counts = customer_erase(profile, staff=make_staff("dpo@example.com", group="Support"))
    assert counts["campaigns.MessageOpen"] == 1 and counts["campaigns.MessageClick"] == 1
    assert not MessageOpen.objects.exists() and not MessageClick.objects.exists()
