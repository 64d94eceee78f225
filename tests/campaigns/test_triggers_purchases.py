"""Browse abandonment, post-purchase cross-sell, replenishment and win-back: each fires at
its moment, with its window and context, and not before or after."""

from datetime import timedelta

import pytest
from oscar.core.loading import get_model

from ecrm.models import Profile
from recommender.models import RepurchasePolicy
from tests.campaigns.trigger_data import NOW, at, customer, due, due_list, event, order_of, product, status_change

pytestmark = pytest.mark.django_db


def test_browse_abandonment_needs_enough_views_no_add_and_a_pause():
    ada, bob, kettle, mug = customer("ada"), customer("bob"), product("Kettle"), product("Mug")
    for hours in (-30, -20, -5):
        event("Product Viewed", when=at(hours), profile=ada, product_id=str(kettle.pk))
    for hours in (-6, -5.5):
        event("Product Viewed", when=at(hours), profile=ada, product_id=str(mug.pk))
    for hours in (-30, -20, -10):
        event("Product Viewed", when=at(hours), profile=bob, product_id=str(kettle.pk))
    event("Product Added", when=at(-9), profile=bob, product_id=str(kettle.pk))

    assert due("browse_abandonment", at(-3.01)) == {}  # the last view was less than 2 h before
    found = due("browse_abandonment", at(-3))
    assert list(found) == [ada.person_key]
    assert found[ada.person_key].window == f"{kettle.pk}:2026-W24"
    assert found[ada.person_key].context == {"product_ids": [kettle.pk]}  # two views of the mug: not enough
    assert found[ada.person_key].at == at(-3)
    assert due("browse_abandonment", at(-3), min_views=2)[ada.person_key].context == {
        "product_ids": [kettle.pk, mug.pk]}
    assert due("browse_abandonment", at(days=8)) == {}  # the views left the 7-day period


def test_browse_abandonment_ignores_a_product_bought_meanwhile():
    ada, kettle = customer("ada"), product("Kettle")
    for hours in (-10, -9, -8):
        event("Product Viewed", when=at(hours), profile=ada, product_id=str(kettle.pk))
    assert ada.person_key in due("browse_abandonment", at(0))
    order_of(ada, kettle, placed_at=at(-1))
    assert due("browse_abandonment", at(0)) == {}


def test_post_purchase_counts_from_delivery_else_from_placement_with_bought_together_items():
    ada, bob = customer("ada"), customer("cy")
    kettle, mug, tea, teapot = product("Kettle"), product("Mug"), product("Tea"), product("Teapot")
    for n in range(3):  # other customers bought kettles with mugs and tea
        order_of(None, kettle, mug, tea, placed_at=at(days=-50 - n), email=f"other{n}@example.com")
    order_of(None, kettle, teapot, placed_at=at(days=-55), email="other9@example.com")
    delivered = order_of(ada, kettle, placed_at=at(days=-12))
    status_change(delivered, "Delivered", at(days=-8))
    never_marked = order_of(bob, mug, placed_at=at(days=-13))

    found = due("post_purchase", at(days=-1.01))
    assert list(found) == []  # delivered 6.99 days ago; placed 11.99 days ago
    found = due("post_purchase", at(days=-1))
    assert list(found) == [ada.person_key]
    assert found[ada.person_key].window == str(delivered.number)
    assert found[ada.person_key].context == {"order_id": delivered.pk, "product_ids": [mug.pk, tea.pk, teapot.pk]}
    assert found[ada.person_key].at == at(days=-1)
    found = due("post_purchase", at(days=1))
    assert found[bob.person_key].window == str(never_marked.number)  # 14 days after placement
    assert found[bob.person_key].context["product_ids"][0] == kettle.pk
    assert bob.person_key not in due("post_purchase", at(days=1), days_after_placement=0)  # waits for delivery
    status_change(never_marked, "Cancelled", at(days=-12))
    assert bob.person_key not in due("post_purchase", at(days=1))


def test_replenishment_uses_the_customers_interval_and_only_for_consumables():
    ada, bob = customer("ada"), customer("bob")
    tea, kettle = product("Tea", product_class="Groceries"), product("Kettle", product_class="Appliances")
    RepurchasePolicy.objects.create(product_class=tea.product_class, can_be_bought_again=True)
    RepurchasePolicy.objects.create(product_class=kettle.product_class, can_be_bought_again=False)
    # Ada buys tea every 20 days; her last order was 18 days ago: due in 2 days, reminded from -1 (3 days before).
    for days_ago in (58, 38, 18):
        order_of(ada, tea, kettle, placed_at=at(days=-days_ago))
    # Bob bought tea once, 40 days ago: the product's typical interval (Ada's 20 days) says he is 20 days late.
    order_of(bob, tea, placed_at=at(days=-40))

    assert ada.person_key not in due("replenishment", at(days=-1.01))
    found = due_list("replenishment", at(days=-1))
    assert [(d.person_key, d.context["product_ids"]) for d in found] == [(ada.person_key, [tea.pk])]
    expected = (at(days=-18) + timedelta(days=20)).date().isoformat()
    assert found[0].window == f"{tea.pk}:{expected}" and found[0].at == at(days=-1)
    assert found[0].context["order_id"] == ada.user.orders.order_by("-date_placed").first().pk
    assert bob.person_key in due("replenishment", at(0), grace_days=30)
    assert bob.person_key not in due("replenishment", at(0))  # 20 days after the expected date: past the grace
    order_of(ada, tea, placed_at=at(days=-0.5))
    assert ada.person_key not in due("replenishment", at(0))  # bought again: a new expected date


def test_win_back_after_days_without_an_order_or_a_high_churn_risk():
    ada = customer("ada", order_count=3, last_order_at=at(days=-120))
    bob = customer("bob", order_count=1, last_order_at=at(days=-40), churn_risk=0.9, scores_computed_at=at(days=-1))
    customer("cy", order_count=1, last_order_at=at(days=-10), churn_risk=0.95, scores_computed_at=at(days=-1))
    customer("dee", order_count=0)

    found = due("win_back", at(0))
    assert set(found) == {ada.person_key, bob.person_key}
    assert found[ada.person_key].window == f"last-order:{at(days=-120).date().isoformat()}"
    assert found[ada.person_key].context["reason"] == "no_order" and found[ada.person_key].at == at(0)
    assert found[bob.person_key].context == {"reason": "churn_risk", "churn_risk": 0.9}
    assert ada.person_key not in due("win_back", at(days=-0.01))
    assert bob.person_key not in due("win_back", at(0), churn_risk=0)  # scores ignored
    Profile.objects.filter(pk=ada.pk).update(last_order_at=at(days=-1), order_count=4)
    assert ada.person_key not in due("win_back", at(0))


def test_post_purchase_refuses_bad_settings():
    from django.core.exceptions import ValidationError

    from campaigns.triggers.base import trigger_get

    with pytest.raises(ValidationError, match=r"Days after delivery: at most 180"):
        trigger_get("post_purchase").settings_clean({"days_after_delivery": 1000})
    with pytest.raises(ValidationError, match=r"churn risk at least \(0-1; 0: ignore scores\): at most 1"):
        trigger_get("win_back").settings_clean({"churn_risk": 3})


def test_order_helpers_date_orders_as_scripted():
    order = order_of(customer("eve"), product("Pen"), placed_at=NOW)
    assert get_model("order", "Order").objects.get(pk=order.pk).date_placed == NOW
