"""Writes: keep profiles current from tracking's identity graph, events and sessions, and
Oscar's orders and accounts.

``profiles_refresh`` recomputes the given people from grouped queries (a few per call,
whatever the number of people), so the tracking consumer can call it for every batch
and ``ecrm_rebuild_profiles`` for everybody.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Lower
from django.utils import timezone
from oscar.core.loading import get_model

from ecrm.attributes import ADD, VIEW, Activity, OrderFact, Visit, summarise
from ecrm.models import Profile
from tracking.graph import guest_person
from tracking.models import Event, IdentityLink, Session
from tracking.sessions import device_of

Order = get_model("order", "Order")
OrderLine = get_model("order", "Line")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
GUEST_PREFIX = "email:"
OWNERS_WHOLESALE = 2000  # people; see owners_of


@dataclass
class Identities:
    """Everything that is one person: user ids (their own, aliases, guest keys) and visitors."""

    users: set = field(default_factory=set)
    anonymous: set = field(default_factory=set)
    emails: set = field(default_factory=set)  # guest checkouts that are this person


def persons_of(events: list[Event], *, linked: dict[str, str] | None = None) -> set[str]:
    """The people these events belong to (registered or guest); unlinked visitors have none.
    ``linked``: anonymous id -> person for (at least) these visitors, when the caller has
    read it already (tracking's ``BatchIdentities.people``)."""
    persons = {event.user_id for event in events if event.user_id}
    visitors = {event.anonymous_id for event in events if event.anonymous_id and not event.user_id}
    persons |= {guest_person(v.removeprefix("guest:")) for v in visitors if v.startswith("guest:")}
    if linked is None:
        persons |= set(IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, identifier__in=visitors)
                       .values_list("user_id", flat=True))
    else:
        persons |= {linked[v] for v in visitors if v in linked}
    return _owners(persons)


def owners_of(persons: set[str]) -> dict[str, str]:
    """Who each person key is now: a guest whose e-mail a registered customer has since
    identified with is that customer; an id aliased to another (Segment's ``alias``, or two
    profiles merged by staff) is the other. Followed a few steps, for chains of merges."""
    owner = {person: person for person in persons}
    current = set(persons)
    # For many people (a report over every order) one read of each kind of link is
    # cheaper than IN lists of tens of thousands of keys, step after step.
    wholesale = len(persons) > OWNERS_WHOLESALE
    every_claim = _all_links(IdentityLink.EMAIL) if wholesale else None
    every_alias = _all_links(IdentityLink.ALIAS) if wholesale else None
    for _step in range(5):
        emails = {p.removeprefix(GUEST_PREFIX) for p in current if p.startswith(GUEST_PREFIX)}
        claimed = every_claim if wholesale else dict(IdentityLink.objects.filter(
            kind=IdentityLink.EMAIL, identifier__in=emails).values_list("identifier", "user_id"))
        aliased = every_alias if wholesale else dict(IdentityLink.objects.filter(
            kind=IdentityLink.ALIAS, identifier__in=current).values_list("identifier", "user_id"))
        step = {p: aliased.get(p) or guest_person_owner(p, claimed) for p in current}
        if all(p == q for p, q in step.items()):
            break
        owner = {person: step.get(now, now) for person, now in owner.items()}
        current = set(owner.values())
    return owner


def _all_links(kind: str) -> dict[str, str]:
    return dict(IdentityLink.objects.filter(kind=kind).values_list("identifier", "user_id").iterator(chunk_size=10000))


def _owners(persons: set[str]) -> set[str]:
    return set(owners_of(persons).values())


def guest_person_owner(person: str, claimed: dict[str, str]) -> str:
    if person.startswith(GUEST_PREFIX):
        return claimed.get(person.removeprefix(GUEST_PREFIX), person)
    return person


