"""Likely duplicate customers, and merging two profiles into one with all history kept.

Pairs are suggested when two profiles share a normalised e-mail (case, and for Gmail the
dots and ``+tags`` of the local part) or phone (its last nine digits, so 07700 900123
and +44 7700 900123 agree), or have closely similar names in the same region. Staff
decide: merge, or mark the pair as different people.

A merge keeps history by adding to the identity graph rather than rewriting it: the
removed person's key becomes an alias of the kept one (so their events, orders and
future events belong to the kept person), their anonymous ids and e-mails are linked to
the kept person too, and their notes, consents, tags, audit entries and segment stays
move over. The removed profile's contact data is kept in the merge record.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import combinations

from django.db import transaction
from django.utils import timezone

from ecrm.customer_orders import customer_orders_rekey
from ecrm.models import NotADuplicate, Profile, ProfileAccess, ProfileMerge, SegmentMembership
from ecrm.services import profiles_refresh
from tracking.graph import guest_person
from tracking.models import IdentityLink

NAME_SIMILARITY = 0.88
GMAIL = {"gmail.com", "googlemail.com"}
MAX_GROUP = 20  # an e-mail or phone shared by more people than this is a placeholder, not a person


class MergeError(ValueError):
    """Why two profiles cannot be merged."""


def normalised_email(email: str) -> str:
    email = (email or "").strip().lower()
    local, _at, domain = email.partition("@")
    if not domain:
        return ""
    if domain in GMAIL:
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def normalised_phone(phone: str) -> str:
    digits = "".join(c for c in phone or "" if c.isdigit())
    return digits[-9:] if len(digits) >= 9 else ""


def _name(profile_row: dict) -> str:
    return f"{profile_row['first_name']} {profile_row['last_name']}".strip().lower()


@dataclass
class Candidate:
    first: Profile
    second: Profile
    reasons: list[str] = field(default_factory=list)


def likely_duplicates(*, limit: int = 100) -> list[Candidate]:
    rows = list(Profile.objects.values("pk", "person_key", "email", "phone", "first_name", "last_name", "region"))
    reasons: dict[tuple[int, int], list[str]] = defaultdict(list)
    for key, label in ((lambda r: normalised_email(r["email"]), "same e-mail"),
                       (lambda r: normalised_phone(r["phone"]), "same phone")):
        groups = defaultdict(list)
        for row in rows:
            value = key(row)
            if value:
                groups[value].append(row["pk"])
        for members in groups.values():
            if 1 < len(members) <= MAX_GROUP:
                for pair in combinations(sorted(members), 2):
                    reasons[pair].append(label)
    by_region = defaultdict(list)
    for row in rows:
        if row["region"] and _name(row):
            by_region[row["region"].lower()].append(row)
    for members in by_region.values():
        if len(members) > 2000:
            continue  # a whole city: name similarity alone is too weak there
        for a, b in combinations(members, 2):
            if SequenceMatcher(None, _name(a), _name(b)).ratio() >= NAME_SIMILARITY:
                reasons[tuple(sorted((a["pk"], b["pk"])))].append("similar name, same region")
    keys = {row["pk"]: row["person_key"] for row in rows}
    dismissed = set(NotADuplicate.objects.values_list("first_key", "second_key"))
    pairs = [pair for pair in reasons if tuple(sorted((keys[pair[0]], keys[pair[1]]))) not in dismissed]
    pairs.sort(key=lambda pair: (-len(reasons[pair]), pair))
    pairs = pairs[:limit]
    profiles = Profile.objects.in_bulk({pk for pair in pairs for pk in pair})
    return [Candidate(profiles[a], profiles[b], reasons[(a, b)]) for a, b in pairs]


def not_a_duplicate(*, first: Profile, second: Profile, staff) -> None:
    a, b = sorted((first.person_key, second.person_key))
    NotADuplicate.objects.get_or_create(first_key=a, second_key=b, defaults={"staff": staff})


@transaction.atomic
def profile_merge(*, keep: Profile, remove: Profile, staff) -> ProfileMerge:
    if keep.pk == remove.pk:
        raise MergeError("A profile cannot be merged with itself.")
    # When both have accounts, the removed one's account stays (its login and orders are
    # Oscar's); through the alias, its orders and activity count for the kept person.
    now = timezone.now()
    links = [IdentityLink(kind=IdentityLink.ALIAS, identifier=remove.person_key, user_id=keep.person_key,
                          first_seen_at=now, via="merge")]
    for kind, identifier in IdentityLink.objects.filter(user_id=remove.person_key).exclude(
            kind=IdentityLink.ALIAS, identifier=keep.person_key).values_list("kind", "identifier"):
        links.append(IdentityLink(kind=kind, identifier=identifier, user_id=keep.person_key,
                                  first_seen_at=now, via="merge"))
    if remove.is_guest:
        links.append(IdentityLink(kind=IdentityLink.EMAIL, identifier=remove.email.lower(),
                                  user_id=keep.person_key, first_seen_at=now, via="merge"))
    IdentityLink.objects.bulk_create(links, ignore_conflicts=True)
    customer_orders_rekey(persons={keep.person_key, remove.person_key, *(
        guest_person(link.identifier) if link.kind == IdentityLink.EMAIL else link.identifier
        for link in links if link.kind != IdentityLink.ANONYMOUS)})
    remove.notes.update(profile=keep)
    remove.consents.update(profile=keep)
    remove.accesses.update(profile=keep)
    keep.tags.add(*remove.tags.names())
    SegmentMembership.objects.filter(profile=remove, left_at=None).update(left_at=now)
    SegmentMembership.objects.filter(profile=remove).update(profile=keep)
    record = ProfileMerge.objects.create(
        kept=keep, kept_key=keep.person_key, removed_key=remove.person_key, staff=staff,
        removed_snapshot={"email": remove.email, "phone": remove.phone, "first_name": remove.first_name,
                          "last_name": remove.last_name, "person_key": remove.person_key})
    ProfileAccess.objects.create(profile=keep, person_key=keep.person_key, staff=staff, action=ProfileAccess.MERGE,
                                 detail=f"merged {remove.person_key} into this profile")
    remove.delete()
    profiles_refresh(person_keys={keep.person_key})
    from ecrm.segments import segments_refresh

    segments_refresh(profile_ids={keep.pk})
    return record
