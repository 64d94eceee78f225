"""Audiences for the broadcast tests: guest profiles in a static segment, some with e-mail
consent, and a broadcast of the WINTER_NEWS template to them."""

from __future__ import annotations

from ecrm.models import Consent, Profile, Segment
from ecrm.segments import static_members_set


def audience(n: int, *, consenting=lambda i: True, zones: dict[int, str] | None = None, topic: str = "all",
             prefix: str = "p") -> tuple[Segment, list[Profile]]:
    """``n`` guest profiles in a new static segment; ``consenting(i)`` ones with e-mail consent
    for ``topic``; ``zones`` gives some a time-zone trait."""
    profiles = Profile.objects.bulk_create([
        Profile(person_key=f"email:{prefix}{i}@example.com", email=f"{prefix}{i}@example.com", first_name=f"P{i}",
                traits={"timezone": zones[i]} if zones and i in zones else {}) for i in range(n)])
    Consent.objects.bulk_create([Consent(profile=p, channel="email", topic=topic, granted=True, source="test")
                                 for i, p in enumerate(profiles) if consenting(i)])
    segment = Segment.objects.create(name=f"Audience {prefix}", kind=Segment.STATIC)
    static_members_set(segment, {p.pk for p in profiles})
    return segment, profiles


def broadcast(segment, *, holdout: float = 0.0, template: str = "WINTER_NEWS", topic: str = "newsletter", **fields):
    from campaigns.models import Broadcast

    return Broadcast.objects.create(name="Winter news", segment=segment, template=template, topic=topic,
                                    holdout_share=holdout, **fields)
