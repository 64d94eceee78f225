"""The outbox in Oscar's dashboard and on the customer card: who may see and retry, CSRF,
and campaigns_tick's bad input."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from campaigns.models import Message, Suppression
from campaigns.outbox import message_enqueue

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_letter(customer):
    message, _ = message_enqueue(key="test:dead", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=customer.person_key, to_email=customer.email, template="MISSING")
    Message.objects.filter(pk=message.pk).update(status=Message.DEAD, attempts=5,
                                                 last_error="SMTPDataError: (451, 'try later')")
    return message


def test_marketing_sees_and_retries_dead_letters(dead_letter, make_staff, django_capture_on_commit_callbacks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    page = client.get("/dashboard/campaigns/dead-letters/")
    assert page.status_code == 200 and "ada@example.com" in page.content.decode()
    detail = client.get(f"/dashboard/campaigns/outbox/{dead_letter.pk}/")
    assert "SMTPDataError" in detail.content.decode() and "Send again" in detail.content.decode()
    # CSRF: without the token the retry is refused.
    assert client.post(f"/dashboard/campaigns/outbox/{dead_letter.pk}/retry/").status_code == 403
    token = detail.context["csrf_token"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/dashboard/campaigns/outbox/{dead_letter.pk}/retry/", {"csrfmiddlewaretoken": str(token)})
    assert response.status_code == 302
    dead_letter.refresh_from_db()
    assert (dead_letter.status, dead_letter.attempts, dead_letter.deferred_because) == (
        Message.QUEUED, 0, "retried by staff")
    assert len(callbacks) == 1  # the delivery task is queued after commit
    # A sent message cannot be "retried" into a second e-mail.
    Message.objects.filter(pk=dead_letter.pk).update(status=Message.SENT)
    client2 = Client()
    client2.force_login(dead_letter_user := make_staff("m2@example.com", group="Marketing"))
    response = client2.post(f"/dashboard/campaigns/outbox/{dead_letter.pk}/retry/", follow=True)
    assert "only dead letters and skipped messages can be retried" in response.content.decode()
    assert dead_letter_user.has_perm("campaigns.retry_message")


def test_support_may_look_but_not_retry(dead_letter, make_staff):
    client = Client()
    client.force_login(make_staff("support@example.com", group="Support"))
    assert client.get("/dashboard/campaigns/outbox/").status_code == 200
    assert client.get("/dashboard/campaigns/suppressions/").status_code == 200
    assert client.post(f"/dashboard/campaigns/outbox/{dead_letter.pk}/retry/").status_code == 403
    suppression = Suppression.objects.create(email="x@example.com", reason=Suppression.BOUNCED)
    assert client.post(f"/dashboard/campaigns/suppressions/{suppression.pk}/lift/").status_code == 403
    dead_letter.refresh_from_db()
    assert dead_letter.status == Message.DEAD


def test_customers_and_visitors_are_kept_out(dead_letter, customer):
    assert Client().get("/dashboard/campaigns/outbox/").status_code == 302  # to the login page
    shopper = Client()
    shopper.force_login(customer.user)
    assert shopper.get("/dashboard/campaigns/dead-letters/").status_code in (302, 403)


def test_the_menu_and_the_outbox_filters(dead_letter, make_staff):
    client = Client()
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    home = client.get("/dashboard/").content.decode()
    assert "/dashboard/campaigns/outbox/" in home and "/dashboard/campaigns/dead-letters/" in home
    assert "ada@example.com" in client.get("/dashboard/campaigns/outbox/?status=dead").content.decode()
    assert "ada@example.com" not in client.get("/dashboard/campaigns/outbox/?status=sent").content.decode()
    assert client.get("/dashboard/campaigns/outbox/?status=bogus").status_code == 200


def test_marketing_can_lift_a_suppression(make_staff):
    suppression = Suppression.objects.create(email="x@example.com", reason=Suppression.BOUNCED,
                                             blocks_transactional=True)
    client = Client()
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    assert "x@example.com" in client.get("/dashboard/campaigns/suppressions/").content.decode()
    assert client.post(f"/dashboard/campaigns/suppressions/{suppression.pk}/lift/").status_code == 302
    assert not Suppression.objects.exists()


def test_the_customer_card_shows_campaign_messages(dead_letter, customer, make_staff):
    from django.core import mail

    from campaigns.outbox import message_deliver
    from tests.helpers import place_order

    client = Client()
    client.force_login(make_staff("support@example.com", group="Support"))
    Suppression.objects.create(email="ada@example.com", reason=Suppression.COMPLAINED)
    page = client.get(f"/dashboard/customers/support-desk/{customer.pk}/?tab=campaign-messages")
    body = page.content.decode()
    assert page.status_code == 200 and "Dead letter" in body and "SMTPDataError" in body
    assert "is suppressed since" in body and "order messages still do" in body
    # A sent order notice shows on the card's Messages tab too (Oscar's e-mail record).
    from oscar.test.factories import create_product

    order = place_order(create_product(price=5, num_in_stock=5), user=customer.user)
    order.set_status("Processing")
    message_deliver(Message.objects.get(source_id=str(order.number)).pk)
    assert len(mail.outbox) == 1
    messages_tab = client.get(f"/dashboard/customers/support-desk/{customer.pk}/?tab=messages")
    assert f"We are preparing your order {order.number}" in messages_tab.content.decode()


def test_campaigns_tick_refuses_a_bad_moment():
    with pytest.raises(CommandError, match="is not an ISO 8601 date and time"):
        call_command("campaigns_tick", now="yesterday")
    with pytest.raises(CommandError, match="is not an ISO 8601"):
        call_command("campaigns_tick", now="2026-13-45T99:00")


def test_order_status_templates_are_in_oscars_email_templates_screen(make_staff):
    from campaigns.order_status import event_types_ensure

    event_types_ensure()  # what migrate does (a transactional test before may have flushed them)
    client = Client()
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    page = client.get("/dashboard/comms/")
    assert page.status_code == 200
    body = page.content.decode()
    for status in ("Processing", "Shipped", "Delivered", "Cancelled", "Returned", "Refunded"):
        assert f"Order status: {status}" in body
    edit = client.get("/dashboard/comms/ORDER_STATUS_SHIPPED/")
    assert edit.status_code == 200
