"""Exactly once on real Celery workers and a real Redis broker: duplicated tasks, a worker
killed mid-send, retries with backoff into the dead letters, and campaigns_tick moving time."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.defaults import setting
from campaigns.models import Message
from campaigns.outbox import message_enqueue
from campaigns.tasks import deliver
from tests.campaigns.conftest import sent_mail
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _transactional(customer, key="receipt-1"):
    message, _ = message_enqueue(key=f"test:{key}", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=customer.person_key, user=customer.user, to_email=customer.email,
                                 template="WINTER_NEWS")
    return message


def _state(message):
    message.refresh_from_db()
    return message


def _queue_length(queue: str) -> int:
    from django.conf import settings
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL) as connection:
        return connection.default_channel.client.llen(queue)


def test_duplicated_tasks_and_ticks_send_one_email(customer, marketing_template, mail_workers):
    mail_workers("ok")
    mail_workers("ok")  # two workers on the queue, taking tasks at the same time
    message = _transactional(customer)  # queued once on commit
    for _ in range(4):
        deliver.apply_async(args=[message.pk], queue=mail_workers.queue)
    call_command("campaigns_tick", verbosity=0)
    call_command("campaigns_tick", now=(timezone.now() + timedelta(hours=1)).isoformat(), verbosity=0)
    assert wait_for(lambda: _state(message).status == Message.SENT, timeout=60)
    assert wait_for(lambda: _queue_length(mail_workers.queue) == 0, timeout=30)
    wait_for(lambda: False, timeout=2)  # the last tasks taken finish
    mails = sent_mail(mail_workers.folder)
    assert len(mails) == 1 and mails[0]["To"] == "ada@example.com"
    assert mails[0]["Message-ID"] == _state(message).message_id and _state(message).attempts == 1


def test_a_worker_killed_mid_send_is_recovered_and_sends_once(customer, marketing_template, mail_workers):
    slow = mail_workers("slow")
    message = _transactional(customer)
    assert wait_for(lambda: any(mail_workers.folder.glob("sending-*")), timeout=60), "the send never started"
    assert _state(message).status == Message.SENDING
    os.kill(slow.pid, signal.SIGKILL)  # the worker dies inside the mail server conversation
    slow.wait(timeout=10)
    assert sent_mail(mail_workers.folder) == []

    mail_workers("ok")
    # Before the lease runs out the row is still held: nothing is sent twice by impatience.
    call_command("campaigns_tick", verbosity=0)
    wait_for(lambda: False, timeout=3)
    assert _state(message).status == Message.SENDING and sent_mail(mail_workers.folder) == []
    # After it, the tick takes the message up again.
    after_lease = timezone.now() + timedelta(seconds=setting("CAMPAIGNS_SEND_LEASE_SECONDS") + 5)
    call_command("campaigns_tick", now=after_lease.isoformat(), verbosity=0)
    assert wait_for(lambda: _state(message).status == Message.SENT, timeout=60)
    assert len(sent_mail(mail_workers.folder)) == 1 and _state(message).attempts == 2


def test_failed_sends_back_off_then_land_in_the_dead_letters(customer, marketing_template, mail_workers,
                                                             make_staff, client):
    failing = mail_workers("fail")
    message = _transactional(customer)
    delays = []
    for attempt in range(1, 6):
        assert wait_for(lambda: _state(message).attempts == attempt and _state(message).status != Message.SENDING,
                        timeout=60), f"attempt {attempt} did not happen"
        state = _state(message)
        if attempt < 5:
            assert state.status == Message.QUEUED and "SMTPDataError" in state.last_error
            delays.append(round((state.due_at - state.claimed_at).total_seconds()))
            # Not before it is due ...
            call_command("campaigns_tick", now=(state.due_at - timedelta(seconds=1)).isoformat(), verbosity=0)
            wait_for(lambda: False, timeout=1)
            assert _state(message).attempts == attempt
            # ... and then, when it is.
            call_command("campaigns_tick", now=state.due_at.isoformat(), verbosity=0)
    assert delays == [60, 120, 240, 480]
    assert _state(message).status == Message.DEAD and sent_mail(mail_workers.folder) == []

    # Staff see it among the dead letters and send it again once the mail server is back.
    failing.terminate()
    failing.wait(timeout=20)
    mail_workers("ok")
    client.force_login(make_staff("marketer@example.com", group="Marketing"))
    page = client.get("/dashboard/campaigns/dead-letters/")
    assert page.status_code == 200 and "ada@example.com" in page.content.decode()
    response = client.post(f"/dashboard/campaigns/outbox/{message.pk}/retry/")
    assert response.status_code == 302
    assert wait_for(lambda: _state(message).status == Message.SENT, timeout=60)
    assert len(sent_mail(mail_workers.folder)) == 1


def test_deferred_marketing_goes_when_the_tick_reaches_its_time(customer, marketing_template, mail_workers):
    from ecrm.consents import consent_record

    mail_workers("ok")
    consent_record(profile=customer, channel="email", topic="all", granted=True, source="account")
    now = timezone.now()
    first, _ = message_enqueue(key="broadcast:1:ada", source_kind="broadcast", kind=Message.MARKETING,
                               topic="newsletter", person_key=customer.person_key, to_email=customer.email,
                               template="WINTER_NEWS", due_at=now - timedelta(days=2))
    second, _ = message_enqueue(key="broadcast:2:ada", source_kind="broadcast", kind=Message.MARKETING,
                                topic="offers", person_key=customer.person_key, to_email=customer.email,
                                template="WINTER_NEWS", due_at=now - timedelta(days=2))
    call_command("campaigns_tick", now=(now - timedelta(days=2)).isoformat(), verbosity=0)
    assert wait_for(lambda: _state(first).status == Message.SENT or _state(second).status == Message.SENT, timeout=60)
    assert wait_for(lambda: bool(_state(first).deferred_because or _state(second).deferred_because), timeout=30)
    later = first if _state(second).status == Message.SENT else second
    assert later.status == Message.QUEUED and "frequency cap" in _state(later).deferred_because
    assert len(sent_mail(mail_workers.folder)) == 1
    call_command("campaigns_tick", now=_state(later).due_at.isoformat(), verbosity=0)
    assert wait_for(lambda: _state(later).status == Message.SENT, timeout=60)
    mails = sent_mail(mail_workers.folder)
    assert len(mails) == 2 and all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in mails)


def test_a_broadcast_is_delivered_in_batches_each_message_once(marketing_template, mail_workers, settings):
    """Batched delivery on two real workers: the fan-out queues tasks of 7 messages; the same
    batches queued twice more and a tick as well still send every recipient one e-mail."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from campaigns.broadcasts import broadcast_schedule
    from campaigns.tasks import deliver_batch
    from tests.campaigns.broadcast_helpers import audience, broadcast

    settings.CAMPAIGNS_DELIVERY_BATCH = 7
    mail_workers("ok")
    mail_workers("ok")
    segment, profiles = audience(30)
    noon = datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time().replace(hour=12),
                            tzinfo=ZoneInfo(settings.TIME_ZONE))  # a daytime moment: no quiet hours
    b = broadcast_schedule(broadcast=broadcast(segment, holdout=0.1), send_at=noon)
    call_command("campaigns_tick", now=noon.isoformat(), verbosity=0)  # fan-out: batches of 7
    ids = list(Message.objects.filter(campaign=b.campaign).values_list("pk", flat=True))
    assert 20 < len(ids) < 30
    for _ in range(2):  # a redelivered batch, a doubled queueing
        for start in range(0, len(ids), 7):
            deliver_batch.apply_async(args=[ids[start:start + 7]], kwargs={"now": noon.isoformat()},
                                      queue=mail_workers.queue)
    call_command("campaigns_tick", now=noon.isoformat(), verbosity=0)
    assert wait_for(lambda: Message.objects.filter(pk__in=ids, status=Message.SENT).count() == len(ids), timeout=90)
    assert wait_for(lambda: _queue_length(mail_workers.queue) == 0, timeout=30)
    wait_for(lambda: False, timeout=2)
    mails = sent_mail(mail_workers.folder)
    recipients = sorted(m["To"] for m in mails)
    assert len(mails) == len(ids) and len(set(recipients)) == len(ids)
    assert set(recipients) == set(Message.objects.filter(pk__in=ids).values_list("to_email", flat=True))
    assert all("/campaigns/o/" in m.get_body(("html",)).get_content() for m in mails)
