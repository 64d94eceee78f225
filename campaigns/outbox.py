"""Writes on the outbox: enqueue a message once, deliver it once, dispatch what is due.

Exactly once, and where it is only at least once:

* ``message_enqueue`` creates the row under its unique key (INSERT ... ON CONFLICT DO
  NOTHING through ``get_or_create``/``bulk_create(ignore_conflicts=True)``), in the caller's
  transaction, and queues the delivery task ``on_commit``.
* ``message_deliver`` claims the row before sending: it locks it (``SELECT ... FOR UPDATE
  SKIP LOCKED``), checks it is still due and unclaimed, and commits ``status=sending`` with a
  claim id and a lease. A second task for the same row (a duplicate, a retry, a doubled
  tick) finds it claimed or sent and does nothing. After the send it records ``sent``.
* A worker killed mid-send leaves the row ``sending``; when the lease runs out the tick
  takes it up again. Whether the killed worker's e-mail left is unknown: it may have been
  accepted by the mail server just before the kill. With CAMPAIGNS_RESEND_UNCONFIRMED (the
  default) it is sent again: at least once, a duplicate possible in that window only. Without
  it, the row becomes a dead letter for staff to judge: at most once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from oscar.core.loading import get_model

from campaigns.defaults import setting
from campaigns.models import ContactPreference, Message, Suppression
from campaigns.policy import next_allowed, retry_delay, zone_of
from campaigns.rendering import RenderError, build_email, build_sms, render, render_sms

logger = logging.getLogger(__name__)
Email = get_model("communication", "Email")


def _message_row(*, key: str, source_kind: str, kind: str, person_key: str, template: str,
                 to_email: str = "", source_id: str = "", topic: str = "", user=None,
                 context: dict | None = None, due_at: datetime | None = None, campaign: str = "",
                 channel: str = Message.EMAIL, to_phone: str = "") -> Message:
    """An unsaved outbox row, checked (ValueError says what is wrong)."""
    if kind not in (Message.TRANSACTIONAL, Message.MARKETING):
        raise ValueError(f"unknown message kind {kind!r}")
    if kind == Message.MARKETING and not topic:
        raise ValueError("a marketing message needs the consent topic it is sent under")
    if channel not in (Message.EMAIL, Message.SMS):
        raise ValueError(f"unknown channel {channel!r}")
    if not (to_phone.strip() if channel == Message.SMS else to_email.strip()):
        raise ValueError("an SMS needs a phone number" if channel == Message.SMS else "an e-mail needs an address")
    return Message(key=key, source_kind=source_kind, source_id=str(source_id), kind=kind, topic=topic,
                   person_key=person_key, user=user, to_email=to_email.strip(), template=template,
                   context=context or {}, due_at=due_at or timezone.now(), campaign=campaign, channel=channel,
                   to_phone=to_phone.strip())


def message_enqueue(**fields) -> tuple[Message, bool]:
    """The message for ``key``, created if new (and then queued for delivery after commit).
    Fields: key, source_kind, kind, person_key, template (required); to_email, source_id, topic,
    user, context, due_at, campaign, channel, to_phone. An SMS (``channel="sms"``) goes to
    ``to_phone``; its text is ``context["sms_text"]`` (a Django template) or the SMS template
    of the Oscar event type ``template``."""
    row = _message_row(**fields)
    defaults = {f.attname: getattr(row, f.attname) for f in Message._meta.concrete_fields
                if f.attname not in ("id", "key")}
    message, created = Message.objects.get_or_create(key=row.key, defaults=defaults)
    if created and message.due_at <= timezone.now():
        # robust: a broker outage must not turn the caller's request into an error; the row is
        # committed and the tick queues it again after CAMPAIGNS_REQUEUE_AFTER_SECONDS.
        transaction.on_commit(lambda: messages_queue([message.pk]), robust=True)
    return message, created


def messages_enqueue_bulk(rows: list[dict]) -> dict[str, tuple[int, bool]]:
    """Many ``message_enqueue``s in one INSERT … ON CONFLICT DO NOTHING: key -> (message id,
    created now). Nothing is queued to Celery here: the tick's ``outbox_dispatch`` (run right
    after flows) or the next one does it."""
    if not rows:
        return {}
    messages = [_message_row(**row) for row in rows]
    keys = [m.key for m in messages]
    before = set(Message.objects.filter(key__in=keys).values_list("key", flat=True))
    Message.objects.bulk_create([m for m in messages if m.key not in before], ignore_conflicts=True, batch_size=1000)
    return {key: (pk, key not in before) for key, pk in Message.objects.filter(key__in=keys).values_list("key", "pk")}


def messages_queue(ids: list[int], *, now: datetime | None = None, marked: bool = False) -> None:
    """Hand messages to Celery and note when: one task per message for a few, batches of
    CAMPAIGNS_DELIVERY_BATCH for many (a broadcast of 100,000 is 500 tasks, not 100,000).
    ``marked``: the caller already set their ``enqueued_at`` (a broadcast's fan-out does,
    in the statement that creates them)."""
    from campaigns.tasks import deliver, deliver_batch

    if not ids:
        return
    if not marked:
        Message.objects.filter(pk__in=ids).update(enqueued_at=now or timezone.now())
    options = {"queue": setting("CAMPAIGNS_QUEUE")} if setting("CAMPAIGNS_QUEUE") else {}
    moment = now.isoformat() if now else None
    size = setting("CAMPAIGNS_DELIVERY_BATCH")
    if len(ids) == 1:
        deliver.apply_async(args=[ids[0]], kwargs={"now": moment}, **options)
        return
    for start in range(0, len(ids), size):
        deliver_batch.apply_async(args=[list(ids[start:start + size])], kwargs={"now": moment}, **options)


def outbox_dispatch(*, now: datetime | None = None, limit: int = 10_000) -> int:
    """Queue every message due at ``now``: new, deferred (cap, quiet hours), waiting for a
    retry, queued earlier but never picked up, or held by a worker whose lease ran out.
    What beat runs every few seconds and ``campaigns_tick`` runs on demand."""
    explicit, now = now, now or timezone.now()
    requeue_before = now - timedelta(seconds=setting("CAMPAIGNS_REQUEUE_AFTER_SECONDS"))
    due = Message.objects.filter(
        Q(status=Message.QUEUED, due_at__lte=now) & (Q(enqueued_at=None) | Q(enqueued_at__lt=requeue_before))
        | Q(status=Message.SENDING, lease_until__lt=now)).order_by("due_at").values_list("pk", flat=True)[:limit]
    ids = list(due)
    messages_queue(ids, now=explicit)
    return len(ids)


def _lock_person(person_key: str) -> None:
    """Serialise the frequency-cap check per customer (two workers, two messages, one cap)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"campaigns:{person_key}"])


