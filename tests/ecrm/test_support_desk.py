"""The support desk finds a customer by any identifier and lands on their card."""

from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from ecrm.models import Profile
from ecrm.selectors import customer_search
from shop.roles import MARKETING, SUPPORT
from tests.helpers import place_order
from tracking.models import Event, IdentityLink, Session

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def ada(db):
    user = get_user_model().objects.create_user("ada", "ada.lovelace@example.com", "pw",
                                                first_name="Ada", last_name="Lovelace")
    IdentityLink.objects.create(kind=IdentityLink.ANONYMOUS, identifier="visitor-7f3a", user_id=str(user.pk),
                                first_seen_at=T0, via="identify")
    Event.objects.create(message_id="e-1", type="track", event="Product Viewed", anonymous_id="visitor-7f3a",
                         timestamp=T0, received_at=T0, source="browser",
                         context={"page": {"path": "/catalogue/skillet_1/"}})
    Session.objects.create(key="s-1", visitor="visitor-7f3a", started_at=T0, last_event_at=T0,
                           entry_path="/catalogue/skillet_1/", source="google", medium="organic",
                           search_terms="cast iron pan", page_count=1, event_count=1)
    return Profile.objects.create(person_key=str(user.pk), user=user, email=user.email, phone="+447700900123",
                                  first_name="Ada", last_name="Lovelace", last_seen_at=T0)


@pytest.fixture
def others(db):
    Profile.objects.create(person_key="email:grace@example.com", email="grace@example.com",
                           first_name="Grace", last_name="Hopper")
    Profile.objects.create(person_key="99", email="alan@example.org", first_name="Alan", last_name="Turing")


@pytest.mark.parametrize("query", ["ada.lovelace@example.com", "LOVELACE@EX", "07700 900123",
                                   "+44 7700 900123", "Ada Lovelace", "lovelace", "visitor-7f3a"])
def test_each_kind_of_identifier_finds_her(ada, others, query):
    assert [p.person_key for p in customer_search(query)] == [ada.person_key]


def test_an_order_number_finds_its_customer(ada, others, countries, product_in_stock):
    order = place_order(product_in_stock, user=ada.user)
    assert [p.pk for p in customer_search(str(order.number))] == [ada.pk]


def test_a_typo_in_the_name_still_finds_her(ada, others):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("typo tolerance uses PostgreSQL's pg_trgm")
    assert [p.pk for p in customer_search("Ada Lovlace")] == [ada.pk]


def test_nothing_and_too_little_find_nobody(ada, others):
    assert customer_search("zebra@nowhere.test") == [] and customer_search("a") == []


@pytest.mark.parametrize(("group", "status"), [(SUPPORT, 200), (MARKETING, 200), (None, 403)])
def test_staff_roles_on_the_desk_and_the_card(make_staff, ada, group, status):
    client = Client()
    client.force_login(make_staff(f"{group}@example.com", group=group))
    assert client.get("/dashboard/customers/support-desk/?q=zebra").status_code == status
    assert client.get(f"/dashboard/customers/support-desk/{ada.pk}/").status_code == status


def test_customers_cannot_see_the_desk(ada):
    client = Client()
    client.force_login(ada.user)
    assert client.get(f"/dashboard/customers/support-desk/{ada.pk}/").status_code in (302, 403)
    assert Client().get("/dashboard/customers/support-desk/?q=ada").status_code == 302  # to login


