"""What support and marketing staff do to a profile: notes, tags, and the audit log that
records every view and change (who, what, when)."""

from __future__ import annotations

from django.db import transaction

from ecrm.models import CustomerNote, Profile, ProfileAccess
from ecrm.segments import segments_refresh

MAX_TAGS, MAX_TAG_LENGTH = 20, 50


class DeskError(ValueError):
    """Input staff must correct; the text says how."""


def access_record(*, profile: Profile, staff, action: str, detail: str = "") -> ProfileAccess:
    return ProfileAccess.objects.create(profile=profile, person_key=profile.person_key, staff=staff,
                                        action=action, detail=detail[:200])


@transaction.atomic
def note_add(*, profile: Profile, author, text: str) -> CustomerNote:
    text = text.strip()
    if not text:
        raise DeskError("Write something in the note.")
    note = CustomerNote.objects.create(profile=profile, author=author, text=text[:5000])
    access_record(profile=profile, staff=author, action=ProfileAccess.NOTE, detail=text[:80])
    return note


def parse_tags(text: str) -> list[str]:
    tags = sorted({tag.strip() for tag in text.split(",") if tag.strip()}, key=str.lower)
    if len(tags) > MAX_TAGS:
        raise DeskError(f"At most {MAX_TAGS} tags.")
    too_long = [tag for tag in tags if len(tag) > MAX_TAG_LENGTH]
    if too_long:
        raise DeskError(f"Tags are at most {MAX_TAG_LENGTH} characters: {too_long[0][:60]}…")
    return tags


@transaction.atomic
def tags_set(*, profile: Profile, staff, tags: list[str]) -> None:
    before = set(profile.tags.names())
    profile.tags.set(tags)
    added, removed = sorted(set(tags) - before), sorted(before - set(tags))
    if added or removed:
        segments_refresh(profile_ids={profile.pk})
        detail = ", ".join([*(f"+{t}" for t in added), *(f"-{t}" for t in removed)])
        access_record(profile=profile, staff=staff, action=ProfileAccess.TAG, detail=detail)


def bulk_access_record(*, profiles, staff, action: str, detail: str) -> None:
    """One audit entry per profile seen in bulk (a segment's members exported or listed)."""
    ProfileAccess.objects.bulk_create(
        [ProfileAccess(profile=profile, person_key=profile.person_key, staff=staff, action=action,
                       detail=detail[:200]) for profile in profiles], batch_size=2000)
