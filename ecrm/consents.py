"""The consent ledger: give, withdraw, and ask what is in force (per channel and topic).

Entries are appended, never edited, so the ledger shows what was agreed when and where.
The latest entry for the topic, or for "all" topics of the channel, is in force:
withdrawing "all" after agreeing to the newsletter stops the newsletter too, and agreeing
to the newsletter again afterwards resumes it alone.
"""

from __future__ import annotations

from django.utils import timezone

from ecrm.models import Consent, Profile
from ecrm.segments import segments_refresh

CHANNELS = {channel for channel, _label in Consent.CHANNELS}


class ConsentError(ValueError):
    """A consent that cannot be recorded; the text says why."""


def consent_record(*, profile: Profile, channel: str, granted: bool, source: str,
                   topic: str = Consent.ALL_TOPICS, evidence: dict | None = None,
                   at=None) -> Consent:
    if channel not in CHANNELS:
        raise ConsentError(f"unknown channel {channel!r}; use one of {', '.join(sorted(CHANNELS))}")
    topic = (topic or Consent.ALL_TOPICS).strip().lower()
    if not topic or len(topic) > 50:
        raise ConsentError("a topic is a short name such as newsletter, offers or all")
    consent = Consent.objects.create(profile=profile, channel=channel, topic=topic, granted=granted,
                                     source=source[:30], evidence=evidence or {},
                                     recorded_at=at or timezone.now())
    segments_refresh(profile_ids={profile.pk})  # segments on consent follow at once
    return consent


def consents_in_force(profile: Profile) -> dict[tuple[str, str], Consent]:
    """The latest entry per (channel, topic)."""
    latest: dict[tuple[str, str], Consent] = {}
    for consent in profile.consents.order_by("recorded_at", "pk"):
        latest[(consent.channel, consent.topic)] = consent
    return latest


def has_consent(profile: Profile, channel: str, topic: str = Consent.ALL_TOPICS) -> bool:
    entries = profile.consents.filter(channel=channel, topic__in={topic, Consent.ALL_TOPICS})
    latest = entries.order_by("-recorded_at", "-pk").first()
    return bool(latest and latest.granted)