def test_the_card_shows_sessions_and_timeline_and_the_desk_links_to_it(make_staff, ada, others):
    client = Client()
    client.force_login(make_staff("support@example.com", group=SUPPORT))
    found = client.get("/dashboard/customers/support-desk/", {"q": "visitor-7f3a"})
    assert found.status_code == 302 and found["Location"] == f"/dashboard/customers/support-desk/{ada.pk}/"
    several = client.get("/dashboard/customers/support-desk/", {"q": "example"}).content.decode()
    assert f"/dashboard/customers/support-desk/{ada.pk}/" in several  # a list when more than one
    card = client.get(f"/dashboard/customers/support-desk/{ada.pk}/?tab=sessions").content.decode()
    assert "cast iron pan" in card and "google / organic" in card and "+447700900123" in card
    timeline = client.get(f"/dashboard/customers/support-desk/{ada.pk}/?tab=timeline").content.decode()
    assert "Product Viewed" in timeline and "/catalogue/skillet_1/" in timeline
    assert client.get(f"/dashboard/customers/support-desk/{ada.pk}/?tab=nonsense").status_code == 200
    assert client.get("/dashboard/customers/support-desk/987654/").status_code == 404
    assert "Support desk" in client.get("/dashboard/").content.decode()  # in the menu


def test_baskets_messages_and_in_store_searches_on_the_card(make_staff, ada, product_in_stock):
    from datetime import timedelta

    from oscar.core.loading import get_model
    from oscar.test.factories import create_basket

    Email = get_model("communication", "Email")
    Line = get_model("basket", "Line")
    basket = create_basket(empty=True)
    basket.owner = ada.user
    basket.save()
    basket.add_product(product_in_stock, quantity=2)
    Line.objects.filter(basket=basket).update(date_updated=T0 - timedelta(days=1))
    type(basket).objects.filter(pk=basket.pk).update(date_created=T0 - timedelta(days=1))
    Email.objects.create(user=ada.user, email=ada.email, subject="Your order has shipped", body_text="…")
    Event.objects.create(message_id="s-1", type="track", event="Products Searched", anonymous_id="visitor-7f3a",
                         session_id="s-1", timestamp=T0, received_at=T0, source="server",
                         properties={"query": "dutch oven"})
    client = Client()
    client.force_login(make_staff("support@example.com", group=SUPPORT))
    card = f"/dashboard/customers/support-desk/{ada.pk}/"
    baskets = client.get(card + "?tab=baskets").content.decode()
    assert "abandoned" in baskets and "2 × Cast Iron Skillet 26cm" in baskets
    assert "Your order has shipped" in client.get(card + "?tab=messages").content.decode()
    assert "E-mail: Your order has shipped" in client.get(card + "?tab=timeline").content.decode()
    from oscar.test.factories import UserAddressFactory

    UserAddressFactory(user=ada.user, line1="12 Analytical Row", is_default_for_shipping=True)
    assert "12 Analytical Row" in client.get(card).content.decode()
    assert "cast iron pan / dutch oven" in client.get(card + "?tab=sessions").content.decode()


def test_an_orders_page_links_to_its_customers_card(make_staff, ada, countries, product_in_stock):
    order = place_order(product_in_stock, user=ada.user)
    client = Client()
    client.force_login(make_staff("support@example.com", group=SUPPORT))
    page = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    assert f"/dashboard/customers/support-desk/{ada.pk}/" in page
    card = client.get(f"/dashboard/customers/support-desk/{ada.pk}/").content.decode()
    assert f"/dashboard/orders/{order.number}/" in card  # and back


@pytest.mark.parametrize("query", ["+44 7700 900456", "0044 7700 900456", "07700 900456", "7700900456"])
def test_a_phone_stored_national_is_found_in_any_format(others, query):
    grace = Profile.objects.get(person_key="email:grace@example.com")
    grace.phone = "07700900456"
    grace.save()
    assert [p.pk for p in customer_search(query)] == [grace.pk]


def test_a_found_identifier_is_not_padded_with_lookalike_names(ada, others):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("typo tolerance uses PostgreSQL's pg_trgm")
    IdentityLink.objects.create(kind=IdentityLink.ANONYMOUS, identifier="Grace Hoper", user_id=ada.person_key,
                                first_seen_at=T0, via="identify")
    assert [p.pk for p in customer_search("Grace Hoper")] == [ada.pk]  # not Grace Hopper too
