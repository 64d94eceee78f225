"""Profiles kept current from tracked events, the identity graph and Oscar's orders."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from ecrm.models import Profile
from ecrm.services import profiles_refresh, profiles_refresh_marked
from tracking.consumer import consume_once, ensure_group
from tracking.messages import normalise
from tracking.sessions import device_of
from tracking.stream import append

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
MOBILE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36"


def _send(*raw_messages):
    now = datetime.now(timezone.utc)
    append([{**normalise(raw, received_at=now), "source": "api", "write_key_id": None}
             for raw in raw_messages])
    while consume_once("test", block_ms=50):
        pass
    profiles_refresh_marked()  # what the refresh task does every few seconds


def _call(number, minutes, *, kind="track", agent=DESKTOP, context=None, **fields):
    return {"type": kind, "messageId": f"m-{number}", "timestamp": (T0 + timedelta(minutes=minutes)).isoformat(),
            "context": {"userAgent": agent, **(context or {})}, **fields}


def _view(number, minutes, category, **fields):
    return _call(number, minutes, event="Product Viewed", properties={"category": category}, **fields)


def test_a_scripted_customer_gets_the_attributes_a_person_would_count(stream_name):
    ensure_group()
    user = get_user_model().objects.create_user("ada", "ada@example.com", "pw", first_name="Ada")
    uid = str(user.pk)
    newsletter = {"campaign": {"source": "newsletter", "medium": "email", "name": "winter"}}
    # Day 1, on her phone, anonymous, from the newsletter: two views, then she signs in.
    _send(_view(1, 0, "Cookware", anonymousId="phone", agent=MOBILE, context=newsletter),
          _view(2, 3, "Cookware", anonymousId="phone", agent=MOBILE))
    assert not Profile.objects.exists()  # an anonymous visitor is nobody yet
    _send(_call(3, 5, kind="identify", anonymousId="phone", userId=uid, agent=MOBILE,
                traits={"phone": "+44 7700 900123", "lastName": "Lovelace"}),
          _call(4, 6, event="Product Added", anonymousId="phone", userId=uid, agent=MOBILE,
                properties={"category": "Cookware"}))
    profile = Profile.objects.get(person_key=uid)
    assert (profile.product_views, profile.basket_adds, profile.session_count) == (2, 1, 1)
    # Day 3, on her desktop, straight in: she signs in there too, and looks at the garden.
    _send(_call(5, 2 * 24 * 60, kind="identify", anonymousId="desktop", userId=uid),
          _view(6, 2 * 24 * 60 + 1, "Garden", anonymousId="desktop", userId=uid))

    profile.refresh_from_db()
    assert profile.user == user and profile.email == "ada@example.com"
    assert (profile.first_name, profile.last_name, profile.phone) == ("Ada", "Lovelace", "+447700900123")
    assert (profile.product_views, profile.basket_adds, profile.session_count) == (3, 1, 2)
    assert profile.favourite_categories == ["Cookware", "Garden"]
    assert profile.devices == ["desktop", "mobile"]
    assert profile.first_touch["source"] == "newsletter" and profile.last_touch["medium"] == "none"
    assert profile.first_seen_at == T0 and profile.last_seen_at == T0 + timedelta(days=2, minutes=1)
    assert profile.order_count == 0 and profile.revenue == 0


def test_orders_count_from_oscar_and_a_guest_joins_the_account_later(
    stream_name, countries, product_in_stock, django_capture_on_commit_callbacks
):
    from oscar.test.factories import create_basket, create_order

    def basket():
        basket = create_basket(empty=True)
        basket.add_product(product_in_stock)
        return basket

    ensure_group()
    with django_capture_on_commit_callbacks(execute=True):
        guest_order = create_order(guest_email="Grace@Example.com", basket=basket())
    _send()
    guest = Profile.objects.get(person_key="email:grace@example.com")
    assert (guest.order_count, guest.revenue, guest.email) == (1, guest_order.total_incl_tax,
                                                               "grace@example.com")
    # She registers and the store identifies her with that address: one profile, both orders.
    user = get_user_model().objects.create_user("grace", "grace@example.com", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        own_order = create_order(user=user, basket=basket())
    _send(_call(7, 0, kind="identify", userId=str(user.pk), traits={"email": "grace@example.com"}))
    profile = Profile.objects.get(person_key=str(user.pk))
    assert profile.order_count == 2
    assert profile.revenue == guest_order.total_incl_tax + own_order.total_incl_tax
    assert profile.average_order_value == (profile.revenue / 2).quantize(Decimal("0.01"))
    assert profile.last_order_at == max(guest_order.date_placed, own_order.date_placed)
    assert not Profile.objects.filter(person_key="email:grace@example.com").exists()
    assert profiles_refresh(person_keys={"email:grace@example.com"}) == 1  # resolves to her
    assert Profile.objects.count() == 1


def test_devices_from_user_agents():
    assert device_of(MOBILE) == "mobile"
    assert device_of("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X)") == "tablet"
    assert device_of("Mozilla/5.0 (Linux; Android 14; SM-X710) Safari/537.36") == "tablet"
    assert device_of(DESKTOP) == "desktop" and device_of("") == ""


def test_rebuild_command_recomputes_everybody_with_progress(stream_name, capsys):
    from django.core.management import call_command

    from ecrm.models import ProfileRefresh

    ensure_group()
    users = [get_user_model().objects.create_user(f"u{i}", f"u{i}@example.com", "pw") for i in range(3)]
    now = datetime.now(timezone.utc)
    append([{**normalise(_view(10 + i, i, "Garden", userId=str(user.pk)), received_at=now),
             "source": "api", "write_key_id": None} for i, user in enumerate(users)])
    while consume_once("test", block_ms=50):
        pass
    assert ProfileRefresh.objects.count() == 3 and not Profile.objects.exists()  # marked, not yet done
    call_command("ecrm_rebuild_profiles", "--batch-size", "2")
    assert "Rebuilt the profiles of 3 people." in capsys.readouterr().out
    assert sorted(Profile.objects.values_list("product_views", flat=True)) == [1, 1, 1]
