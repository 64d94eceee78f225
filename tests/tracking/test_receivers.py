"""Oscar's own signals become Segment-named server-side events, attributed to the visitor."""

import pytest

from tracking.consumer import consume_once, ensure_group
from tracking.models import Event

pytestmark = pytest.mark.django_db

ADDRESS = {"first_name": "Grace", "last_name": "Hopper", "line1": "1 Harbour Street",
           "line4": "Bristol", "postcode": "BS1 4DJ", "country": "GB"}


def _drain():
    while consume_once("test", block_ms=50):
        pass


def test_a_visit_that_ends_in_an_order_is_tracked_once_per_action(
    client, stream_name, site_pages, countries, product_in_stock, django_capture_on_commit_callbacks
):
    ensure_group()
    with django_capture_on_commit_callbacks(execute=True):
        client.get(product_in_stock.get_absolute_url(), {"utm_source": "newsletter",
                                                         "utm_medium": "email"},
                   HTTP_REFERER="https://mail.example.com/")
        client.get("/search/", {"q": "skillet"})
        client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 2})
        client.post("/checkout/", {"username": "grace@example.org", "options": "anonymous"})
        response = client.post("/checkout/shipping-address/", ADDRESS)
        client.get(response["Location"], follow=True)
        client.get("/checkout/preview/")
        assert client.post("/checkout/preview/", {"action": "place_order"}).status_code == 302
    _drain()

    anonymous_id = client.cookies["ecrm_aid"].value
    events = list(Event.objects.order_by("timestamp", "id"))
    names = [e.event for e in events]
    for name in ["Product Viewed", "Products Searched", "Product Added", "Checkout Started",
                 "Order Completed"]:
        assert name in names
    assert names.count("Product Viewed") == 1
    assert names.count("Order Completed") == 1
    assert all(e.anonymous_id == anonymous_id and e.source == "server" for e in events)

    viewed = next(e for e in events if e.event == "Product Viewed")
    assert viewed.properties["sku"] == "TEST-SKILLET-26"
    assert viewed.context["campaign"] == {"source": "newsletter", "medium": "email"}
    assert viewed.context["referrer"]["domain"] == "mail.example.com"
    added = next(e for e in events if e.event == "Product Added")
    assert added.properties["quantity"] == 2
    order = next(e for e in events if e.event == "Order Completed")
    assert order.properties["email"] == "grace@example.org"
    assert order.properties["products"][0]["quantity"] == 2
    assert order.message_id.startswith("order-") and order.message_id.endswith("-completed")

    # Later she registers, on another device, with the e-mail of her guest checkout:
    # the guest visit and its order become part of her history.
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tracking.graph import events_of_user

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/accounts/login/", {
            "registration-email": "Grace@Example.org", "registration-password1": "a-Long-pass-phrase-9",
            "registration-password2": "a-Long-pass-phrase-9", "registration_submit": "Register"})
    assert response.status_code == 302
    _drain()
    user = get_user_model().objects.get(email__iexact="grace@example.org")
    history = set(events_of_user(str(user.pk)).values_list("event", flat=True))
    assert {"Product Viewed", "Order Completed", "Signed Up"} <= history