def _why_not(message: Message) -> str | None:
    """Why this message must not go at all (consent, suppression), or None."""
    from ecrm.consents import has_consent
    from ecrm.models import Profile

    suppressed = Suppression.objects.filter(email=message.to_email.lower()).first()
    if message.kind == Message.TRANSACTIONAL:
        if suppressed and suppressed.blocks_transactional:
            return f"address suppressed: {suppressed.get_reason_display()}"
        return None
    if suppressed:
        return f"address suppressed: {suppressed.get_reason_display()}"
    profile = Profile.objects.filter(person_key=message.person_key).first()
    if profile is None:
        return "no customer profile, so no consent"
    if not has_consent(profile, message.channel, message.topic):
        return f"no consent for {message.channel} / {message.topic}"
    return None


def _paused(message: Message, preference: ContactPreference | None, now: datetime) -> str | None:
    if preference and preference.paused_until and preference.paused_until > now:
        return f"marketing paused by the customer until {preference.paused_until:%Y-%m-%d}"
    return None


def _wait_until(message: Message, preference: ContactPreference | None,
                now: datetime) -> tuple[datetime, str] | None:
    """When a marketing message may go if not now: frequency cap (the store's, or the
    customer's own if stricter), then quiet hours."""
    from ecrm.models import Profile

    _lock_person(message.person_key)
    last = (Message.objects.filter(person_key=message.person_key, kind=Message.MARKETING,
                                   status__in=[Message.SENT, Message.SENDING]).exclude(pk=message.pk)
            .aggregate(at=Max(Coalesce("sent_at", "claimed_at")))["at"])
    traits = Profile.objects.filter(person_key=message.person_key).values_list("traits", flat=True).first() or {}
    zone = zone_of(traits.get("timezone") if isinstance(traits, dict) else None, settings.TIME_ZONE)
    quiet = setting("CAMPAIGNS_QUIET_HOURS")
    cap = max(setting("CAMPAIGNS_FREQUENCY_CAP_HOURS"),
              ContactPreference.FREQUENCY_HOURS.get(preference.frequency, 0) if preference else 0)
    return next_allowed(now, last_marketing_at=last, cap_hours=cap,
                        quiet=tuple(quiet) if quiet else None, zone=zone)


