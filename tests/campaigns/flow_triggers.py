"""Two simple trigger kinds for the flow engine's tests (the store's real ones live in
campaigns/triggers/<kind>.py). Listed in CAMPAIGNS_TRIGGER_MODULES by the tests that use them."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from campaigns.triggers.base import Due, Param, Trigger, register


def _signed_up(values: dict, now):
    """Customers who registered in the last ``within_hours`` (up to ``now``)."""
    since = now - timedelta(hours=values["within_hours"])
    for pk, joined in get_user_model().objects.filter(date_joined__gt=since, date_joined__lte=now,
                                                      is_staff=False).values_list("pk", "date_joined"):
        yield Due(person_key=str(pk), window="signup", at=joined)


def _basket_left(values: dict, now):
    """Open baskets with lines, untouched for ``idle_hours``: one firing per basket."""
    Basket = get_model("basket", "Basket")
    cutoff = now - timedelta(hours=values["idle_hours"])
    for basket in Basket.objects.filter(status=Basket.OPEN, owner__isnull=False, date_created__lte=cutoff,
                                        lines__isnull=False).distinct().prefetch_related("lines"):
        yield Due(person_key=str(basket.owner_id), window=f"basket:{basket.pk}", at=basket.date_created,
                  context={"basket_id": basket.pk, "product_ids": [line.product_id for line in basket.lines.all()]})


SIGNUP = register(Trigger(
    kind="test_signup", label="Test: signed up", description="Customers who just registered.",
    params=(Param("within_hours", "Registered within (hours)", "int", default=48, min=1),),
    find=_signed_up, topic="newsletter",
    flow_template=({"wait_hours": 24, "action": "email", "template": "WINTER_NEWS"},),
    exits=("order_placed", "unsubscribed")))

BASKET = register(Trigger(
    kind="test_basket", label="Test: basket left", description="Baskets left with items in them.",
    params=(Param("idle_hours", "Idle for (hours)", "int", default=1, min=1),),
    find=_basket_left, topic="offers",
    flow_template=({"wait_hours": 4, "action": "email", "template": "WINTER_NEWS"},
                   {"wait_hours": 20, "action": "voucher", "percent": 10, "valid_days": 7},
                   {"wait_hours": 0, "action": "email", "template": "WINTER_NEWS"}),
    exits=("order_placed", "basket_emptied", "unsubscribed")))
