"""Reads the support desk, the customer card and (later) the API share."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q
from django.db.models.functions import Lower
from oscar.core.loading import get_model

from ecrm.models import Profile
from ecrm.services import _owners, identities_of
from tracking.graph import guest_person
from tracking.models import IdentityLink, Session

Order = get_model("order", "Order")
NAME_SIMILARITY = 0.4  # pg_trgm word similarity: "Lovlace" still finds "Lovelace"


def customer_search(query: str, *, limit: int = 20) -> list[Profile]:
    """Customers matching an order number, anonymous id, e-mail (whole or part), phone or
    name (tolerating typos on PostgreSQL): exact identifiers first, then the rest."""
    query = " ".join(query.split())[:200]
    if len(query) < 2:
        return []
    persons = _persons_by_identifier(query)
    found = list(Profile.objects.filter(person_key__in=persons)) if persons else []
    digits = "".join(c for c in query if c.isdigit())
    matches = Q(email__icontains=query)
    if len(digits) >= 6 and len(digits) >= len(query.replace(" ", "")) - 2:
        matches |= Q(phone__contains=digits.lstrip("0"))  # 07700… is +447700… too
    words = [word for word in query.split() if "@" not in word]
    if words:
        name = Q()
        for word in words:
            name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        matches |= name
    rest = list(Profile.objects.filter(matches).exclude(pk__in=[p.pk for p in found])
                .order_by("-last_seen_at")[:limit])
    if not found and not rest and words and connection.vendor == "postgresql":
        rest = _similar_names(" ".join(words), limit)
    return (found + rest)[:limit]


def _persons_by_identifier(query: str) -> set[str]:
    persons = set()
    for user_id, guest_email in Order.objects.filter(number=query).values_list("user_id", "guest_email"):
        persons.add(str(user_id) if user_id else guest_person(guest_email))
    persons |= set(IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, identifier=query)
                   .values_list("user_id", flat=True))
    return _owners(persons) if persons else set()


def _similar_names(text: str, limit: int) -> list[Profile]:
    from django.contrib.postgres.search import TrigramWordSimilarity
    from django.db.models import Value
    from django.db.models.functions import Concat

    full_name = Concat("first_name", Value(" "), "last_name")
    return list(Profile.objects.annotate(similarity=TrigramWordSimilarity(text, full_name))
                .filter(similarity__gte=NAME_SIMILARITY).order_by("-similarity")[:limit])


def customer_orders(profile: Profile):
    """Their orders: their account's, merged accounts', and guest checkouts with their e-mails."""
    ids = identities_of({profile.person_key})[profile.person_key]
    users = [int(user) for user in ids.users if user.isdigit()]
    emails = {email.lower() for email in ids.emails}
    return Order.objects.annotate(guest=Lower("guest_email")).filter(
        Q(user_id__in=users) | Q(user__isnull=True, guest__in=emails)
    ).prefetch_related("lines", "status_changes").order_by("-date_placed")


def customer_sessions(profile: Profile, *, limit: int = 100):
    visitors = set(IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, user_id=profile.person_key)
                   .values_list("identifier", flat=True))
    return Session.objects.filter(Q(user_id=profile.person_key) | Q(visitor__in=visitors)).order_by(
        "-started_at")[:limit]
