"""Scripted data for the trigger tests: customers, events, baskets, orders, stock changes,
each dated exactly, and the triggers' answers as of a moment."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from campaigns.triggers.base import trigger_get
from ecrm.models import Profile
from tracking.models import Event, IdentityLink

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=timezone.utc)
Basket = get_model("basket", "Basket")
Line = get_model("basket", "Line")
OrderStatusChange = get_model("order", "OrderStatusChange")
_ids = itertools.count(1)


def at(hours: float = 0, *, days: float = 0) -> datetime:
    """NOW shifted by hours and days (negative: before)."""
    return NOW + timedelta(hours=hours, days=days)


def customer(name: str = "ada", *, email: str | None = None, phone: str = "", joined=None, **profile) -> Profile:
    """A registered customer and their profile (person key = user id)."""
    email = f"{name}@example.com" if email is None else email
    user = get_user_model().objects.create_user(name, email, "pw-12345!", first_name=name.title())
    if joined is not None:
        get_user_model().objects.filter(pk=user.pk).update(date_joined=joined)
    return Profile.objects.update_or_create(
        person_key=str(user.pk), defaults={"user": user, "email": email, "phone": phone, "first_name": name.title(),
                                           **profile})[0]


def guest(email: str, **profile) -> Profile:
    return Profile.objects.create(person_key=f"email:{email}", email=email, **profile)


def event(name: str, *, when, profile: Profile | None = None, anonymous_id: str = "", **properties) -> Event:
    return Event.objects.create(
        message_id=f"test-{next(_ids)}", type="track", event=name, timestamp=when, received_at=when,
        source="server", user_id=profile.person_key if profile is not None else "", anonymous_id=anonymous_id,
        properties=properties)


def link(anonymous_id: str, profile: Profile, when) -> None:
    IdentityLink.objects.create(kind=IdentityLink.ANONYMOUS, identifier=anonymous_id, user_id=profile.person_key,
                                first_seen_at=when, via="identify")


def basket_of(profile: Profile, *products, added_at) -> object:
    from oscar.core.loading import get_class

    basket = Basket.objects.create(owner=profile.user)
    basket.strategy = get_class("partner.strategy", "Selector")().strategy()
    for product in products:
        basket.add_product(product)
    Line.objects.filter(basket=basket).update(date_created=added_at)
    return basket


def order_of(profile: Profile | None, *products, placed_at, email: str = "", **kwargs):
    from tests.helpers import place_order

    if profile is not None and profile.user_id:
        kwargs["user"] = profile.user
    elif email:
        kwargs["guest_email"] = email
    return place_order(*products, placed_at=placed_at, **kwargs)


def status_change(order, new_status: str, when) -> None:
    change = OrderStatusChange.objects.create(order=order, old_status=order.status, new_status=new_status)
    OrderStatusChange.objects.filter(pk=change.pk).update(date_created=when)
    type(order).objects.filter(pk=order.pk).update(status=new_status)


def product(title: str, *, price: str = "20.00", stock: int = 10, product_class: str = "Things", **kwargs):
    from oscar.test.factories import create_product

    return create_product(title=title, price=Decimal(price), num_in_stock=stock, product_class=product_class,
                          **kwargs)


def due(kind: str, when, **settings) -> dict:
    """{person_key: Due} of trigger ``kind`` as of ``when`` (one Due per person expected)."""
    found = list(trigger_get(kind).due(settings, when))
    people = {d.person_key: d for d in found}
    assert len(people) == len(found), f"several firings for one person: {found}"
    return people


def due_list(kind: str, when, **settings) -> list:
    return sorted(trigger_get(kind).due(settings, when), key=lambda d: (d.person_key, d.window))
