"""Order-status notices: one transactional e-mail per transition, from Oscar's editable
templates, with a signed link to a status page that needs no login."""

import pytest
from django.core import mail
from django.test import Client
from oscar.core.loading import get_model

from campaigns.models import Message
from campaigns.order_status import event_code, event_type_for, tracking_of
from campaigns.outbox import message_deliver
from campaigns.tokens import order_status_token
from tests.helpers import place_order

pytestmark = pytest.mark.django_db
CommunicationEventType = get_model("communication", "CommunicationEventType")
ShippingEventType = get_model("order", "ShippingEventType")
Email = get_model("communication", "Email")


def _deliver_all():
    for pk in Message.objects.filter(status=Message.QUEUED).order_by("pk").values_list("pk", flat=True):
        assert message_deliver(pk) == "sent"


def _ship(order, reference="Royal Mail JD014600003GB"):
    shipped, _ = ShippingEventType.objects.get_or_create(code="shipped", defaults={"name": "Shipped"})
    event = order.shipping_events.create(event_type=shipped, notes=reference)
    for line in order.lines.all():
        event.line_quantities.create(line=line, quantity=line.quantity)


def test_every_transition_sends_its_own_message(customer, product):
    order = place_order(product, user=customer.user)
    for status in ("Processing", "Shipped", "Delivered", "Returned", "Refunded"):
        if status == "Shipped":
            _ship(order)
        order.set_status(status)
    cancelled = place_order(product, user=customer.user)
    cancelled.set_status("Cancelled")
    _deliver_all()

    subjects = [m.subject for m in mail.outbox]
    assert subjects == [f"We are preparing your order {order.number}", f"Your order {order.number} is on its way",
                        f"Your order {order.number} has been delivered",
                        f"We have received your return for order {order.number}",
                        f"Your refund for order {order.number}", f"Your order {cancelled.number} has been cancelled"]
    assert all(m.to == ["ada@example.com"] for m in mail.outbox)
    # HTML and a generated plain-text part; no unsubscribe headers on transactional mail.
    shipped = mail.outbox[1]
    html = shipped.alternatives[0][0]
    assert "Royal Mail" in html and "JD014600003GB" in html
    assert "https://www.royalmail.com/track-your-item#/tracking-results/JD014600003GB" in html
    assert "Track your parcel with Royal Mail (https://www.royalmail.com/" in shipped.body
    assert f"/campaigns/order/{order_status_token(order)}/" in shipped.body
    assert "List-Unsubscribe" not in shipped.extra_headers
    # Each is on record for the customer (Oscar's Email: account and 360° card), once.
    assert Email.objects.filter(user=customer.user).count() == 6
    # One event type per status, in Oscar's dashboard → Content → Email templates.
    for status in ("Processing", "Shipped", "Delivered", "Cancelled", "Returned", "Refunded"):
        assert CommunicationEventType.objects.filter(code=event_code(status)).exists()


def test_one_transition_is_one_message_however_often_it_is_seen(customer, product):
    from campaigns.order_status import notice_enqueue

    order = place_order(product, user=customer.user)
    order.set_status("Processing")
    change = order.status_changes.get()
    change.save()
    notice_enqueue(change=change)  # as if the receiver ran again
    assert Message.objects.filter(source_id=order.number).count() == 1


def test_staff_edit_the_template_in_oscars_dashboard(customer, product):
    event_type = event_type_for("Processing")
    event_type.email_subject_template = "Order {{ order.number }} is being packed"
    event_type.email_body_template = "Packing {{ order.number }} now."
    event_type.save()
    order = place_order(product, user=customer.user)
    order.set_status("Processing")
    _deliver_all()
    assert mail.outbox[0].subject == f"Order {order.number} is being packed"
    assert mail.outbox[0].body == f"Packing {order.number} now.\n"


def test_a_broken_template_is_a_dead_letter_with_the_reason(customer, product):
    event_type = event_type_for("Processing")
    event_type.email_subject_template = "{% if %}"
    event_type.save()
    order = place_order(product, user=customer.user)
    order.set_status("Processing")
    message = Message.objects.get()
    assert message_deliver(message.pk) == "dead letter"
    message.refresh_from_db()
    assert message.status == Message.DEAD and "failed to render" in message.last_error
    assert mail.outbox == []


