"""Every trigger kind end to end, as a store runs it: its ready-made flow (created from the
trigger's template, as "create from a trigger" in the dashboard does) activated, time moved
with ``campaigns_tick --now``, the e-mails rendered and sent by a real Celery worker through
a real Redis broker. Each fires once at its moment and not a moment before, and another tick
later sends nothing more.

The scenarios are the trigger unit tests' own (tests/campaigns/test_triggers_*.py), so the
moments here are the boundaries those tests establish."""

from __future__ import annotations

from datetime import timedelta

import pytest
from oscar.core.loading import get_model

from campaigns.flow_models import FlowEnrolment
from campaigns.flows.services import flow_activate, flow_create_from_trigger, flow_pause
from campaigns.models import Message, Occasion, StockSnapshot
from campaigns.triggers.base import trigger_get
from ecrm.consents import consent_record
from ecrm.models import Segment, SegmentMembership
from tests.campaigns.conftest import sent_mail
from tests.campaigns.flow_helpers import tick
from tests.campaigns.trigger_data import at, basket_of, customer, event, order_of, product, status_change
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
Product = get_model("catalogue", "Product")
ProductAlert = get_model("customer", "ProductAlert")


def _stock(item, *, when, num_in_stock=None, price=None):
    from decimal import Decimal

    record = item.stockrecords.get()
    if num_in_stock is not None:
        record.num_in_stock, record.num_allocated = num_in_stock, 0
    if price is not None:
        record.price = Decimal(price)
    record.save()
    StockSnapshot.objects.filter(pk=StockSnapshot.objects.filter(stockrecord=record).order_by("-pk")
                                 .values("pk")[:1]).update(recorded_at=when)


def abandoned_basket():
    ada = customer("basket-ada")
    basket_of(ada, product("Kettle"), added_at=at(-3))
    return ada, {}, at(0.99), at(1)


def abandoned_checkout():
    ada, kettle = customer("checkout-ada"), product("Kettle")
    basket = basket_of(ada, kettle, added_at=at(-2))
    event("Checkout Started", when=at(-1), profile=ada, cart_id=str(basket.pk),
          products=[{"product_id": str(kettle.pk), "quantity": 1}])
    return ada, {}, at(-0.01), at(0)


def browse_abandonment():
    ada, kettle = customer("browse-ada"), product("Kettle")
    for hours in (-30, -20, -5):
        event("Product Viewed", when=at(hours), profile=ada, product_id=str(kettle.pk))
    return ada, {}, at(-3.01), at(-3)


def post_purchase():
    ada, kettle, mug = customer("post-ada"), product("Kettle"), product("Mug")
    order_of(None, kettle, mug, placed_at=at(days=-50), email="other@example.com")
    delivered = order_of(ada, kettle, placed_at=at(days=-12))
    status_change(delivered, "Delivered", at(days=-8))
    return ada, {}, at(days=-1.01), at(days=-1)


def replenishment():
    from recommender.models import RepurchasePolicy

    ada, tea = customer("refill-ada"), product("Tea", product_class="Groceries")
    RepurchasePolicy.objects.create(product_class=tea.product_class, can_be_bought_again=True)
    for days_ago in (58, 38, 18):
        order_of(ada, tea, placed_at=at(days=-days_ago))
    return ada, {}, at(days=-1.01), at(days=-1)


def win_back():
    return customer("winback-ada", order_count=3, last_order_at=at(days=-120)), {}, at(days=-0.01), at(0)


def back_in_stock():
    kettle = product("Rare kettle", stock=0)
    StockSnapshot.objects.filter(product=kettle).update(recorded_at=at(days=-20))
    ada = customer("stock-ada")
    alert = ProductAlert.objects.create(user=ada.user, product=kettle, status=ProductAlert.ACTIVE)
    ProductAlert.objects.filter(pk=alert.pk).update(date_created=at(days=-3))
    _stock(kettle, when=at(-1), num_in_stock=10)
    return ada, {}, at(-1.01), at(-1)


def price_drop():
    kettle = product("Dear kettle", price="50.00")
    StockSnapshot.objects.filter(product=kettle).update(recorded_at=at(days=-30))
    ada = customer("price-ada")
    event("Product Viewed", when=at(days=-10), profile=ada, product_id=str(kettle.pk))
    _stock(kettle, when=at(-1), price="44.00")
    return ada, {}, at(-1.01), at(-1)


