"""Segment membership: who matches now, with when each person joined and left.

Dynamic segments are recomputed for the people whose profiles just changed (after each
profile refresh, a few seconds after their events) and in full on a schedule, because
time windows ("in the last 14 days") move even when nobody does anything.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ecrm.models import Profile, Segment, SegmentMembership
from ecrm.segment_rules import compile_rule, validate


def segment_matches(rules: dict, *, profile_ids=None) -> set[int]:
    validate(rules)
    profiles = Profile.objects.filter(compile_rule(rules))
    if profile_ids is not None:
        profiles = profiles.filter(pk__in=profile_ids)
    return set(profiles.values_list("pk", flat=True))


def segment_count(rules: dict) -> int:
    """The live count while a marketer edits the rules (raises RuleError when invalid)."""
    validate(rules)
    return Profile.objects.filter(compile_rule(rules)).count()


@transaction.atomic
def segment_refresh(segment: Segment, *, profile_ids=None) -> tuple[int, int]:
    """Bring a dynamic segment's membership up to date (for some profiles, or everybody);
    returns (joined, left)."""
    if segment.kind != Segment.DYNAMIC:
        return 0, 0
    now = timezone.now()
    matching = segment_matches(segment.rules, profile_ids=profile_ids)
    current = SegmentMembership.objects.select_for_update().filter(segment=segment, left_at=None)
    if profile_ids is not None:
        current = current.filter(profile_id__in=profile_ids)
    members = set(current.values_list("profile_id", flat=True))
    joined, left = matching - members, members - matching
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, profile_id=pk, joined_at=now) for pk in sorted(joined)])
    SegmentMembership.objects.filter(segment=segment, left_at=None, profile_id__in=left).update(left_at=now)
    segment.member_count = SegmentMembership.objects.filter(segment=segment, left_at=None).count()
    segment.computed_at = now
    segment.save(update_fields=["member_count", "computed_at"])
    return len(joined), len(left)


def segments_refresh(*, profile_ids=None) -> None:
    """Every dynamic segment, for these profiles or everybody."""
    for segment in Segment.objects.filter(kind=Segment.DYNAMIC):
        segment_refresh(segment, profile_ids=profile_ids)


def static_members_set(segment: Segment, profile_ids: set[int]) -> tuple[int, int]:
    """Replace a static segment's members (an uploaded list), keeping the joined/left history."""
    now = timezone.now()
    with transaction.atomic():
        members = set(SegmentMembership.objects.select_for_update().filter(
            segment=segment, left_at=None).values_list("profile_id", flat=True))
        joined, left = profile_ids - members, members - profile_ids
        SegmentMembership.objects.bulk_create(
            [SegmentMembership(segment=segment, profile_id=pk, joined_at=now) for pk in sorted(joined)])
        SegmentMembership.objects.filter(segment=segment, left_at=None, profile_id__in=left).update(left_at=now)
        segment.member_count = len(profile_ids)
        segment.computed_at = now
        segment.save(update_fields=["member_count", "computed_at"])
    return len(joined), len(left)
