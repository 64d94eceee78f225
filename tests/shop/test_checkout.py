"""A guest checks out through Oscar's real checkout views and an order is placed."""

import pytest
from oscar.core.loading import get_model

Order = get_model("order", "Order")

pytestmark = pytest.mark.django_db

ADDRESS = {
    "first_name": "Grace", "last_name": "Hopper", "line1": "1 Harbour Street",
    "line4": "Bristol", "postcode": "BS1 4DJ", "country": "GB",
    "phone_number": "", "notes": "",
}


def test_guest_checkout_places_a_real_order(client, site_pages, countries, product_in_stock):
    stock_before = product_in_stock.stockrecords.get().num_allocated or 0
    client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 1})

    response = client.post(
        "/checkout/", {"username": "grace@example.org", "options": "anonymous"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].endswith("/checkout/shipping-address/")

    response = client.post("/checkout/shipping-address/", ADDRESS)
    assert response.status_code == 302, response.context and response.context["form"].errors
    # One shipping method (free) and one payment method: Oscar skips both choices.
    response = client.get(response["Location"], follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("/checkout/payment-details/")
    preview = client.get("/checkout/preview/")
    assert preview.status_code == 200
    assert product_in_stock.title in preview.content.decode()

    response = client.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 302
    assert response["Location"].endswith("/checkout/thank-you/")

    order = Order.objects.get()
    assert order.guest_email == "grace@example.org"
    assert order.user is None
    assert order.status == "Pending"
    assert order.lines.get().product == product_in_stock
    assert order.total_incl_tax == product_in_stock.stockrecords.get().price
    assert order.shipping_address.postcode == "BS1 4DJ"
    assert product_in_stock.stockrecords.get().num_allocated == stock_before + 1

    thank_you = client.get("/checkout/thank-you/")
    assert thank_you.status_code == 200
    assert order.number in thank_you.content.decode()


def test_order_status_follows_the_configured_pipeline(settings):
    assert settings.OSCAR_ORDER_STATUS_PIPELINE["Pending"] == ("Processing", "Cancelled")
    assert settings.OSCAR_ORDER_STATUS_PIPELINE["Processing"] == ("Shipped", "Cancelled")
    assert "Delivered" in settings.OSCAR_ORDER_STATUS_PIPELINE["Shipped"]
    assert settings.OSCAR_ORDER_STATUS_PIPELINE["Returned"] == ("Refunded",)
    assert settings.OSCAR_ORDER_STATUS_PIPELINE["Cancelled"] == ()


def test_order_cannot_jump_past_the_pipeline(site_pages, countries, product_in_stock):
    from oscar.apps.order.exceptions import InvalidOrderStatus
    from oscar.test.factories import create_order

    order = create_order()
    assert order.status == "Pending"
    with pytest.raises(InvalidOrderStatus):
        order.set_status("Delivered")
    order.set_status("Processing")
    order.set_status("Shipped")
    order.set_status("Delivered")
    order.refresh_from_db()
    assert order.status == "Delivered"
    assert list(order.status_changes.order_by("date_created").values_list("new_status", flat=True)) == [
        "Processing", "Shipped", "Delivered"
    ]