def new_arrivals():
    from oscar.test.factories import CategoryFactory

    fresh = product("Green tea")
    fresh.categories.add(CategoryFactory(name="Loose tea"))
    Product.objects.filter(pk=fresh.pk).update(date_created=at(-2))
    return customer("arrivals-ada", favourite_categories=["Loose tea"]), {}, at(-2.01), at(-2)


def welcome():
    return customer("welcome-ada", joined=at(-1)), {}, at(-1.01), at(-1)


def birthday():
    # 13 June: three days before is 10 June, from midnight in London (23:00 UTC on the 9th)
    return customer("birthday-ada", traits={"birthday": "1990-06-13"}), {}, at(-13.01), at(-13)


def occasion():
    ada, kettle = customer("occasion-ada"), product("Kettle")
    order = order_of(ada, kettle, placed_at=at(days=-300))
    Occasion.objects.create(person_key=ada.person_key, user=ada.user, order=order, recipient="Mum",
                            kind=Occasion.BIRTHDAY, month=6, day=24, created_at=at(days=-300))
    return ada, {}, at(-13.01), at(-13)  # 14 days before the 24th, from midnight in London


def segment_joined():
    segment = Segment.objects.create(name="VIP joiners", kind=Segment.STATIC)
    ada = customer("joined-ada")
    SegmentMembership.objects.create(segment=segment, profile=ada, joined_at=at(-5))
    return ada, {"segment": segment.pk}, at(-5.01), at(-5)


def segment_left():
    segment = Segment.objects.create(name="VIP leavers", kind=Segment.STATIC)
    bob = customer("left-bob")
    SegmentMembership.objects.create(segment=segment, profile=bob, joined_at=at(-30), left_at=at(-2))
    return bob, {"segment": segment.pk}, at(-2.01), at(-2)


SCENARIOS = [abandoned_basket, abandoned_checkout, browse_abandonment, post_purchase, replenishment, win_back,
             back_in_stock, price_drop, new_arrivals, welcome, birthday, occasion, segment_joined, segment_left]


def test_every_trigger_kind_has_a_scenario():
    from campaigns.triggers.base import triggers_all

    assert {t.kind for t in triggers_all()} == {s.__name__ for s in SCENARIOS}


def test_each_trigger_fires_once_at_its_moment_on_a_real_worker(settings, mail_workers):
    settings.CAMPAIGNS_FLOW_TRIGGER_SECONDS = 1  # the "before" and "fires" ticks are seconds apart
    mail_workers("ok")
    for scenario in SCENARIOS:
        kind = scenario.__name__
        person, trigger_settings, before, fires = scenario()
        consent_record(profile=person, channel="email", topic="all", granted=True, source="account",
                       at=at(days=-400))
        flow = flow_create_from_trigger(trigger=trigger_get(kind))
        flow.trigger_settings = trigger_get(kind).settings_clean({**flow.trigger_settings, **trigger_settings})
        flow.holdout_share = 0
        flow.save()
        flow_activate(flow=flow, now=at(days=-400))

        tick(before)
        assert not FlowEnrolment.objects.filter(flow=flow).exists(), f"{kind} fired before its moment"
        tick(fires)
        enrolment = FlowEnrolment.objects.get(flow=flow)
        assert enrolment.person_key == person.person_key, kind
        if kind == "segment_left":  # its ready flow tags the customer and sends nothing
            assert "left-segment" in set(person.tags.names())
        else:
            def settled():
                message = Message.objects.get(campaign=flow.campaign)
                return message.status == Message.SENT or message.due_at > fires
            assert wait_for(settled, timeout=60), kind
            message = Message.objects.get(campaign=flow.campaign)
            if message.status != Message.SENT:  # the moment fell in the customer's quiet hours
                assert message.deferred_because.startswith("quiet hours"), (kind, message.deferred_because)
                tick(message.due_at)
            assert wait_for(lambda: Message.objects.filter(campaign=flow.campaign, status=Message.SENT).exists(),
                            timeout=60), f"{kind}: {list(Message.objects.filter(campaign=flow.campaign).values())}"
        tick(fires + timedelta(minutes=5))  # a later tick: the trigger still holds, nothing new goes
        messages = list(Message.objects.filter(campaign=flow.campaign))
        assert FlowEnrolment.objects.filter(flow=flow).count() == 1, kind
        if kind != "segment_left":
            assert len(messages) == 1 and messages[0].to_email == person.email, kind
            mails = [m for m in sent_mail(mail_workers.folder) if m["X-Campaigns-Key"] == messages[0].key]
            assert len(mails) == 1 and mails[0]["To"] == person.email, kind
            assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", kind
        flow_pause(flow=flow)  # the next scenario's customers are not this flow's business
