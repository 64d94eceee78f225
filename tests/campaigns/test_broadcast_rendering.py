"""A broadcast's delivery batch renders each recipient exactly the e-mail they get when
rendered on their own — their own recommendations, links and plain text — with the
recommendations looked up for the whole batch and their impressions written once
(real PostgreSQL, Redis and a trained recommender)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from oscar.core.loading import get_model

from campaigns.broadcasts import broadcast_schedule, broadcasts_run
from campaigns.models import Message
from campaigns.outbox import messages_deliver
from campaigns.rendering import render
from recommender.attribution import _impressions_key
from recommender.publish import client
from recommender.training import train_version
from tests.campaigns.broadcast_helpers import broadcast

pytestmark = pytest.mark.django_db
CommunicationEventType = get_model("communication", "CommunicationEventType")
UNSUBSCRIBE = re.compile(r"/campaigns/unsubscribe/[^\"/]+/")  # signed with the time: differs by the second


def _same(html: str) -> str:
    return UNSUBSCRIBE.sub("/campaigns/unsubscribe/…/", html)


def test_a_delivery_batch_renders_what_each_message_renders_alone(shop, isolated, settings, mailoutbox):
    settings.CAMPAIGNS_QUIET_HOURS = None
    settings.RECOMMENDER_EMAIL_BASE_URL = settings.CAMPAIGNS_BASE_URL = "https://shop.example.com"
    _products, users = shop
    version = train_version()
    CommunicationEventType.objects.create(
        code="GIFT_GUIDE", name="Gift guide", category=CommunicationEventType.USER_RELATED,
        email_subject_template="Gifts for {{ customer.email }}",
        email_body_html_template="<html><body>\n<h1>Gift guide</h1>\n<p>Hello {{ customer.email }}</p>\n"
                                 "{{ recommendations.html|safe }}\n"
                                 '<p><a href="https://shop.example.com/offers/">Offers</a></p>\n'
                                 '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>\n</body></html>')
    from ecrm.models import Consent, Profile, Segment
    from ecrm.segments import static_members_set
    from ecrm.services import profiles_refresh

    profiles_refresh(person_keys={str(user.pk) for user in users})
    people = list(Profile.objects.filter(person_key__in=[str(user.pk) for user in users]).exclude(email=""))
    for person in people:
        Consent.objects.create(profile=person, channel="email", topic="all", granted=True, source="test")
    segment = Segment.objects.create(name="Everybody", kind=Segment.STATIC)
    static_members_set(segment, {p.pk for p in people})
    b = broadcast_schedule(broadcast=broadcast(segment, template="GIFT_GUIDE"))
    broadcasts_run()
    messages = list(Message.objects.filter(campaign=b.campaign).order_by("pk"))
    assert len(messages) >= 3
    alone = {m.pk: render(m) for m in messages}  # outside a batch: one by one, as before
    impressions, field = _impressions_key(timezone.localdate()), f"{version.pk}|email:broadcast-{b.pk}"
    counted = int(client().hget(impressions, field) or 0)

    outcomes = messages_deliver([m.pk for m in messages])

    assert outcomes == {"sent": len(messages)}
    bodies = set()
    for message in Message.objects.filter(pk__in=alone):
        expected = alone[message.pk]
        assert _same(message.body_html) == _same(expected["html"])
        assert message.subject == expected["subject"]
        bodies.add(message.body_html)
    assert len(bodies) == len(messages)
    sent = {mail.to[0]: mail for mail in mailoutbox}
    for message in messages:
        assert _same(sent[message.to_email].body) == _same(alone[message.pk]["text"])
    shown = sum(len(set(re.findall(r"ecrm_token%3D([^&\"]+)", alone[m.pk]["html"]))) for m in messages)
    assert shown >= 2 * len(messages)
    assert int(client().hget(impressions, field)) - counted == shown  # once per message, written by the batch
