"""A flow end to end on real Celery workers and a real Redis broker: a customer enrolled by
the trigger, the wait, then one e-mail — however many ticks run at once (the command here,
beat's task on two workers there)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from campaigns.flow_models import FlowEnrolment
from campaigns.models import Message
from campaigns.tasks import tick as tick_task
from tests.campaigns.conftest import sent_mail
from tests.campaigns.flow_helpers import BASE, make_customer, make_flow, tick
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_enrol_wait_and_one_email_despite_doubled_ticks(settings, marketing_template, mail_workers):
    settings.CAMPAIGNS_TRIGGER_MODULES = ["tests.campaigns.flow_triggers"]
    mail_workers("ok")
    mail_workers("ok")
    make_customer("ada", joined=BASE)
    flow = make_flow("test_signup", [{"kind": "email", "wait_hours": 24, "config": {"template": "WINTER_NEWS"}}],
                     topic="newsletter")
    tick(BASE + timedelta(hours=1))
    enrolment = FlowEnrolment.objects.get(flow=flow)
    assert enrolment.next_run_at == BASE + timedelta(hours=24)
    tick(BASE + timedelta(hours=23))
    assert not Message.objects.exists()

    # The moment comes: beat's tick on both workers and two operators' ticks, all at once.
    due = BASE + timedelta(hours=24, minutes=1)
    for _ in range(2):
        tick_task.apply_async(kwargs={"now": due.isoformat()}, queue=mail_workers.queue)
    threads = [threading.Thread(target=tick, args=(due,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wait_for(lambda: Message.objects.filter(status=Message.SENT).exists(), timeout=60)
    wait_for(lambda: False, timeout=3)  # the other tasks finish
    tick(due + timedelta(hours=1))
    wait_for(lambda: False, timeout=2)
    mails = sent_mail(mail_workers.folder)
    assert len(mails) == 1 and mails[0]["To"] == "ada@example.com"
    assert mails[0]["Subject"] == "Winter news for Ada"
    assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    message = Message.objects.get()
    assert message.campaign == f"flow:{flow.pk}" and message.attempts == 1
    enrolment.refresh_from_db()
    assert enrolment.status == FlowEnrolment.COMPLETED and len(enrolment.history) == 1


def test_three_ticks_at_once_run_every_step_once(settings, flow_template, product):
    from django.db import connection

    settings.CAMPAIGNS_TRIGGER_MODULES = ["tests.campaigns.flow_triggers"]
    settings.CAMPAIGNS_QUEUE = "test-flows-concurrent-unused"
    from tests.campaigns.flow_helpers import basket_of

    people = [make_customer(f"c{i}") for i in range(40)]
    for person in people:
        basket_of(person, product)
    flow = make_flow("test_basket", [{"kind": "email", "wait_hours": 2, "config": {"template": "FLOW_BASKET"}},
                                     {"kind": "tag", "config": {"add": "rescued"}}], exits=("order_placed",))
    tick(BASE + timedelta(hours=1))
    assert FlowEnrolment.objects.filter(flow=flow).count() == 40

    def run():
        try:
            tick(BASE + timedelta(hours=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Message.objects.filter(campaign=flow.campaign).count() == 40
    for enrolment in FlowEnrolment.objects.filter(flow=flow):
        assert enrolment.status == FlowEnrolment.COMPLETED
        assert [h["kind"] for h in enrolment.history] == ["email", "tag"], enrolment.history
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL) as broker:
        broker.default_channel.client.delete(settings.CAMPAIGNS_QUEUE)
