"""Writes that keep the store a good sender: one-click unsubscribe, and the provider's
delivery events (django-anymail's normalised tracking events) that suppress addresses.

What suppresses what (anymail's ``event_type``):

* ``bounced`` (the provider's permanent bounce), and ``rejected`` because the address is
  invalid or bounced before: nothing more to that address, transactional included;
* ``complained`` (a spam report): no more marketing, and e-mail consent withdrawn in the
  ledger; transactional messages still go;
* ``rejected`` for other reasons (blocked, spam): no more marketing;
* ``unsubscribed`` (the provider's own unsubscribe link): e-mail consent withdrawn;
* ``delivered``, ``opened``, ``clicked``, ``deferred`` and the rest: noted on the message.
"""

from __future__ import annotations

from django.db import transaction

from campaigns.models import Message, Suppression

HARD_REJECT_REASONS = {"invalid", "bounced"}


class EventError(ValueError):
    """A delivery event that cannot be used; the text says why."""


def unsubscribe(*, person_key: str, channel: str, topic: str, source: str, evidence: dict) -> bool:
    """Withdraw consent for ``topic`` ("all": every marketing topic) in the ecrm ledger, at
    once. False when the customer is not known (erased, merged away)."""
    from ecrm.consents import consent_record
    from ecrm.models import Profile

    profile = Profile.objects.filter(person_key=person_key).first()
    if profile is None:
        return False
    consent_record(profile=profile, channel=channel, topic=topic, granted=False, source=source, evidence=evidence)
    return True


def _suppress(email: str, reason: str, *, hard: bool, detail: str, event: dict) -> Suppression:
    suppression, created = Suppression.objects.get_or_create(
        email=email, defaults={"reason": reason, "blocks_transactional": hard, "detail": detail[:1000],
                               "event": event})
    if not created and hard and not suppression.blocks_transactional:  # a later hard bounce hardens it
        suppression.reason, suppression.blocks_transactional, suppression.detail = reason, True, detail[:1000]
        suppression.save(update_fields=["reason", "blocks_transactional", "detail"])
    return suppression


def _withdraw_email_consent(email: str, source: str, event: dict) -> None:
    """Withdraw e-mail consent of everybody with this address, unless none is in force (a
    provider sending the same event again adds nothing to the ledger)."""
    from ecrm.consents import consent_record, consents_in_force
    from ecrm.models import Profile

    for profile in Profile.objects.filter(email__iexact=email):
        if not any(c.granted for (channel, _t), c in consents_in_force(profile).items() if channel == "email"):
            continue
        consent_record(profile=profile, channel="email", topic="all", granted=False, source=source,
                       evidence={"event": event.get("event_type"), "event_id": event.get("event_id", "")})


@transaction.atomic
def tracking_event_record(event: dict) -> str:
    """Apply one normalised tracking event; what it did, in words."""
    if not isinstance(event, dict):
        raise EventError("each event is a JSON object")
    event_type, recipient = event.get("event_type"), event.get("recipient")
    if not isinstance(event_type, str) or not event_type:
        raise EventError("event_type is required (bounced, complained, rejected, delivered, ...)")
    if not isinstance(recipient, str) or "@" not in recipient:
        raise EventError("recipient must be the e-mail address the event is about")
    email = recipient.strip().lower()
    detail = " ".join(str(event.get(k) or "") for k in ("reject_reason", "description", "mta_response")).strip()
    kept = {k: event.get(k) for k in ("event_type", "timestamp", "event_id", "recipient", "message_id",
                                      "reject_reason", "description", "mta_response") if event.get(k)}
    message_id = event.get("message_id")
    if isinstance(message_id, str) and message_id:
        Message.objects.filter(message_id=message_id).update(delivery_event=event_type[:20])
    if event_type == "bounced":
        _suppress(email, Suppression.BOUNCED, hard=True, detail=detail, event=kept)
        return "suppressed (bounced): no more e-mail of any kind"
    if event_type == "rejected":
        hard = event.get("reject_reason") in HARD_REJECT_REASONS
        _suppress(email, Suppression.REJECTED, hard=hard, detail=detail, event=kept)
        return "suppressed (rejected)" + (": no more e-mail of any kind" if hard else ": no more marketing")
    if event_type == "complained":
        _suppress(email, Suppression.COMPLAINED, hard=False, detail=detail, event=kept)
        _withdraw_email_consent(email, "complaint", kept)
        return "suppressed (complained): no more marketing"
    if event_type == "unsubscribed":
        _withdraw_email_consent(email, "esp-unsubscribe", kept)
        return "consent withdrawn"
    return f"noted ({event_type})"


def suppression_lift(*, suppression: Suppression) -> None:
    """Staff lift a suppression (the customer fixed their mailbox); the ledger is untouched."""
    suppression.delete()