def test_status_changes_belong_to_the_customer_not_to_staff(
    stream_name, site_pages, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model
    from oscar.test.factories import create_order

    ensure_group()
    customer = get_user_model().objects.create_user("c", "c@example.com", "pw")
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order(user=customer)
        order.set_status("Processing")
        order.set_status("Cancelled")
    _drain()
    names = list(Event.objects.filter(user_id=str(customer.pk)).order_by("timestamp", "id")
                 .values_list("event", flat=True))
    assert names == ["Order Completed", "Order Updated", "Order Cancelled"]


def test_login_identifies_the_visitor(client, stream_name, site_pages,
                                      django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    ensure_group()
    user = get_user_model().objects.create_user("g", "g@example.com", "pw-12345!")
    with django_capture_on_commit_callbacks(execute=True):
        client.get("/")
        client.post("/accounts/login/", {"login-username": "g@example.com",
                                         "login-password": "pw-12345!", "login_submit": "Log In"})
    _drain()
    identify = Event.objects.get(type="identify")
    assert identify.user_id == str(user.pk)
    assert identify.anonymous_id == client.cookies["ecrm_aid"].value
    assert identify.traits["email"] == "g@example.com"


def test_no_tracking_cookie_before_consent_when_consent_is_required(client, site_pages, settings):
    settings.TRACKING_REQUIRE_CONSENT = True
    client.get("/catalogue/")
    assert "ecrm_aid" not in client.cookies
    client.cookies["ecrm_consent"] = "yes"
    client.get("/")  # a Wagtail page anonymous visitors share sets no cookie (the browser tracker does)
    assert "ecrm_aid" not in client.cookies
    client.get("/catalogue/")
    assert client.cookies["ecrm_aid"].value


def test_voucher_application_and_removal_are_tracked(client, stream_name, site_pages,
                                                      product_in_stock,
                                                      django_capture_on_commit_callbacks):
    from oscar.test.factories import create_voucher

    ensure_group()
    voucher = create_voucher(code="WINTER10")  # 10% off everything: the basket qualifies
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 1})
        client.post("/basket/vouchers/add/", {"code": "WINTER10"})
        client.post(f"/basket/vouchers/{voucher.pk}/remove/")
    _drain()
    coupons = list(Event.objects.filter(event__startswith="Coupon").order_by("timestamp", "id")
                   .values_list("event", "properties__coupon_name"))
    assert coupons == [("Coupon Entered", "WINTER10"), ("Coupon Applied", "WINTER10"),
                       ("Coupon Removed", "WINTER10")]


def test_vouchers_oscar_refuses_are_coupon_denied_with_its_reason(
    client, stream_name, site_pages, product_in_stock, django_capture_on_commit_callbacks
):
    from oscar.test.factories import create_voucher

    ensure_group()
    voucher = create_voucher(code="BIGBASKET")
    condition = voucher.offers.get().condition
    condition.value = 100  # a hundred items needed: one does not qualify
    condition.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 1})
        client.post("/basket/vouchers/add/", {"code": "bigbasket"})
        client.post("/basket/vouchers/add/", {"code": "NOSUCHCODE"})
    _drain()
    coupons = list(Event.objects.filter(event__startswith="Coupon").order_by("timestamp", "id")
                   .values_list("event", "properties__coupon_name", "properties__reason"))
    assert [c[:2] for c in coupons] == [
        ("Coupon Entered", "BIGBASKET"), ("Coupon Denied", "BIGBASKET"),
        ("Coupon Entered", "NOSUCHCODE"), ("Coupon Denied", "NOSUCHCODE")]
    assert "does not qualify" in coupons[1][2] and "No voucher found" in coupons[3][2]


def test_basket_view_and_line_removal_are_tracked(client, stream_name, site_pages, product_in_stock,
                                                  django_capture_on_commit_callbacks):
    ensure_group()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 3})
        page = client.get("/basket/")
        formset = page.context["formset"]
        data = {f"{formset.prefix}-{key}": value for key, value in {
            "TOTAL_FORMS": 1, "INITIAL_FORMS": 1, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}.items()}
        line = formset.forms[0].instance
        data.update({f"{formset.prefix}-0-id": line.pk, f"{formset.prefix}-0-quantity": 1})
        assert client.post("/basket/", data).status_code == 302
    _drain()
    viewed = Event.objects.get(event="Cart Viewed")
    assert viewed.properties["products"][0]["quantity"] == 3
    removed = Event.objects.get(event="Product Removed")
    assert removed.properties["quantity"] == 2 and removed.properties["sku"] == "TEST-SKILLET-26"


def test_cart_viewed_costs_the_same_queries_for_one_line_or_five(
    client, stream_name, site_pages, product_in_stock
):
    """The event lists every line with its category: fetched together, not line by line."""
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from oscar.apps.catalogue.categories import create_from_breadcrumbs
    from oscar.core.loading import get_model
    from oscar.test.factories import create_product

    from tracking.basket import record_cart_viewed

    ProductCategory = get_model("catalogue", "ProductCategory")
    category = create_from_breadcrumbs("Garden > Tools")

    def queries_for_cart_view():
        request = client.get("/basket/").wsgi_request
        with CaptureQueriesContext(connection) as captured:
            record_cart_viewed(request)
        return len(captured)

    client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 1})
    one_line = queries_for_cart_view()
    for number in range(4):
        product = create_product(title=f"Trowel {number}", upc=f"TROWEL-{number}", price=Decimal("9.99"),
                                 num_in_stock=5, product_class="Tools")
        ProductCategory.objects.create(product=product, category=category)
        client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    assert queries_for_cart_view() == one_line
