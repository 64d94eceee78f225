"""Broadcasts: schedule, cancel, and fan out when due — one marketing message per consenting
member of the segment, none for the holdout.

Fan-out (``broadcasts_run``, called by the tick) goes through the audience in profile-id
order, a chunk (CAMPAIGNS_FANOUT_CHUNK) per transaction: with the broadcast row locked
(``FOR UPDATE SKIP LOCKED``: a doubled tick skips a broadcast another is fanning out), it
records the chunk's holdout members, ``bulk_create(ignore_conflicts=True)``s its messages
under keys ``broadcast:<id>:<person>``, and moves the cursor and the counts on — all in that
transaction. A crash loses the chunk's transaction and the next tick does it again; the
unique keys would absorb any repeat anyway. Messages due now are handed to the delivery
workers after each commit.

Local-time sends: ``send_at``'s wall-clock time (in the store's TIME_ZONE) is each
recipient's own time (their ``timezone`` trait, else the store's, via
``campaigns.policy.zone_of``). Fan-out starts when the first zone on Earth (UTC+14) gets
there; a recipient whose moment has already passed when the broadcast fans out (scheduled
too late) gets it at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from campaigns.defaults import setting
from campaigns.holdout import in_holdout
from campaigns.models import Broadcast, HoldoutMember, Message, Suppression
from campaigns.outbox import messages_queue
from campaigns.policy import zone_of

EARLIEST_OFFSET = timedelta(hours=14)  # Kiribati (UTC+14) is the first to reach any clock time


class BroadcastError(ValueError):
    """A broadcast that cannot be scheduled or cancelled; the text says why."""


def audience_queryset(segment, topic: str):
    """Current members of the segment who may get marketing e-mail on ``topic``: an address,
    e-mail consent for the topic (or "all") in force, the address not suppressed. One row per
    member: (profile id, person key, e-mail, user id, time-zone trait), in profile-id order."""
    from ecrm.models import Consent, SegmentMembership

    consent = Consent.objects.filter(profile_id=OuterRef("profile_id"), channel=Consent.EMAIL,
                                     topic__in=[topic, Consent.ALL_TOPICS]).order_by("-recorded_at", "-pk")
    suppressed = Suppression.objects.filter(email=Lower(OuterRef("profile__email")))
    return (SegmentMembership.objects.filter(segment=segment, left_at=None).exclude(profile__email="")
            .annotate(consent=Subquery(consent.values("granted")[:1]), suppressed=Exists(suppressed))
            .filter(consent=True, suppressed=False).order_by("profile_id")
            .values_list("profile_id", "profile__person_key", "profile__email", "profile__user_id",
                         "profile__traits__timezone"))


def audience_count(segment, topic: str) -> int:
    """The live count the dashboard shows while a marketer picks segment and topic."""
    return audience_queryset(segment, topic).count()


def _wall_clock(broadcast: Broadcast) -> datetime:
    """send_at as a naive local clock time in the store's zone."""
    return timezone.localtime(broadcast.send_at, zone_of(settings.TIME_ZONE, "UTC")).replace(tzinfo=None)


def due_for(broadcast: Broadcast, zone_name: str | None, *, now: datetime) -> datetime:
    """When this recipient's message is due."""
    if not broadcast.local_time:
        return broadcast.send_at
    at = _wall_clock(broadcast).replace(tzinfo=zone_of(zone_name, settings.TIME_ZONE))
    return max(at, now) if at < now else at


def broadcast_schedule(*, broadcast: Broadcast, send_at: datetime | None = None, local_time: bool | None = None,
                       now: datetime | None = None) -> Broadcast:
    """Schedule a draft (or move a scheduled one): ``send_at`` None means now."""
    now = now or timezone.now()
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if broadcast.status not in (Broadcast.DRAFT, Broadcast.SCHEDULED):
            raise BroadcastError(f"a {broadcast.get_status_display().lower()} broadcast cannot be scheduled again")
        if local_time is not None:
            broadcast.local_time = local_time
        broadcast.send_at = send_at or now
        if broadcast.local_time:
            broadcast.fanout_at = _wall_clock(broadcast).replace(tzinfo=dt_timezone.utc) - EARLIEST_OFFSET
        else:
            broadcast.fanout_at = broadcast.send_at
        broadcast.status = Broadcast.SCHEDULED
        broadcast.save(update_fields=["send_at", "local_time", "fanout_at", "status", "updated_at"])
    return broadcast


def broadcast_cancel(*, broadcast: Broadcast) -> int:
    """Stop a scheduled or sending broadcast: nothing more is fanned out and its messages not
    yet claimed by a worker are skipped. Returns how many messages were stopped."""
    with transaction.atomic():
        broadcast = Broadcast.objects.select_for_update().get(pk=broadcast.pk)  # waits for a fan-out chunk
        if broadcast.status not in (Broadcast.DRAFT, Broadcast.SCHEDULED, Broadcast.SENDING):
            raise BroadcastError(f"a {broadcast.get_status_display().lower()} broadcast cannot be cancelled")
        broadcast.status, broadcast.finished_at = Broadcast.CANCELLED, timezone.now()
        broadcast.save(update_fields=["status", "finished_at", "updated_at"])
        return Message.objects.filter(campaign=broadcast.campaign, status=Message.QUEUED).update(
            status=Message.SKIPPED, last_error="the broadcast was cancelled", claim="")


