"""What flow steps do: a personal single-use voucher that expires, tags, a webhook that
times out (a clear error and a retry, nothing else disturbed), and SMS through the
pluggable backends with consent per channel."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone
from oscar.core.loading import get_class, get_model

from campaigns import sms
from campaigns.flow_models import FlowEnrolment, PersonalVoucher
from campaigns.models import Message
from campaigns.outbox import message_deliver
from campaigns.rendering import render
from tests.campaigns.flow_helpers import BASE, basket_of, make_customer, make_flow, tick
from tests.helpers import place_order

pytestmark = pytest.mark.django_db
Voucher = get_model("voucher", "Voucher")
Applicator = get_class("offer.applicator", "Applicator")
VOUCHER_FLOW = [{"kind": "voucher", "wait_hours": 1, "config": {"percent": 10, "valid_days": 7}},
                {"kind": "email", "config": {"template": "FLOW_BASKET"}}]


def _discount(basket, user) -> float:
    basket.reset_offer_applications()
    Applicator().apply(basket, user)
    return float(basket.total_discount)


def test_a_personal_voucher_is_for_that_customer_once_and_expires(flow_settings, flow_template, product, countries):
    now = timezone.now().replace(microsecond=0)
    ada, bob = make_customer("ada"), make_customer("bob")
    basket_of(ada, product, created=now - timedelta(hours=3))
    flow = make_flow("test_basket", VOUCHER_FLOW, exits=())
    tick(now)
    personal = PersonalVoucher.objects.get(person_key=ada.person_key)
    voucher = personal.voucher
    assert (voucher.usage, voucher.end_datetime) == (Voucher.SINGLE_USE, now + timedelta(days=7))
    enrolment = FlowEnrolment.objects.get(flow=flow)
    assert enrolment.context["voucher_id"] == voucher.pk and enrolment.status == FlowEnrolment.COMPLETED
    # The e-mail after the voucher step names the code.
    message = Message.objects.get(campaign=flow.campaign)
    assert f"Code {voucher.code}" in render(message)["html"]

    # Through Oscar's basket: Ada gets 10 % off, Bob typing her code gets nothing.
    ada_client, bob_client = Client(), Client()
    for client, profile in ((ada_client, ada), (bob_client, bob)):
        client.force_login(profile.user)
        client.post(f"/basket/add/{product.pk}/", {"quantity": 1})
    bob_page = bob_client.post("/basket/vouchers/add/", {"code": voucher.code}, follow=True).content.decode()
    assert "does not qualify for a voucher discount" in bob_page
    ada_page = ada_client.post("/basket/vouchers/add/", {"code": voucher.code.lower()}, follow=True).content.decode()
    assert f"Voucher &#x27;{voucher.code}&#x27; added to basket" in ada_page
    ada_basket = get_model("basket", "Basket").objects.filter(owner=ada.user, status="Open").latest("pk")
    ada_basket.strategy = get_class("partner.strategy", "Selector")().strategy()
    assert ada_basket.num_items == 2  # the basket the flow found, and the one added now
    assert _discount(ada_basket, ada.user) == pytest.approx(float(ada_basket.total_incl_tax_excl_discounts) * 0.1)

    # Used once, on an order, it is spent; and after its expiry it is not active.
    order = place_order(product, user=ada.user)
    voucher.record_usage(order, ada.user)
    assert voucher.is_available_to_user(ada.user) == (False, "This voucher has already been used")
    assert not voucher.is_active(test_datetime=now + timedelta(days=7, seconds=1))
    assert voucher.is_active(test_datetime=now + timedelta(days=6))


def test_a_guest_gets_no_voucher_and_the_flow_goes_on(flow_settings, flow_template, product):
    from campaigns.flows import actions

    flow = make_flow("test_basket", VOUCHER_FLOW, exits=())
    enrolment = FlowEnrolment.objects.create(flow=flow, person_key="email:guest@example.com", window="w",
                                             started_at=BASE, step=flow.steps_in_order()[0], next_run_at=BASE)
    assert actions.voucher(enrolment, enrolment.step, BASE) == (
        "no voucher: personal vouchers need a customer account", True)


def test_tag_steps_add_and_remove_ecrm_tags(flow_settings, product):
    ada = make_customer("ada")
    ada.tags.add("vip")
    basket_of(ada, product)
    make_flow("test_basket", [{"kind": "tag", "config": {"add": "basket-left"}},
                              {"kind": "tag", "wait_hours": 2, "config": {"remove": "VIP"}}], exits=())
    tick(BASE + timedelta(hours=1))
    assert sorted(ada.tags.names()) == ["basket-left", "vip"]
    tick(BASE + timedelta(hours=3))
    assert sorted(ada.tags.names()) == ["basket-left"]


class _Receiver(BaseHTTPRequestHandler):
    mode, received = "slow", []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.mode == "slow":
            time.sleep(3)
        type(self).received.append((json.loads(body), self.headers["Idempotency-Key"]))
        self.send_response(500 if _Receiver.mode == "error" else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_a_webhook_that_times_out_is_retried_with_a_clear_error(flow_settings, flow_template, product, receiver):
    flow_settings.CAMPAIGNS_WEBHOOK_TIMEOUT_SECONDS = 1
    ada, bob = make_customer("ada"), make_customer("bob")
    basket_of(ada, product)
    hook = make_flow("test_basket", [{"kind": "webhook", "wait_hours": 1, "config": {"url": receiver}},
                                     {"kind": "tag", "config": {"add": "synced"}}], exits=())
    other = make_flow("test_basket", [{"kind": "email", "wait_hours": 1, "config": {"template": "FLOW_BASKET"}}],
                      exits=())
    basket_of(bob, product)
    _Receiver.mode = "slow"
    at = BASE + timedelta(hours=2)
    tick(at)
    for enrolment in FlowEnrolment.objects.filter(flow=hook):
        assert enrolment.status == FlowEnrolment.ACTIVE and enrolment.attempts == 1
        assert enrolment.last_error.endswith("Call a webhook: the webhook did not answer within 1 seconds")
        assert enrolment.next_run_at == at + timedelta(seconds=60)
    assert Message.objects.filter(campaign=other.campaign).count() == 2  # the other flow was not disturbed
    _Receiver.mode = "error"
    tick(at + timedelta(seconds=60))
    enrolment = FlowEnrolment.objects.get(flow=hook, person_key=ada.person_key)
    assert "HTTP 500" in enrolment.last_error and enrolment.next_run_at == at + timedelta(seconds=180)
    _Receiver.mode = "ok"
    tick(at + timedelta(seconds=180))
    enrolment.refresh_from_db()
    assert enrolment.status == FlowEnrolment.COMPLETED and enrolment.last_error == ""
    assert [h["outcome"] for h in enrolment.history][-2:] == ["webhook answered HTTP 204", "tag 'synced' added"]
    payloads = [body for body, _key in _Receiver.received if body["person_key"] == ada.person_key]
    assert payloads[-1]["email"] == "ada@example.com" and payloads[-1]["context"]["product_ids"] == [product.pk]
    assert {key for _body, key in _Receiver.received if _body["person_key"] == ada.person_key} == {
        f"flow-step:{hook.steps_in_order()[0].pk}:{ada.person_key}:{enrolment.window}"}


def test_sms_goes_through_the_backend_only_with_sms_consent(flow_settings, product, tmp_path):
    from ecrm.consents import consent_record

    flow_settings.CAMPAIGNS_SMS_BACKEND = "campaigns.sms.backends.locmem.SmsBackend"
    ada = make_customer("ada", phone="+447700900123")
    bob = make_customer("bob", phone="+447700900456")
    consent_record(profile=ada, channel="sms", topic="offers", granted=True, source="checkout", at=BASE)
    for person in (ada, bob):
        basket_of(person, product)
    flow = make_flow("test_basket", [{"kind": "voucher", "config": {"amount": 5, "valid_days": 3}},
                                     {"kind": "sms", "wait_hours": 2, "config": {
                                         "text": "Hi {{ customer.first_name }}, {{ voucher.code }} takes 5 off "
                                                 "{% for p in products %}{{ p.title }}{% endfor %} & more"}}],
                     exits=())
    tick(BASE + timedelta(hours=1))  # the voucher now; the SMS two hours after it
    tick(BASE + timedelta(hours=3))
    messages = {m.person_key: m for m in Message.objects.filter(campaign=flow.campaign)}
    assert {m.channel for m in messages.values()} == {"sms"} and messages[ada.person_key].to_phone == "+447700900123"
    sms.outbox.clear()
    assert message_deliver(messages[ada.person_key].pk, now=BASE + timedelta(hours=3)) == "sent"
    assert message_deliver(messages[bob.person_key].pk, now=BASE + timedelta(hours=3)) == (
        "skipped: no consent for sms / offers")
    code = PersonalVoucher.objects.get(person_key=ada.person_key).voucher.code
    assert [(m.to, m.body) for m in sms.outbox] == [("+447700900123", f"Hi Ada, {code} takes 5 off Kettle & more")]
    # The file backend writes the same message to a folder.
    flow_settings.CAMPAIGNS_SMS_BACKEND = "campaigns.sms.backends.filebased.SmsBackend"
    flow_settings.CAMPAIGNS_SMS_FILE_PATH = str(tmp_path)
    Message.objects.filter(pk=messages[ada.person_key].pk).update(status=Message.QUEUED)
    assert message_deliver(messages[ada.person_key].pk, now=BASE + timedelta(hours=24)) == "sent"
    files = list(tmp_path.glob("*.txt"))
    assert len(files) == 1 and "To: +447700900123" in files[0].read_text() and code in files[0].read_text()


def test_an_sms_template_that_fails_is_a_dead_letter_with_the_reason(flow_settings):
    from campaigns.outbox import message_enqueue

    ada = make_customer("ada", phone="+447700900123")
    message, _ = message_enqueue(key="test:sms", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=ada.person_key, template="", channel=Message.SMS,
                                 to_phone=ada.phone, context={"sms_text": "{{ order.number|nosuchfilter }}"})
    assert message_deliver(message.pk) == "dead letter"
    message.refresh_from_db()
    assert "the SMS text failed to render: TemplateSyntaxError" in message.last_error
    with pytest.raises(ValueError, match="an SMS needs a phone number"):
        message_enqueue(key="test:sms2", source_kind="test", kind=Message.TRANSACTIONAL, person_key="1",
                        template="", channel=Message.SMS)