def test_a_guest_order_is_notified_too(product):
    order = place_order(product, guest_email="Guest@Example.org")
    order.set_status("Processing")
    message = Message.objects.get()
    assert message.person_key == "email:guest@example.org" and message.to_email == "Guest@Example.org"
    _deliver_all()
    assert mail.outbox[0].to == ["Guest@Example.org"]


def test_the_signed_link_opens_the_status_page_without_login(customer, product):
    order = place_order(product, user=customer.user)
    order.set_status("Processing")
    _ship(order, "DPD 15501234567890")
    order.set_status("Shipped")
    page = Client().get(f"/campaigns/order/{order_status_token(order)}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert str(order.number) in body and "Processing" in body and "Shipped" in body
    assert "https://track.dpd.co.uk/parcels/15501234567890" in body
    assert order.shipping_address is None or order.shipping_address.line1 not in body
    assert page["X-Robots-Tag"] == "noindex, nofollow" and page["Referrer-Policy"] == "no-referrer"

    tampered = order_status_token(order)[:-2] + "xx"
    assert Client().get(f"/campaigns/order/{tampered}/").status_code == 404
    assert Client().get(f"/campaigns/order/{order.number}/").status_code == 404
    forged = order_status_token(order).replace(str(order.number), str(int(order.number) + 1))
    assert Client().get(f"/campaigns/order/{forged}/").status_code == 404


def test_the_account_order_page_shows_the_history(customer, product):
    order = place_order(product, user=customer.user)
    order.set_status("Processing")
    _deliver_all()
    client = Client()
    client.force_login(customer.user)
    page = client.get(f"/accounts/orders/{order.number}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="status-history"' in body and "Processing" in body
    assert f"We are preparing your order {order.number}" in body


def test_carrier_references_staff_type(product):
    order = place_order(product, guest_email="g@example.org")
    assert tracking_of(order) is None
    _ship(order, "UPS 1Z999AA10123456784")
    assert tracking_of(order)["url"] == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    other = place_order(product, guest_email="g@example.org")
    _ship(other, "Acme Couriers https://acme.example/t/42")
    found = tracking_of(other)
    assert (found["carrier"], found["url"]) == ("Acme Couriers", "https://acme.example/t/42")


def test_oscars_order_placed_email_still_goes(client, site_pages, countries, product_in_stock):
    from tests.shop.test_checkout import ADDRESS

    client.post(f"/basket/add/{product_in_stock.pk}/", {"quantity": 1})
    client.post("/checkout/", {"username": "grace@example.org", "options": "anonymous"})
    client.post("/checkout/shipping-address/", ADDRESS)
    client.get("/checkout/payment-details/", follow=True)
    response = client.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 302 and response["Location"].endswith("/checkout/thank-you/")
    placed = [m for m in mail.outbox if "Confirmation of order" in m.subject]
    assert len(placed) == 1 and placed[0].to == ["grace@example.org"]
    assert not Message.objects.exists()  # the order-placed e-mail is Oscar's, not a status notice


def test_replayed_history_sends_nothing(customer, product):
    from campaigns.order_status import notices_silenced

    order = place_order(product, user=customer.user)
    with notices_silenced():
        order.set_status("Processing")
    assert order.status_changes.count() == 1 and not Message.objects.exists()
    order.set_status("Shipped")
    assert Message.objects.count() == 1


def test_staff_change_the_status_in_oscars_dashboard_and_the_card_shows_the_history(customer, product, make_staff):
    order = place_order(product, user=customer.user)
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(make_staff("support@example.com", group="Support"))
    page = staff.get(f"/dashboard/orders/{order.number}/")
    assert page.status_code == 200
    response = staff.post(f"/dashboard/orders/{order.number}/", {
        "order_action": "change_order_status", "new_status": "Processing",
        "csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "Processing"
    message = Message.objects.get(source_id=order.number)
    assert message.key == f"order-status:{order.pk}:{order.status_changes.get().pk}"
    _deliver_all()
    assert mail.outbox[0].subject == f"We are preparing your order {order.number}"
    card = f"/dashboard/customers/support-desk/{customer.pk}/"
    orders_tab = staff.get(card, {"tab": "orders"}).content.decode()
    assert "Pending → Processing" in orders_tab
    sent = staff.get(card, {"tab": "campaign-messages"}).content.decode()
    assert "commtype_order_status" in sent.lower() or "ORDER_STATUS_PROCESSING" in sent
    assert f"We are preparing your order {order.number}" in staff.get(card, {"tab": "messages"}).content.decode()