def message_key(broadcast_id: int, person_key: str) -> str:
    key = f"broadcast:{broadcast_id}:{person_key}"
    if len(key) <= 255:
        return key
    return f"broadcast:{broadcast_id}:#{hashlib.sha256(person_key.encode()).hexdigest()}"


def _fanout_chunk(broadcast_id: int, now: datetime, explicit: datetime | None) -> bool:
    """Fan out the next chunk; False when there is nothing (more) to do."""
    from ecrm.segments import segment_refresh

    with transaction.atomic():
        broadcast = (Broadcast.objects.select_for_update(skip_locked=True).select_related("segment")
                     .filter(pk=broadcast_id).first())
        if broadcast is None or broadcast.status not in (Broadcast.SCHEDULED, Broadcast.SENDING) \
                or broadcast.fanout_done_at or broadcast.fanout_at > now:
            return False  # another tick holds it, cancelled, done or not yet due
        fields = ["fanout_cursor", "audience", "held_out", "updated_at"]
        if broadcast.status == Broadcast.SCHEDULED:
            broadcast.status = Broadcast.SENDING
            fields.append("status")
            segment_refresh(broadcast.segment)  # a dynamic segment as of now (static: no-op)
        rows = list(audience_queryset(broadcast.segment, broadcast.topic)
                    .filter(profile_id__gt=broadcast.fanout_cursor)[:setting("CAMPAIGNS_FANOUT_CHUNK")])
        if not rows:
            broadcast.fanout_done_at = now
            broadcast.save(update_fields=[*fields, "fanout_done_at"])
            return False
        campaign, messages, held = broadcast.campaign, [], []
        for _profile, person_key, email, user_id, zone in rows:
            due = due_for(broadcast, zone if isinstance(zone, str) else None, now=now)
            if in_holdout(campaign, person_key, broadcast.holdout_share):
                held.append(HoldoutMember(campaign=campaign, person_key=person_key, window="", at=due))
            else:
                messages.append((message_key(broadcast.pk, person_key), person_key, user_id, email.strip(), due))
        HoldoutMember.objects.bulk_create(held, ignore_conflicts=True)
        created = _messages_insert(broadcast, messages, now, enqueued_at=explicit or timezone.now())
        broadcast.fanout_cursor, broadcast.audience = rows[-1][0], broadcast.audience + len(rows)
        broadcast.held_out += len(held)
        broadcast.save(update_fields=fields)
        ids = [pk for pk, due in created if due <= now]
        if ids:
            transaction.on_commit(lambda: messages_queue(ids, now=explicit, marked=True), robust=True)
    return True