def identities_of(persons: set[str]) -> dict[str, Identities]:
    found = {person: Identities(users={person}) for person in persons}
    for person in persons:
        if person.startswith(GUEST_PREFIX):
            found[person].emails.add(person.removeprefix(GUEST_PREFIX))
    links = IdentityLink.objects.filter(user_id__in=persons).values_list("kind", "identifier", "user_id")
    for kind, identifier, person in links:
        if kind == IdentityLink.ANONYMOUS:
            found[person].anonymous.add(identifier)
        elif kind == IdentityLink.ALIAS:
            found[person].users.add(identifier)
        else:
            found[person].users.add(guest_person(identifier))
            found[person].emails.add(identifier)
    guests = {guest_person(email): person for person, ids in found.items() for email in ids.emails}
    for identifier, guest in (IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, user_id__in=guests)
                              .values_list("identifier", "user_id")):
        found[guests[guest]].anonymous.add(identifier)
    for guest, person in guests.items():  # order status events of a guest order
        found[person].anonymous.add("guest:" + guest.removeprefix(GUEST_PREFIX))
    return found


def _activities(found: dict[str, Identities]) -> dict[str, Activity]:
    by_user = {user: person for person, ids in found.items() for user in ids.users}
    by_visitor = {visitor: person for person, ids in found.items() for visitor in ids.anonymous}
    activity = {person: Activity() for person in found}
    # Events under a user id count once, through it; anonymous ones through the visitor.
    scopes = (("user_id", Q(user_id__in=by_user), by_user),
              ("anonymous_id", Q(anonymous_id__in=by_visitor, user_id=""), by_visitor))
    for column, scope, owner in scopes:
        rows = Event.objects.filter(scope).values(column).annotate(
            first=Min("timestamp"), last=Max("timestamp"),
            views=Count("id", filter=Q(event=VIEW)), adds=Count("id", filter=Q(event=ADD)))
        for row in rows:
            activity[owner[row[column]]].add(Activity(row["first"], row["last"], row["views"], row["adds"]))
        categories = Event.objects.filter(scope, event__in=[VIEW, ADD]).values(
            column, "properties__category").annotate(n=Count("id"))
        for row in categories:
            if row["properties__category"]:
                activity[owner[row[column]]].categories[row["properties__category"]] += row["n"]
        agents = Event.objects.filter(scope).exclude(context__userAgent=None).values_list(
            column, "context__userAgent").distinct()
        for identifier, agent in agents:
            activity[owner[identifier]].devices.add(device_of(agent))
    return activity


def _visits(found: dict[str, Identities]) -> dict[str, list[Visit]]:
    by_user = {user: person for person, ids in found.items() for user in ids.users}
    by_visitor = {visitor: person for person, ids in found.items() for visitor in ids.anonymous}
    visits = defaultdict(list)
    rows = Session.objects.filter(
        Q(user_id__in=by_user) | Q(visitor__in=by_visitor) | Q(visitor__in=by_user)
    ).values_list("visitor", "user_id", "started_at", "source", "medium", "campaign")
    for visitor, user_id, started_at, source, medium, campaign in rows:
        person = by_user.get(user_id) or by_visitor.get(visitor) or by_user.get(visitor)
        visits[person].append(Visit(started_at, source, medium, campaign))
    return visits


def _orders(found: dict[str, Identities]) -> dict[str, list[OrderFact]]:
    # Their own account's orders, and those of accounts merged into theirs (aliases).
    registered = {int(user): person for person, ids in found.items() for user in ids.users if user.isdigit()}
    guests = {email: person for person, ids in found.items() for email in ids.emails}
    rows = list(Order.objects.annotate(guest=Lower("guest_email")).filter(
        Q(user_id__in=registered) | Q(user__isnull=True, guest__in=guests)
    ).values_list("id", "user_id", "guest_email", "date_placed", "total_incl_tax",
                  "shipping_address__line4", "shipping_address__country__printable_name"))
    brands = defaultdict(set)
    lines = OrderLine.objects.filter(order_id__in=[row[0] for row in rows]).values_list("order_id", "product_id")
    by_product = defaultdict(set)
    for order_id, product_id in lines:
        by_product[product_id].add(order_id)
    for product_id, brand in ProductAttributeValue.objects.filter(
            product_id__in=by_product, attribute__code="brand").values_list("product_id", "value_text"):
        for order_id in by_product[product_id]:
            brands[order_id].add(brand)
    orders = defaultdict(list)
    for order_id, user_id, guest_email, placed, total, town, country in rows:
        person = registered.get(user_id) if user_id else guests.get((guest_email or "").lower())
        if person is None:
            continue
        region = ", ".join(part for part in (town, country) if part)
        orders[person].append(OrderFact(placed, total or Decimal("0"), tuple(sorted(brands[order_id])), region))
    return orders