def _claim(message_id: int, now: datetime) -> tuple[Message | None, str]:
    """Take the message for this worker, or say why not (done, not due, deferred, skipped)."""
    lease_from = max(now, timezone.now())
    with transaction.atomic():
        message = Message.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None:
            return None, "locked by another worker, or gone"
        stale = message.status == Message.SENDING and message.lease_until and message.lease_until < now
        if stale and not setting("CAMPAIGNS_RESEND_UNCONFIRMED"):
            _dead(message, "the worker stopped while sending: it may or may not have been delivered; "
                           "retry to send it again")
            return None, "unconfirmed send: dead letter"
        if not (message.status == Message.QUEUED or stale):
            return None, f"already {message.status}"
        if message.due_at > now:
            return None, "not due yet"
        preference = (ContactPreference.objects.filter(person_key=message.person_key).first()
                      if message.kind == Message.MARKETING else None)
        reason = _why_not(message) or (_paused(message, preference, now) if preference else None)
        if reason:
            message.status, message.last_error, message.claim = Message.SKIPPED, reason, ""
            message.save(update_fields=["status", "last_error", "claim"])
            return None, f"skipped: {reason}"
        if message.kind == Message.MARKETING:
            wait = _wait_until(message, preference, now)
            if wait:
                message.due_at, message.deferred_because = wait
                message.status, message.enqueued_at, message.claim = Message.QUEUED, None, ""
                message.save(update_fields=["due_at", "deferred_because", "status", "enqueued_at", "claim"])
                return None, f"deferred: {message.deferred_because}"
        message.status, message.claim = Message.SENDING, str(uuid.uuid4())
        message.claimed_at, message.attempts = now, message.attempts + 1
        message.lease_until = lease_from + timedelta(seconds=setting("CAMPAIGNS_SEND_LEASE_SECONDS"))
        message.save(update_fields=["status", "claim", "claimed_at", "attempts", "lease_until"])
    return message, "claimed"


def _dead(message: Message, reason: str) -> None:
    message.status, message.last_error, message.claim, message.lease_until = Message.DEAD, reason, "", None
    message.save(update_fields=["status", "last_error", "claim", "lease_until"])


