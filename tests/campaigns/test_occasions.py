"""Gift occasions: given at Oscar's checkout (optional), kept and edited in the account,
part of the customer's data export and erasure."""

import io
import json
import zipfile

import pytest
from django.test import Client
from oscar.core.loading import get_model

from campaigns.models import Occasion
from ecrm.privacy import customer_erase, customer_export, erasure_plan
from tests.shop.test_checkout import ADDRESS

Order = get_model("order", "Order")
pytestmark = pytest.mark.django_db


def _to_preview(client, product):
    client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    client.post("/checkout/", {"username": "grace@example.org", "options": "anonymous"})
    client.post("/checkout/shipping-address/", ADDRESS)
    client.get("/checkout/shipping-method/", follow=True)
    preview = client.get("/checkout/preview/")
    assert preview.status_code == 200
    return preview.content.decode()


def test_an_occasion_given_at_checkout_is_saved_with_the_order(client, site_pages, countries, product_in_stock):
    page = _to_preview(client, product_in_stock)
    assert 'id="gift-occasion"' in page and 'name="occasion-recipient"' in page
    response = client.post("/checkout/preview/", {"action": "place_order", "occasion-recipient": "Mum",
                                                  "occasion-kind": "birthday", "occasion-month": "5",
                                                  "occasion-day": "14", "occasion-note": "likes tea"})
    assert response["Location"].endswith("/checkout/thank-you/")
    order = Order.objects.get()
    occasion = Occasion.objects.get()
    assert (occasion.person_key, occasion.order, occasion.recipient, occasion.month, occasion.day, occasion.user) == (
        "email:grace@example.org", order, "Mum", 5, 14, None)
    assert "We will remind you before Birthday of Mum" in client.get("/checkout/thank-you/").content.decode()


def test_checkout_without_an_occasion_or_with_a_bad_date_still_places_the_order(
        client, site_pages, countries, product_in_stock):
    _to_preview(client, product_in_stock)
    response = client.post("/checkout/preview/", {"action": "place_order", "occasion-recipient": "Dad",
                                                  "occasion-kind": "birthday", "occasion-month": "2",
                                                  "occasion-day": "30"})
    assert response["Location"].endswith("/checkout/thank-you/")
    assert Order.objects.count() == 1 and not Occasion.objects.exists()
    page = client.get("/checkout/thank-you/").content.decode()
    assert "Your gift occasion was not saved" in page and "February has no day 30" in page


def test_customers_list_add_edit_and_delete_their_own_occasions(customer, site_pages):
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create_user("bob", "bob@example.com", "pw-12345!")
    theirs = Occasion.objects.create(person_key=str(other.pk), user=other, recipient="Bob's wife", month=1, day=1)
    client = Client(enforce_csrf_checks=True)
    assert client.get("/campaigns/account/occasions/").status_code == 302  # login first
    client.force_login(customer.user)
    page = client.get("/campaigns/account/occasions/")
    assert page.status_code == 200 and "Gift occasions" in page.content.decode()
    assert "Bob&#x27;s wife" not in page.content.decode()
    assert client.post("/campaigns/account/occasions/", {"recipient": "Mum"}).status_code == 403  # no CSRF token
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    response = client.post("/campaigns/account/occasions/", {"recipient": "Mum", "kind": "birthday", "month": "4",
                                                             "day": "31", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and "April has no day 31" in response.content.decode()
    response = client.post("/campaigns/account/occasions/", {"recipient": "Mum", "kind": "birthday", "month": "4",
                                                             "day": "30", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    mine = Occasion.objects.get(user=customer.user)
    assert mine.person_key == customer.person_key
    response = client.post(f"/campaigns/account/occasions/{mine.pk}/", {
        "recipient": "Mother", "kind": "anniversary", "month": "9", "day": "2", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert (mine.recipient, mine.kind, mine.month, mine.day) == ("Mother", "anniversary", 9, 2)
    assert client.get(f"/campaigns/account/occasions/{theirs.pk}/").status_code == 404
    assert client.post(f"/campaigns/account/occasions/{theirs.pk}/delete/",
                       {"csrfmiddlewaretoken": token}).status_code == 404
    assert client.post(f"/campaigns/account/occasions/{mine.pk}/delete/",
                       {"csrfmiddlewaretoken": token}).status_code == 302
    assert list(Occasion.objects.all()) == [theirs]


def test_occasions_are_exported_and_erased_with_the_customer(customer, make_staff):
    Occasion.objects.create(person_key=customer.person_key, user=customer.user, recipient="Mum", month=5, day=14)
    kept = Occasion.objects.create(person_key="99", recipient="Someone else", month=1, day=2)
    archive = zipfile.ZipFile(io.BytesIO(customer_export(customer)))
    assert [o["recipient"] for o in json.loads(archive.read("gift_occasions.json"))] == ["Mum"]
    assert erasure_plan(customer)["gift occasions"] == 1
    counts = customer_erase(customer, staff=make_staff("dpo@example.com", group="Support"))
    assert counts["campaigns.Occasion"] == 1
    assert list(Occasion.objects.all()) == [kept]


def test_the_customer_card_shows_their_occasions_and_the_next_anniversary(customer, make_staff, settings):
    import datetime

    from campaigns.flows.card import next_anniversary

    Occasion.objects.create(person_key=customer.person_key, user=customer.user, recipient="Mum", month=5, day=14,
                            note="likes tea")
    Occasion.objects.create(person_key="email:someone-else@example.com", recipient="Not hers", month=6, day=1)
    client = Client()
    client.force_login(make_staff("support@example.com", group="Support"))
    page = client.get(f"/dashboard/customers/support-desk/{customer.pk}/", {"tab": "flows"}).content.decode()
    assert "Gift occasions" in page and "Mum" in page and "likes tea" in page and "14 May" in page
    assert "Not hers" not in page and "their account" in page
    # the customer deletes it in their account: gone from the card too
    shopper = Client()
    shopper.force_login(customer.user)
    occasion = Occasion.objects.get(recipient="Mum")
    assert shopper.post(f"/campaigns/account/occasions/{occasion.pk}/delete/").status_code == 302
    page = client.get(f"/dashboard/customers/support-desk/{customer.pk}/", {"tab": "flows"}).content.decode()
    assert "No gift occasions." in page
    leap = Occasion(month=2, day=29, recipient="x")
    assert next_anniversary(leap, datetime.date(2027, 3, 1)) == datetime.date(2028, 2, 29)
    assert next_anniversary(leap, datetime.date(2026, 12, 2)) == datetime.date(2027, 2, 28)
    assert next_anniversary(Occasion(month=12, day=2, recipient="x"), datetime.date(2026, 12, 2)) == \
        datetime.date(2026, 12, 2)