def _contacts(found: dict[str, Identities]) -> dict[str, dict]:
    contacts = {person: {"traits": {}} for person in found}
    by_user = {user: person for person, ids in found.items() for user in ids.users}
    for user_id, traits in Event.objects.filter(type="identify", user_id__in=by_user).order_by(
            "timestamp").values_list("user_id", "traits"):
        contacts[by_user[user_id]]["traits"].update(traits or {})
    for person, contact in contacts.items():
        traits = contact["traits"]
        contact.update(email=str(traits.get("email") or "")[:254], phone=_phone(traits.get("phone")),
                       first_name=str(traits.get("firstName") or traits.get("first_name") or "")[:150],
                       last_name=str(traits.get("lastName") or traits.get("last_name") or "")[:150])
        if person.startswith(GUEST_PREFIX):
            contact["email"] = person.removeprefix(GUEST_PREFIX)
    users = get_user_model().objects.filter(pk__in=[int(p) for p in found if p.isdigit()])
    for user in users.only("pk", "email", "first_name", "last_name"):
        contact = contacts[str(user.pk)]
        contact.update(user=user, email=user.email or contact["email"],
                       first_name=user.first_name or contact["first_name"],
                       last_name=user.last_name or contact["last_name"])
    return contacts


def _phone(value) -> str:
    if not isinstance(value, (str, int)):
        return ""
    text = str(value).strip()
    digits = "".join(c for c in text if c.isdigit())
    return (("+" if text.startswith("+") else "") + digits)[:40]


def profiles_refresh(*, person_keys: set[str]) -> int:
    """Recompute these people's profiles (created when missing); returns how many."""
    return len(_refresh(person_keys))


def _refresh(person_keys: set[str]) -> set[str]:
    """``profiles_refresh``; returns the person keys refreshed (owners, after merges)."""
    persons = _owners({key for key in person_keys if key})
    if not persons:
        return set()
    found = identities_of(persons)
    activities, visits, orders, contacts = _activities(found), _visits(found), _orders(found), _contacts(found)
    now = timezone.now()
    profiles = []
    for person in persons:
        contact = contacts[person]
        attributes = summarise(activities[person], visits.get(person, []), orders.get(person, []))
        profiles.append(Profile(person_key=person, user=contact.get("user"), email=contact["email"],
                                phone=contact["phone"], first_name=contact["first_name"],
                                last_name=contact["last_name"], traits=contact["traits"],
                                refreshed_at=now, **attributes))
    Profile.objects.bulk_create(
        profiles, update_conflicts=True, unique_fields=["person_key"],
        update_fields=["user", "email", "phone", "first_name", "last_name", "traits", "refreshed_at",
                       *Profile.COMPUTED])
    # A guest who has since identified as a registered customer is that customer now.
    claimed = {guest_person(email) for ids in found.values() for email in ids.emails}
    Profile.objects.filter(person_key__in=claimed - persons).delete()
    return persons


def profiles_refresh_marked(*, batch_size: int = 200, max_seconds: float | None = None) -> int:
    """Refresh the profiles marked by the tracking consumer; returns how many. Concurrent
    runs take different people (SKIP LOCKED), so overlapping schedules do no harm.

    ``batch_size`` people per transaction: the marks stay locked until it commits, and a
    consumer marking one of them again waits for that commit once the mark is deleted, so
    each transaction is kept short (the refresher runs at the lowest CPU priority). With
    ``max_seconds``, no new transaction starts after that long; the next run takes the rest."""
    from ecrm.models import ProfileRefresh
    from ecrm.segments import segments_refresh

    refreshed = 0
    started = time.monotonic()
    while max_seconds is None or time.monotonic() - started < max_seconds:
        with transaction.atomic():
            marks = list(ProfileRefresh.objects.select_for_update(skip_locked=True)
                         .order_by("marked_at")[:batch_size].values_list("pk", "person_key"))
            if not marks:
                return refreshed
            persons = _refresh({key for _pk, key in marks})
            refreshed += len(persons)
            ProfileRefresh.objects.filter(pk__in=[pk for pk, _key in marks]).delete()
        # Their segments follow their profiles (outside the marks' transaction: segment
        # rows are locked per segment, and a failure here leaves profiles refreshed).
        segments_refresh(profile_ids=set(Profile.objects.filter(
            person_key__in=persons).values_list("pk", flat=True)))
    return refreshed