def _failed(message: Message, error: str, now: datetime, *, final: bool = False) -> str:
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if final or message.attempts >= setting("CAMPAIGNS_MAX_ATTEMPTS"):
            _dead(message, error)
            return "dead letter"
        delay = retry_delay(message.attempts, base=setting("CAMPAIGNS_RETRY_BASE_SECONDS"),
                            maximum=setting("CAMPAIGNS_RETRY_MAX_SECONDS"))
        message.status, message.due_at, message.last_error = Message.QUEUED, now + delay, error
        message.enqueued_at, message.claim, message.lease_until = None, "", None
        message.deferred_because = f"retry {message.attempts + 1} after a failed attempt"
        message.save(update_fields=["status", "due_at", "last_error", "enqueued_at", "claim", "lease_until",
                                    "deferred_because"])
        return f"failed, retry at {message.due_at.isoformat()}"


def _sent(message: Message, claim: str, message_id: str, rendered: dict, now: datetime) -> None:
    with transaction.atomic():
        fields = dict(status=Message.SENT, sent_at=now, claim="", lease_until=None, last_error="",
                      deferred_because="", subject=rendered["subject"], body_text=rendered["text"],
                      body_html=rendered["html"], message_id=message_id)
        if not Message.objects.filter(pk=message.pk, claim=claim).update(**fields):
            # Another worker took it over after our lease ran out (a send slower than the lease).
            logger.warning("message %s: lease ran out while sending; it may have gone twice", message.pk)
            Message.objects.filter(pk=message.pk).exclude(status=Message.SENT).update(**fields)
        if message.channel != Message.EMAIL:
            return
        # Oscar's record of e-mails sent: the customer's account and the 360° card list these.
        Email.objects.create(user=message.user, email=message.to_email, subject=rendered["subject"],
                             body_text=rendered["text"], body_html=rendered["html"])


def message_deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Send one outbox message if it is due and nobody else has; what happened, in words."""
    now = now or timezone.now()
    message, outcome = _claim(message_id, now)
    if message is None:
        return outcome
    claim = message.claim
    try:
        if message.channel == Message.SMS:
            rendered = render_sms(message)
            outgoing = build_sms(message, rendered)
            message_id = outgoing.message_id
        else:
            rendered = render(message)
            outgoing = build_email(message, rendered)
            message_id = outgoing.extra_headers["Message-ID"]
    except RenderError as exc:
        return _failed(message, str(exc), now, final=True)
    try:
        outgoing.send()
    except Exception as exc:  # noqa: BLE001 - SMTP and ESP errors of any kind are a failed attempt
        logger.warning("message %s: send failed: %s", message.pk, exc)
        return _failed(message, f"{type(exc).__name__}: {exc}", now)
    # Between the mail server's accept above and this commit, a crash leaves the row
    # "sending": the at-least-once window described in the module docstring.
    _sent(message, claim, message_id, rendered, now)
    return "sent"


def messages_deliver(message_ids: list[int], *, now: datetime | None = None) -> dict:
    """Deliver each message of a batch (``message_deliver`` one by one: each its own claim,
    retries and dead letter); {outcome: count}. One message's failure does not stop the rest."""
    from campaigns.render_batch import rendering_batch

    outcomes: dict[str, int] = {}
    with rendering_batch(message_ids):  # template, broadcast and profiles read once for the batch
        for message_id in message_ids:
            try:
                outcome = message_deliver(message_id, now=now)
            except Exception:  # noqa: BLE001 - e.g. the database went away: the tick takes the row up again
                logger.exception("message %s: delivery failed", message_id)
                outcome = "error"
            word = outcome.split(":")[0].split(",")[0]
            outcomes[word] = outcomes.get(word, 0) + 1
    return outcomes


def message_retry(*, message: Message, now: datetime | None = None) -> None:
    """Staff send a dead letter (or a message skipped by policy) again, from the start."""
    if message.status not in (Message.DEAD, Message.SKIPPED):
        raise ValueError(f"only dead letters and skipped messages can be retried, not {message.status} ones")
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, status=message.status).update(
            status=Message.QUEUED, attempts=0, due_at=now or timezone.now(), enqueued_at=None,
            deferred_because="retried by staff", claim="", lease_until=None)
        transaction.on_commit(lambda: messages_queue([message.pk]), robust=True)
