"""A broadcast previewed as one of its recipients and sent as a test to staff: rendered as
delivery renders it, counted nowhere, the test's unsubscribe link the sender's own; who may
do what; a broken template explained, not a 500."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from campaigns.models import Message
from campaigns.tokens import read_unsubscribe_token
from tests.campaigns.broadcast_helpers import audience, broadcast

pytestmark = pytest.mark.django_db


def _csrf(client, url):
    return str(client.get(url).context["csrf_token"])


def test_marketing_previews_as_a_recipient_and_sends_a_test_to_staff(marketing_template, make_staff, settings):
    settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    segment, people = audience(4, consenting=lambda i: i != 0)
    draft = broadcast(segment)
    marketer = make_staff("marketer@example.com", group="Marketing")
    client = Client(enforce_csrf_checks=True)
    client.force_login(marketer)
    url = f"/dashboard/campaigns/broadcasts/{draft.pk}/preview/"
    assert 'id="preview-link"' in client.get(f"/dashboard/campaigns/broadcasts/{draft.pk}/").content.decode()
    page = client.get(url).content.decode()
    # the first consenting member (P0 gave no consent: not a recipient)
    assert "Winter news for P1" in page and "p0@example.com" not in page and "p3@example.com" in page
    assert "Hello P1" in page and "/campaigns/o/" not in page and "/campaigns/c/" not in page  # not tracked
    page = client.get(url, {"customer": people[2].pk}).content.decode()
    assert "Winter news for P2" in page
    assert client.get(url, {"customer": "x"}).status_code == 200  # a bad choice falls back to a recipient

    test_url = f"/dashboard/campaigns/broadcasts/{draft.pk}/test/"
    assert client.post(test_url, {"customer": people[2].pk, "to": "marketer@example.com"}).status_code == 403
    token = _csrf(client, url)
    refused = client.post(test_url, {"customer": people[2].pk, "to": "p3@example.com", "csrfmiddlewaretoken": token},
                          follow=True)
    assert "tests go only to staff" in refused.content.decode() and mail.outbox == []
    sent = client.post(test_url, {"customer": people[2].pk, "to": "marketer@example.com",
                                  "csrfmiddlewaretoken": token}, follow=True)
    assert "sent to marketer@example.com" in sent.content.decode()
    assert len(mail.outbox) == 1
    test = mail.outbox[0]
    assert test.subject == "[Test] Winter news for P2" and test.to == ["marketer@example.com"]
    assert "marketer@example.com" in test.extra_headers["X-Campaigns-Test"]
    unsubscribe = re.search(r"/campaigns/unsubscribe/([^/]+)/", test.extra_headers["List-Unsubscribe"]).group(1)
    assert read_unsubscribe_token(unsubscribe)["p"] == str(marketer.pk)  # the tester's own, never P2's
    html = test.alternatives[0][0]
    assert unsubscribe in html and "Hello P2" in html
    assert not Message.objects.exists()  # no outbox row: nothing counted, no consent or cap used up


def test_support_may_preview_but_not_send_and_a_broken_template_is_explained(marketing_template, make_staff):
    segment, _ = audience(2)
    draft = broadcast(segment)
    support = Client()
    support.force_login(make_staff("support@example.com", group="Support"))
    assert support.get(f"/dashboard/campaigns/broadcasts/{draft.pk}/preview/").status_code == 200
    assert 'id="test-form"' not in support.get(f"/dashboard/campaigns/broadcasts/{draft.pk}/preview/").content.decode()
    assert support.post(f"/dashboard/campaigns/broadcasts/{draft.pk}/test/",
                        {"to": "support@example.com"}).status_code == 403
    marketing_template.email_subject_template = "{% if %}"
    marketing_template.save()
    page = support.get(f"/dashboard/campaigns/broadcasts/{draft.pk}/preview/")
    assert page.status_code == 200 and "failed to render" in page.content.decode()
    empty = broadcast(audience(1, consenting=lambda i: False, prefix="q")[0])
    nobody = support.get(f"/dashboard/campaigns/broadcasts/{empty.pk}/preview/").content.decode()
    assert "Nobody to preview it for" in nobody
    assert Client().get(f"/dashboard/campaigns/broadcasts/{draft.pk}/preview/").status_code == 302  # to login


def test_the_preview_shows_the_recipients_own_recommendations_and_counts_no_impressions(
        shop, isolated, settings, make_staff):  # noqa: F811
    from django.utils import timezone
    from oscar.core.loading import get_model

    from ecrm.models import Consent, Profile, Segment
    from ecrm.segments import static_members_set
    from ecrm.services import profiles_refresh
    from recommender.attribution import _impressions_key
    from recommender.publish import client as redis_client
    from recommender.training import train_version

    settings.RECOMMENDER_EMAIL_BASE_URL = settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    _products, users = shop
    train_version()
    CommunicationEventType = get_model("communication", "CommunicationEventType")
    CommunicationEventType.objects.create(
        code="GIFT_GUIDE", name="Gift guide", category=CommunicationEventType.USER_RELATED,
        email_subject_template="Gifts for {{ customer.email }}",
        email_body_html_template="<html><body>{{ recommendations.html|safe }}"
                                 '<a href="{{ unsubscribe_url }}">Unsubscribe</a></body></html>')
    profiles_refresh(person_keys={str(users[0].pk)})
    person = Profile.objects.get(person_key=str(users[0].pk))
    Consent.objects.create(profile=person, channel="email", topic="all", granted=True, source="test")
    segment = Segment.objects.create(name="Tea drinkers", kind=Segment.STATIC)
    static_members_set(segment, {person.pk})
    gift_guide = broadcast(segment, template="GIFT_GUIDE")
    client = Client()
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    page = client.get(f"/dashboard/campaigns/broadcasts/{gift_guide.pk}/preview/").content.decode()
    assert f"Gifts for {person.email}" in page and "ecrm_token=" in page  # their own picks, attributed links
    assert not redis_client().hgetall(_impressions_key(timezone.localdate()))  # a preview is no impression
    assert not Message.objects.exists()
