"""The flow engine with time moved by ``campaigns_tick --now``: steps wait their delay and
run once, exits, branches, the holdout, re-entry, and what a flow's e-mail is rendered with."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from campaigns.flow_models import Flow, FlowEnrolment
from campaigns.flows.services import flow_activate
from campaigns.holdout import in_holdout
from campaigns.models import HoldoutMember, Message
from campaigns.outbox import message_deliver
from tests.campaigns.flow_helpers import BASE, basket_of, make_customer, make_flow, tick
from tests.helpers import place_order

pytestmark = pytest.mark.django_db

BASKET_FLOW = [{"kind": "email", "wait_hours": 4, "config": {"template": "FLOW_BASKET"}}]


def _messages(flow):
    return Message.objects.filter(campaign=flow.campaign)


def test_a_step_waits_its_delay_then_runs_once(flow_settings, flow_template, product):
    ada = make_customer("ada")
    basket_of(ada, product)
    flow = make_flow("test_basket", BASKET_FLOW, exits=("order_placed", "basket_emptied"))
    tick(BASE + timedelta(hours=1))
    enrolment = FlowEnrolment.objects.get(flow=flow)
    assert (enrolment.person_key, enrolment.status, enrolment.next_run_at) == (
        ada.person_key, FlowEnrolment.ACTIVE, BASE + timedelta(hours=4))
    assert enrolment.window.startswith("basket:") and enrolment.context["product_ids"] == [product.pk]
    tick(BASE + timedelta(hours=3, minutes=59))
    assert not _messages(flow).exists()
    tick(BASE + timedelta(hours=4))
    tick(BASE + timedelta(hours=4))  # a doubled tick
    tick(BASE + timedelta(hours=30))
    message = _messages(flow).get()
    assert message.key == f"flow-step:{flow.steps.get().pk}:{ada.person_key}:{enrolment.window}"
    assert (message.kind, message.topic, message.source_kind) == (Message.MARKETING, "offers", "flow-step")
    enrolment.refresh_from_db()
    assert enrolment.status == FlowEnrolment.COMPLETED and [h["outcome"] for h in enrolment.history] == [
        f"e-mail queued (message {message.pk})"]
    # The e-mail is rendered with the basket and its products.
    assert message_deliver(message.pk, now=BASE + timedelta(hours=4)) == "sent"
    assert "Kettle (1 items)" in mail.outbox[0].alternatives[0][0]
    assert mail.outbox[0].subject == "Ada, your basket is waiting"
    # The same basket found again later is the same firing: nobody is enrolled twice.
    tick(BASE + timedelta(days=3))
    assert FlowEnrolment.objects.filter(flow=flow).count() == 1


def test_an_order_placed_takes_the_customer_out_before_the_email(flow_settings, flow_template, product):
    ada, bob = make_customer("ada"), make_customer("bob")
    basket_of(ada, product)
    basket_of(bob, product)
    flow = make_flow("test_basket", BASKET_FLOW)
    tick(BASE + timedelta(hours=1))
    place_order(product, user=ada.user, placed_at=BASE + timedelta(hours=2))
    tick(BASE + timedelta(hours=5))
    ada_in = FlowEnrolment.objects.get(flow=flow, person_key=ada.person_key)
    assert ada_in.status == FlowEnrolment.EXITED and ada_in.exited_because.startswith("placed an order on")
    assert list(_messages(flow).values_list("person_key", flat=True)) == [bob.person_key]


def test_emptied_basket_and_withdrawn_consent_are_exits(flow_settings, flow_template, product):
    from ecrm.consents import consent_record

    ada, bob = make_customer("ada"), make_customer("bob")
    ada_basket = basket_of(ada, product)
    basket_of(bob, product)
    flow = make_flow("test_basket", BASKET_FLOW, exits=("basket_emptied", "unsubscribed"))
    tick(BASE + timedelta(hours=1))
    ada_basket.flush()
    consent_record(profile=bob, channel="email", topic="offers", granted=False, source="unsubscribe",
                   at=BASE + timedelta(hours=2))
    tick(BASE + timedelta(hours=5))
    reasons = dict(FlowEnrolment.objects.filter(flow=flow).values_list("person_key", "exited_because"))
    assert reasons == {ada.person_key: "their basket is empty", bob.person_key: "no consent for email / offers"}
    assert not _messages(flow).exists()


def test_a_condition_branches_on_the_profile(flow_settings, flow_template, product):
    from oscar.core.loading import get_model

    CommunicationEventType = get_model("communication", "CommunicationEventType")
    CommunicationEventType.objects.create(code="FLOW_FIRST", name="First order", email_subject_template="Welcome",
                                          email_body_template="Thank you.")
    ada, bob = make_customer("ada"), make_customer("bob")
    basket_of(ada, product)
    basket_of(bob, product)
    place_order(product, user=bob.user, placed_at=BASE - timedelta(days=30))
    from ecrm.services import profiles_refresh

    profiles_refresh(person_keys={bob.person_key})
    steps = [{"kind": "condition", "wait_hours": 2, "next": "", "else": "",
              "config": {"rule": {"attribute": "order_count", "op": "gte", "value": 1}}},
             {"kind": "email", "config": {"template": "FLOW_BASKET"}, "next": "end"},
             {"kind": "email", "config": {"template": "FLOW_FIRST"}}]
    flow = make_flow("test_basket", steps, exits=(), activate=False)
    steps = flow.steps_in_order()
    steps[0].else_target = str(steps[2].pk)
    steps[0].save()
    flow_activate(flow=flow)
    tick(BASE + timedelta(hours=1))
    tick(BASE + timedelta(hours=2))
    sent = dict(_messages(flow).values_list("person_key", "template"))
    assert sent == {bob.person_key: "FLOW_BASKET", ada.person_key: "FLOW_FIRST"}
    history = FlowEnrolment.objects.get(flow=flow, person_key=ada.person_key).history
    assert [h["outcome"] for h in history][0] == "the condition does not hold"


def test_the_holdout_waits_but_receives_nothing(flow_settings, flow_template, product):
    people = [make_customer(f"c{i}") for i in range(12)]
    for person in people:
        basket_of(person, product)
    flow = make_flow("test_basket", BASKET_FLOW, holdout=0.5)
    held = {p.person_key for p in people if in_holdout(flow.campaign, p.person_key, 0.5)}
    assert held and len(held) < len(people)
    tick(BASE + timedelta(hours=1))
    tick(BASE + timedelta(hours=4))
    assert set(_messages(flow).values_list("person_key", flat=True)) == {p.person_key for p in people} - held
    assert set(HoldoutMember.objects.filter(campaign=flow.campaign).values_list("person_key", flat=True)) == held
    for enrolment in FlowEnrolment.objects.filter(flow=flow, person_key__in=held):
        assert enrolment.held_out and enrolment.status == FlowEnrolment.COMPLETED
        assert enrolment.history[0]["outcome"] == "held out: no send e-mail"


def test_reentry_once_and_a_paused_flow_waits(flow_settings, flow_template, product):
    ada = make_customer("ada")
    basket_of(ada, product)
    flow = make_flow("test_basket", [{"kind": "wait", "wait_hours": 1}, *BASKET_FLOW], reentry=Flow.ONCE)
    tick(BASE + timedelta(hours=1))
    basket_of(ada, product, created=BASE + timedelta(hours=1))  # a second basket: a new firing
    Flow.objects.filter(pk=flow.pk).update(status=Flow.PAUSED)
    tick(BASE + timedelta(hours=10))
    assert FlowEnrolment.objects.filter(flow=flow).count() == 1 and not _messages(flow).exists()
    Flow.objects.filter(pk=flow.pk).update(status=Flow.ACTIVE)
    tick(BASE + timedelta(hours=10, minutes=1))
    assert FlowEnrolment.objects.filter(flow=flow).count() == 1  # once, ever
    assert _messages(flow).count() == 1  # both due steps ran on resume, the e-mail once


def test_a_broken_trigger_is_reported_and_other_flows_go_on(flow_settings, flow_template, product):
    ada = make_customer("ada")
    basket_of(ada, product)
    broken = make_flow("test_basket", BASKET_FLOW)
    Flow.objects.filter(pk=broken.pk).update(trigger_settings={"idle_hours": "soon"})
    working = make_flow("test_basket", BASKET_FLOW)
    tick(BASE + timedelta(hours=5))
    broken.refresh_from_db()
    assert "the trigger failed: ValidationError" in broken.last_error and "Idle for (hours)" in broken.last_error
    assert _messages(working).count() == 1
