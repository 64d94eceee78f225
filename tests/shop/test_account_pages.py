"""The customer's account: order history with each order's status timeline, re-ordering a
past order in one click (Oscar's availability rules, a message naming what could not be
added), and the greeting by name in the header (only for signed-in customers)."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from oscar.core.loading import get_model
from oscar.test.factories import create_product

from ecrm.models import Profile
from tests.helpers import place_order

pytestmark = pytest.mark.django_db
Basket = get_model("basket", "Basket")


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user("ada", "ada@example.com", "pw-12345!", first_name="Ada")


@pytest.fixture
def past_order(customer):
    kettle = create_product(title="Copper kettle", upc="KETTLE", price=Decimal("30"), num_in_stock=5)
    tea = create_product(title="Breakfast tea", upc="TEA", price=Decimal("4"), num_in_stock=10)
    cosy = create_product(title="Tea cosy", upc="COSY", price=Decimal("9"), num_in_stock=3)
    order = place_order(kettle, tea, cosy, quantity=2, user=customer)
    return order, kettle, tea, cosy


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_order_history_shows_each_orders_status_timeline_and_a_reorder_button(customer, past_order):
    order = past_order[0]
    order.set_status("Processing")
    order.set_status("Shipped")
    html = _client(customer).get("/accounts/orders/").content.decode()
    row = html.split(f'id="order-row-{order.number}"')[1].split("</tr>")[0]
    assert "<strong>Shipped</strong>" in row
    steps = row.split('class="list-inline mb-0 small order-status-steps"')[1]
    assert steps.index("Placed") < steps.index("Processing") < steps.index("Shipped")
    assert f'action="/accounts/orders/{order.number}/reorder/"' in row and "csrfmiddlewaretoken" in row


def test_reorder_adds_the_available_lines_and_names_those_it_could_not_add(customer, past_order):
    order, kettle, tea, cosy = past_order
    kettle.stockrecords.update(num_in_stock=0)  # sold out since
    cosy.stockrecords.update(num_in_stock=1)  # one left; the order had two
    client = _client(customer)
    response = client.post(f"/accounts/orders/{order.number}/reorder/", follow=True)
    assert response.redirect_chain[-1][0] == "/basket/"
    basket = Basket.objects.get(owner=customer, status=Basket.OPEN)
    assert {(line.product, line.quantity) for line in basket.all_lines()} == {(tea, 2)}
    text = [str(m) for m in response.context["messages"]]
    assert "2 items from order %s are in your basket." % order.number in text
    (refused,) = [m for m in text if m.startswith("Could not be added")]
    assert "Copper kettle" in refused and "Tea cosy" in refused and "Breakfast tea" not in refused


def test_reorder_of_nothing_available_stays_on_the_history_with_the_reason(customer, past_order):
    order, kettle, tea, cosy = past_order
    for product in (kettle, tea, cosy):
        product.stockrecords.update(num_in_stock=0)
    response = _client(customer).post(f"/accounts/orders/{order.number}/reorder/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/orders/"
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.startswith("Could not be added") and "Copper kettle" in message


def test_reorder_needs_a_post_with_csrf_by_the_orders_owner(customer, past_order):
    order = past_order[0]
    url = f"/accounts/orders/{order.number}/reorder/"
    assert Client().post(url).status_code == 302  # to the login page
    assert _client(customer).get(url).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(customer)
    assert strict.post(url).status_code == 403
    someone = get_user_model().objects.create_user("bob", "bob@example.com", "pw")
    assert _client(someone).post(url).status_code == 404
    assert _client(customer).post("/accounts/orders/NOPE/reorder/").status_code == 404
    assert not Basket.objects.filter(owner=customer, lines__isnull=False).exists()


def test_the_order_page_reorders_through_the_same_view(customer, past_order):
    order = past_order[0]
    html = _client(customer).get(f"/accounts/orders/{order.number}/").content.decode()
    assert f'action="/accounts/orders/{order.number}/reorder/"' in html and 'id="status-history"' in html


def test_a_signed_in_customer_is_greeted_by_name_and_a_visitor_is_not(customer):
    assert "Hello, Ada" in _client(customer).get("/basket/").content.decode()
    anonymous = Client().get("/basket/").content.decode()
    assert "customer-greeting" not in anonymous and "Ada" not in anonymous


def test_the_greeting_uses_the_profiles_name_when_the_account_has_none(db):
    grace = get_user_model().objects.create_user("grace", "grace@example.com", "pw")
    assert "Welcome back" in _client(grace).get("/basket/").content.decode()
    Profile.objects.create(person_key=str(grace.pk), user=grace, email=grace.email, first_name="Grace")
    html = _client(grace).get("/basket/").content.decode()
    assert "Hello, Grace" in html
    assert "Hello, &lt;b&gt;" in _client(_named("<b>")).get("/basket/").content.decode()  # escaped


def _named(first_name):
    return get_user_model().objects.create_user("x", "x@example.com", "pw", first_name=first_name)
