"""Broadcast fan-out: one message per consenting member, none for the holdout, never two;
sends now, later, or at 9:00 in each recipient's own time zone; cancelling."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.broadcasts import BroadcastError, audience_count, broadcast_cancel, broadcast_schedule, broadcasts_run
from campaigns.holdout import in_holdout
from campaigns.models import Broadcast, HoldoutMember, Message, Suppression
from campaigns.outbox import message_deliver
from ecrm.consents import consent_record
from tests.campaigns.broadcast_helpers import audience, broadcast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_quiet_hours(settings):
    """Sends "now" must not meet quiet hours when the suite runs in the evening."""
    settings.CAMPAIGNS_QUIET_HOURS = None


def _keys(b):
    return set(Message.objects.filter(campaign=b.campaign).values_list("person_key", flat=True))


def test_fan_out_messages_every_consenting_member_but_the_holdout(marketing_template, django_capture_on_commit_callbacks):
    segment, profiles = audience(60, consenting=lambda i: i % 3 != 0)  # 40 consent
    consent_record(profile=profiles[1], channel="email", granted=False, source="account")  # withdrew: 39
    Suppression.objects.create(email="p2@example.com", reason=Suppression.COMPLAINED)  # suppressed: 38
    b = broadcast(segment, holdout=0.25)
    assert audience_count(segment, "newsletter") == 38
    broadcast_schedule(broadcast=b)
    with django_capture_on_commit_callbacks() as callbacks:
        assert broadcasts_run() == 1
    eligible = {p.person_key for i, p in enumerate(profiles) if i % 3 and i not in (1, 2)}
    held = {p for p in eligible if in_holdout(b.campaign, p, 0.25)}
    assert 0 < len(held) < len(eligible)
    assert _keys(b) == eligible - held
    assert set(HoldoutMember.objects.filter(campaign=b.campaign).values_list("person_key", flat=True)) == held
    message = Message.objects.filter(campaign=b.campaign).first()
    assert (message.key, message.kind, message.topic, message.source_kind) == (
        f"broadcast:{b.pk}:{message.person_key}", Message.MARKETING, "newsletter", "broadcast")
    b.refresh_from_db()
    assert (b.status, b.audience, b.held_out) == (Broadcast.SENDING, 38, len(held)) and b.fanout_done_at
    assert callbacks, "the due messages are queued for delivery after the commit"
    assert message_deliver(message.pk) == "sent"


def test_a_doubled_tick_and_a_resumed_fan_out_make_no_second_message(marketing_template, settings):
    settings.CAMPAIGNS_FANOUT_CHUNK = 7
    segment, profiles = audience(30)
    b = broadcast_schedule(broadcast=broadcast(segment, holdout=0.1))
    call_command("campaigns_tick", verbosity=0)
    call_command("campaigns_tick", verbosity=0)
    first = Message.objects.filter(campaign=b.campaign).count()
    held = HoldoutMember.objects.filter(campaign=b.campaign).count()
    assert first + held == 30
    # A crash after some chunks: the cursor is back at the start, the rows are there.
    Broadcast.objects.filter(pk=b.pk).update(fanout_cursor=0, fanout_done_at=None, audience=0, held_out=0)
    broadcasts_run()
    assert Message.objects.filter(campaign=b.campaign).count() == first
    assert HoldoutMember.objects.filter(campaign=b.campaign).count() == held


def test_a_scheduled_broadcast_waits_for_its_time(marketing_template):
    segment, _ = audience(5)
    at = timezone.now() + timedelta(days=2)
    b = broadcast_schedule(broadcast=broadcast(segment), send_at=at)
    call_command("campaigns_tick", now=(at - timedelta(minutes=1)).isoformat(), verbosity=0)
    assert not Message.objects.filter(campaign=b.campaign).exists()
    assert Broadcast.objects.get(pk=b.pk).status == Broadcast.SCHEDULED
    call_command("campaigns_tick", now=at.isoformat(), verbosity=0)
    assert Message.objects.filter(campaign=b.campaign, due_at=at).count() == 5


def test_local_time_send_goes_at_nine_in_each_zone(marketing_template, settings):
    settings.TIME_ZONE = "Europe/London"
    segment, profiles = audience(3, zones={0: "America/New_York", 1: "Asia/Tokyo", 2: "Not/AZone"})
    nine = datetime(2026, 12, 24, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    b = broadcast_schedule(broadcast=broadcast(segment), send_at=nine, local_time=True,
                           now=datetime(2026, 12, 20, tzinfo=ZoneInfo("UTC")))
    # Fan-out starts when the first zone on Earth reaches 9:00 (UTC+14), not before.
    assert b.fanout_at == datetime(2026, 12, 23, 19, 0, tzinfo=ZoneInfo("UTC"))
    call_command("campaigns_tick", now="2026-12-23T18:59:00+00:00", verbosity=0)
    assert not Message.objects.filter(campaign=b.campaign).exists()
    call_command("campaigns_tick", now="2026-12-23T19:00:00+00:00", verbosity=0)
    due = dict(Message.objects.filter(campaign=b.campaign).values_list("person_key", "due_at"))
    assert due[profiles[0].person_key].astimezone(ZoneInfo("America/New_York")).hour == 9
    assert due[profiles[1].person_key].astimezone(ZoneInfo("Asia/Tokyo")).hour == 9
    assert due[profiles[2].person_key] == nine  # an unknown zone: the store's
    assert due[profiles[1].person_key] < due[profiles[2].person_key] < due[profiles[0].person_key]
    # Tokyo's goes at its 9:00 (00:00 UTC), New York's waits for its own.
    message = Message.objects.get(person_key=profiles[0].person_key)
    assert message_deliver(message.pk, now=datetime(2026, 12, 24, 0, 0, tzinfo=ZoneInfo("UTC"))) == "not due yet"
    tokyo = Message.objects.get(person_key=profiles[1].person_key)
    assert message_deliver(tokyo.pk, now=datetime(2026, 12, 24, 0, 0, tzinfo=ZoneInfo("UTC"))) == "sent"


def test_cancel_stops_what_was_not_sent(marketing_template):
    segment, _ = audience(6)
    b = broadcast_schedule(broadcast=broadcast(segment))
    broadcasts_run()
    sent = Message.objects.filter(campaign=b.campaign).first()
    assert message_deliver(sent.pk) == "sent"
    assert broadcast_cancel(broadcast=b) == 5
    assert set(Message.objects.filter(campaign=b.campaign).values_list("status", flat=True)) == {
        Message.SENT, Message.SKIPPED}
    assert Broadcast.objects.get(pk=b.pk).status == Broadcast.CANCELLED
    with pytest.raises(BroadcastError, match="cancelled broadcast cannot be"):
        broadcast_cancel(broadcast=b)
    with pytest.raises(BroadcastError):
        broadcast_schedule(broadcast=b)
    # Cancelled before its time: nothing is fanned out at all.
    later = broadcast_schedule(broadcast=broadcast(segment), send_at=timezone.now() + timedelta(hours=1))
    broadcast_cancel(broadcast=later)
    broadcasts_run(now=timezone.now() + timedelta(hours=2))
    assert not Message.objects.filter(campaign=later.campaign).exists()


def test_a_broadcast_is_sent_when_every_message_is_done(marketing_template):
    segment, _ = audience(2)
    b = broadcast_schedule(broadcast=broadcast(segment))
    broadcasts_run()
    for message in Message.objects.filter(campaign=b.campaign):
        message_deliver(message.pk)
    broadcasts_run()
    b.refresh_from_db()
    assert b.status == Broadcast.SENT and b.finished_at
