"""Shared pieces of the flow tests: the test triggers switched on, customers with consent,
a flow built step by step, and moving time with ``campaigns_tick --now``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core.management import call_command

BASE = datetime(2027, 1, 5, 10, 0, tzinfo=dt_timezone.utc)  # a Tuesday, 10:00 in London: no quiet hours


@pytest.fixture
def flow_settings(settings):
    """The test triggers installed; the tick's delivery tasks go to a private queue."""
    from kombu import Connection

    settings.CAMPAIGNS_TRIGGER_MODULES = ["tests.campaigns.flow_triggers"]
    settings.CAMPAIGNS_QUEUE = f"test-flows-{uuid.uuid4().hex[:8]}"
    yield settings
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.client.delete(settings.CAMPAIGNS_QUEUE)


@pytest.fixture
def flow_template(db):
    """An e-mail template using what a flow's messages are rendered with."""
    from oscar.core.loading import get_model

    CommunicationEventType = get_model("communication", "CommunicationEventType")
    return CommunicationEventType.objects.create(
        code="FLOW_BASKET", name="Your basket", category=CommunicationEventType.USER_RELATED,
        email_subject_template="{{ customer.first_name }}, your basket is waiting",
        email_body_html_template="<p>{% for product in products %}{{ product.title }} {% endfor %}"
                                 "({{ basket.num_items }} items)</p>"
                                 "{% if voucher %}<p>Code {{ voucher.code }}</p>{% endif %}"
                                 '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>')


def make_customer(username: str, *, consent: bool = True, joined: datetime = BASE, phone: str = ""):
    """A registered customer with a profile, e-mail consent for everything if ``consent``."""
    from django.contrib.auth import get_user_model

    from ecrm.consents import consent_record
    from ecrm.models import Profile
    from ecrm.services import profiles_refresh

    user = get_user_model().objects.create_user(username, f"{username}@example.com", "pw-12345!",
                                                first_name=username.capitalize())
    get_user_model().objects.filter(pk=user.pk).update(date_joined=joined)
    profiles_refresh(person_keys={str(user.pk)})
    profile = Profile.objects.get(person_key=str(user.pk))
    if phone:
        Profile.objects.filter(pk=profile.pk).update(phone=phone)
        profile.refresh_from_db()
    if consent:
        consent_record(profile=profile, channel="email", topic="all", granted=True, source="account",
                       at=joined - timedelta(days=1))
    return profile


def basket_of(profile, *products, created: datetime = BASE):
    from oscar.core.loading import get_model
    from oscar.test.factories import create_basket

    basket = create_basket(empty=True)
    basket.owner = profile.user
    basket.save()
    for product in products:
        basket.add_product(product)
    get_model("basket", "Basket").objects.filter(pk=basket.pk).update(date_created=created)
    return basket


def make_flow(kind: str, steps: list[dict], *, holdout: float = 0.0, exits=("order_placed", "unsubscribed"),
              topic: str = "offers", activate: bool = True, **fields):
    """A flow of these steps ({"kind", "wait_hours", "config", "next", "else"}), activated."""
    from campaigns.flow_models import Flow, FlowStep
    from campaigns.flows.services import flow_activate

    flow = Flow.objects.create(name=f"Test {kind} {uuid.uuid4().hex[:4]}", trigger_kind=kind, topic=topic,
                               holdout_share=holdout, exits=list(exits), **fields)
    for position, step in enumerate(steps, start=1):
        FlowStep.objects.create(flow=flow, position=position, kind=step["kind"], wait_hours=step.get("wait_hours", 0),
                                config=step.get("config", {}), next_target=step.get("next", ""),
                                else_target=step.get("else", "end"))
    if activate:
        flow_activate(flow=flow, now=BASE - timedelta(days=1))
    return flow


def tick(at: datetime) -> None:
    call_command("campaigns_tick", now=at.isoformat(), verbosity=0)
