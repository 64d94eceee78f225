"""Abandoned basket and abandoned checkout fire once the delay has passed, not before, and
not for customers who went on to check out or order."""

import pytest
from django.core.exceptions import ValidationError

from tests.campaigns.trigger_data import at, basket_of, customer, due, event, guest, link, order_of, product

pytestmark = pytest.mark.django_db


def test_abandoned_basket_fires_after_the_delay_with_the_basket_and_its_products():
    ada, kettle, mug = customer("ada"), product("Kettle"), product("Mug")
    basket = basket_of(ada, kettle, mug, added_at=at(-3))

    assert due("abandoned_basket", at(-3)) == {}
    assert due("abandoned_basket", at(0.99)) == {}  # 3.99 hours: not yet (default delay 4 h)
    found = due("abandoned_basket", at(1))[ada.person_key]
    assert found.window == str(basket.pk)
    assert found.context == {"basket_id": basket.pk, "product_ids": [mug.pk, kettle.pk]}  # newest line first
    assert found.at == at(1)
    assert ada.person_key in due("abandoned_basket", at(days=6))
    assert due("abandoned_basket", at(days=7)) == {}  # older than max_age_days (7)
    assert due("abandoned_basket", at(-2), delay_hours=0.5)[ada.person_key].at == at(-2.5)


def test_abandoned_basket_skips_checkouts_orders_the_unreachable_and_empty_baskets():
    kettle = product("Kettle")
    started, ordered, ignored = customer("bob"), customer("cy"), customer("dee", email="")
    basket_of(started, kettle, added_at=at(-10))
    basket = started.user.baskets.get()
    event("Checkout Started", when=at(-9), profile=started, cart_id=str(basket.pk))
    basket_of(ordered, kettle, added_at=at(-10))
    order_of(ordered, kettle, placed_at=at(-8))
    basket_of(ignored, kettle, added_at=at(-10))  # no e-mail or phone: cannot be reached
    from oscar.core.loading import get_model

    get_model("basket", "Basket").objects.create(owner=customer("eve").user)  # empty basket
    assert due("abandoned_basket", at(0)) == {}


def test_adding_to_the_basket_again_restarts_the_delay_of_the_same_firing():
    ada, kettle, mug = customer("ada"), product("Kettle"), product("Mug")
    basket = basket_of(ada, kettle, added_at=at(-10))
    assert due("abandoned_basket", at(0))[ada.person_key].window == str(basket.pk)
    basket.add_product(mug)
    basket.lines.filter(product=mug).update(date_created=at(1))
    assert due("abandoned_basket", at(2)) == {}
    again = due("abandoned_basket", at(5))[ada.person_key]
    assert again.window == str(basket.pk) and again.at == at(5)


def test_abandoned_checkout_fires_after_the_delay_unless_an_order_follows():
    ada, bob, kettle = customer("ada"), customer("bob"), product("Kettle")
    basket = basket_of(ada, kettle, added_at=at(-2))
    # Ada's checkout was started while she was anonymous; the identity graph links it to her.
    link("visitor-1", ada, at(-5))
    event("Checkout Started", when=at(-1), anonymous_id="visitor-1", cart_id=str(basket.pk),
          products=[{"product_id": str(kettle.pk), "quantity": 1}])
    event("Checkout Started", when=at(-1), profile=bob, cart_id="999999", products=[])
    order_of(bob, kettle, placed_at=at(-0.5))

    assert due("abandoned_checkout", at(-0.01)) == {}
    found = due("abandoned_checkout", at(0))
    assert list(found) == [ada.person_key]
    assert found[ada.person_key].window == str(basket.pk)
    assert found[ada.person_key].context == {"basket_id": basket.pk, "product_ids": [kettle.pk]}
    assert found[ada.person_key].at == at(0)
    order_of(ada, kettle, placed_at=at(0.5))
    assert due("abandoned_checkout", at(1)) == {}


def test_a_guest_checkout_counts_for_the_guest_profile_and_is_cleared_by_their_order():
    grace, kettle = guest("grace@example.org"), product("Kettle")
    event("Checkout Started", when=at(-2), profile=grace, products=[{"product_id": str(kettle.pk)}])
    found = due("abandoned_checkout", at(0))[grace.person_key]
    assert found.window.startswith("event-") and found.context == {"product_ids": [kettle.pk]}
    order_of(None, kettle, placed_at=at(-1), email="Grace@example.org")
    assert due("abandoned_checkout", at(0)) == {}


def test_basket_settings_are_refused_with_the_field_named():
    from campaigns.triggers.base import trigger_get

    with pytest.raises(ValidationError, match=r"Wait after the last change \(hours\): at least 0.25"):
        list(trigger_get("abandoned_basket").due({"delay_hours": 0}, at(0)))
    with pytest.raises(ValidationError, match="Ignore baskets older than"):
        trigger_get("abandoned_basket").settings_clean({"max_age_days": "a week"})