def _messages_insert(broadcast: Broadcast, messages: list[tuple], now: datetime,
                     enqueued_at: datetime) -> list[tuple[int, datetime]]:
    """The chunk's outbox rows — (key, person key, user id, e-mail, due) each — written by one
    ``INSERT … SELECT FROM unnest(…) ON CONFLICT (key) DO NOTHING``: PostgreSQL builds the
    rows from five arrays, where building and saving 5,000 ``Message`` objects was most of a
    fan-out. Rows due by ``now`` are marked ``enqueued_at`` in the same statement (they are
    queued when the chunk commits; if that never happens, the tick queues them again after
    CAMPAIGNS_REQUEUE_AFTER_SECONDS). (id, due) of the rows this call created (a repeat
    creates none)."""
    from django.db import connection

    if not messages:
        return []
    keys, persons, users, emails, dues = (list(column) for column in zip(*messages))
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {Message._meta.db_table} (key, source_kind, source_id, campaign, kind, channel, topic,
                person_key, user_id, to_email, to_phone, template, context, status, due_at, enqueued_at,
                deferred_because, attempts, claim, last_error, subject, body_text, body_html, message_id, created_at,
                delivery_event)
            SELECT m.key, 'broadcast', %(source_id)s, %(campaign)s, %(kind)s, %(channel)s, %(topic)s,
                   m.person_key, m.user_id, m.to_email, '', %(template)s, %(context)s::jsonb, %(status)s, m.due_at,
                   CASE WHEN m.due_at <= %(now)s THEN %(enqueued_at)s END, '',
                   0, '', '', '', '', '', '', %(now)s, ''
              FROM unnest(%(keys)s::varchar[], %(persons)s::varchar[], %(users)s::integer[], %(emails)s::varchar[],
                          %(dues)s::timestamptz[]) AS m(key, person_key, user_id, to_email, due_at)
            ON CONFLICT (key) DO NOTHING
            RETURNING id, due_at""", {
            "source_id": str(broadcast.pk), "campaign": broadcast.campaign, "kind": Message.MARKETING,
            "channel": Message.EMAIL, "topic": broadcast.topic, "template": broadcast.template,
            "context": json.dumps({"broadcast_id": broadcast.pk}), "status": Message.QUEUED, "now": now,
            "enqueued_at": enqueued_at,
            "keys": keys, "persons": persons, "users": users, "emails": emails, "dues": dues})
        return cursor.fetchall()


def broadcast_fanout(broadcast_id: int, *, now: datetime | None = None, budget_seconds: float = 600) -> None:
    """Fan out as much of the broadcast as is left (chunk by chunk, each committed)."""
    explicit, now = now, now or timezone.now()
    started = time.monotonic()
    while _fanout_chunk(broadcast_id, now, explicit) and time.monotonic() - started < budget_seconds:
        pass


def broadcasts_finish(*, now: datetime) -> int:
    """Mark broadcasts whose every message has been dealt with as sent."""
    finished = 0
    for broadcast in Broadcast.objects.filter(status=Broadcast.SENDING).exclude(fanout_done_at=None):
        if not Message.objects.filter(campaign=broadcast.campaign,
                                      status__in=[Message.QUEUED, Message.SENDING]).exists():
            finished += Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.SENDING).update(
                status=Broadcast.SENT, finished_at=now)
    return finished


def broadcasts_run(*, now: datetime | None = None) -> int:
    """What the tick runs: fan out every broadcast that is due, then close finished ones.
    Returns how many broadcasts it fanned out."""
    moment = now or timezone.now()
    due = list(Broadcast.objects.filter(status__in=[Broadcast.SCHEDULED, Broadcast.SENDING], fanout_done_at=None,
                                        fanout_at__lte=moment).values_list("pk", flat=True))
    for pk in due:
        broadcast_fanout(pk, now=now)
    broadcasts_finish(now=moment)
    return len(due)


# --- rendering ----------------------------------------------------------------------------

_details: dict = {}
_details_at = [0.0]
DETAILS_SECONDS = 300


def product_details() -> dict:
    """Products' e-mail details (title, link, image, price) shared by the messages one worker
    renders for five minutes: a broadcast recommends the same few hundred products to
    everybody, and looking each up once per e-mail would be most of the work."""
    if time.monotonic() - _details_at[0] > DETAILS_SECONDS:
        _details.clear()
        _details_at[0] = time.monotonic()
    return _details


RECOMMENDATIONS_K = 4


class LazyRecommendations:
    """``{{ recommendations.html }}`` in a template: the recipient's own picks from the
    recommender's e-mail slot, looked up only when the template uses them."""

    def __init__(self, message: Message, email: str):
        self.message, self.email, self._block = message, email, None

    def _get(self):
        if self._block is None:
            from campaigns.render_batch import batch_cached, batch_on_exit, batch_persons
            from recommender.attribution import record_impressions_many
            from recommender.email import recommendations_block
            from recommender.serving import recommendations_for_many

            person, persons = self.message.person_key, batch_persons()
            if persons and person in persons:  # a delivery batch: one lookup and one impressions write for all
                found, impressions = batch_cached(("recommendations", RECOMMENDATIONS_K), lambda: (
                    recommendations_for_many(persons, slot="for_you", k=RECOMMENDATIONS_K), []))
                batch_on_exit(("impressions", RECOMMENDATIONS_K), lambda: record_impressions_many(impressions))
                self._block = recommendations_block(person, email=self.email, k=RECOMMENDATIONS_K,
                                                    item_details=product_details(), found=found[person],
                                                    impressions=impressions)
            else:  # one message alone; a staff preview or test (context "preview") counts no impressions
                self._block = recommendations_block(person, email=self.email, k=RECOMMENDATIONS_K,
                                                    item_details=product_details(),
                                                    count_impressions=not self.message.context.get("preview"))
        return self._block

    def __getattr__(self, name):
        if name.startswith("_") or name in ("message", "email"):
            raise AttributeError(name)
        return getattr(self._get(), name)

    def __bool__(self) -> bool:
        return bool(self._get().items)

    def __str__(self) -> str:
        return self._get().html

    def __html__(self) -> str:  # {{ recommendations }} alone: the block, not escaped
        return self._get().html


def message_context(message: Message) -> dict:
    """What a broadcast's template gets besides the customer: the broadcast and
    ``recommendations`` (an ``EmailBlock``: ``.html``, ``.text``, ``.items``)."""
    from campaigns.render_batch import batch_cached

    broadcast_id = str(message.context.get("broadcast_id") or message.source_id)
    broadcast = batch_cached(("broadcast", broadcast_id), lambda: Broadcast.objects.filter(pk=broadcast_id).first()
                             if broadcast_id.isdigit() else None)
    email = f"broadcast-{broadcast.pk}" if broadcast else "broadcast"
    return {"broadcast": broadcast, "recommendations": LazyRecommendations(message, email)}
