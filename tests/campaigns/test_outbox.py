"""The outbox's rules, called directly: one row per key, the claim, the at-most-once choice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from campaigns.models import Message
from campaigns.outbox import message_deliver, message_enqueue, outbox_dispatch

pytestmark = pytest.mark.django_db


def _enqueue(customer, key="test:1", **extra):
    return message_enqueue(key=key, source_kind="test", kind=Message.TRANSACTIONAL, person_key=customer.person_key,
                           to_email=customer.email, template="WINTER_NEWS", **extra)


def test_one_row_per_key(customer, marketing_template):
    first, created = _enqueue(customer)
    again, created_again = _enqueue(customer)
    assert created and not created_again and first.pk == again.pk and Message.objects.count() == 1
    assert message_deliver(first.pk) == "sent"
    assert message_deliver(first.pk) == "already sent"
    assert len(mail.outbox) == 1


def test_bad_messages_are_refused(customer):
    with pytest.raises(ValueError, match="unknown message kind"):
        message_enqueue(key="x", source_kind="test", kind="spam", person_key="1", to_email="a@b.c", template="T")
    with pytest.raises(ValueError, match="needs the consent topic"):
        message_enqueue(key="x", source_kind="test", kind=Message.MARKETING, person_key="1", to_email="a@b.c",
                        template="T")


def test_a_message_waits_for_its_time(customer, marketing_template):
    later = timezone.now() + timedelta(hours=1)
    message, _ = _enqueue(customer, due_at=later)
    assert message_deliver(message.pk) == "not due yet"
    assert message_deliver(message.pk, now=later) == "sent"


def test_an_unknown_template_is_a_dead_letter_at_once(customer):
    message, _ = message_enqueue(key="t", source_kind="test", kind=Message.TRANSACTIONAL,
                                 person_key=customer.person_key, to_email=customer.email, template="NO_SUCH")
    assert message_deliver(message.pk) == "dead letter"
    message.refresh_from_db()
    assert message.attempts == 1 and "no e-mail template with code 'NO_SUCH'" in message.last_error


def test_an_unconfirmed_send_is_resent_or_left_to_staff(customer, marketing_template, settings, private_queue):
    now = timezone.now()
    for resend, outcome, status in ((True, "sent", Message.SENT),
                                    (False, "unconfirmed send: dead letter", Message.DEAD)):
        settings.CAMPAIGNS_RESEND_UNCONFIRMED = resend
        message, _ = _enqueue(customer, key=f"test:{resend}")
        # A worker claimed it and died: the row is "sending" with a lease.
        Message.objects.filter(pk=message.pk).update(status=Message.SENDING, attempts=1, claim="dead-worker",
                                                     claimed_at=now, lease_until=now + timedelta(minutes=5))
        assert message_deliver(message.pk, now=now + timedelta(minutes=1)) == "already sending"
        assert message.pk not in _dispatched(now + timedelta(minutes=4))
        assert message.pk in _dispatched(now + timedelta(minutes=6))
        assert message_deliver(message.pk, now=now + timedelta(minutes=6)) == outcome
        message.refresh_from_db()
        assert message.status == status
    assert "may or may not have been delivered" in message.last_error


@pytest.fixture
def private_queue(settings):
    """Tasks the tick queues go to a queue of this test's own, removed afterwards."""
    import uuid

    from kombu import Connection

    settings.CAMPAIGNS_QUEUE = f"test-outbox-{uuid.uuid4().hex[:8]}"
    yield settings.CAMPAIGNS_QUEUE
    with Connection(settings.CELERY_BROKER_URL) as connection:
        connection.default_channel.client.delete(settings.CAMPAIGNS_QUEUE)


def _dispatched(now) -> set[int]:
    """The messages the tick queued as of ``now`` (it notes when on each)."""
    outbox_dispatch(now=now)
    return set(Message.objects.filter(enqueued_at=now).values_list("pk", flat=True))
