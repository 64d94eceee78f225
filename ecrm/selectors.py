"""Reads the support desk, the customer card and (later) the API share."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F, Func, Q, TextField
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
    name (tolerating typos on PostgreSQL): exact identifiers first, then the rest.

    Every condition is answered from an index: ``icontains`` renders ``UPPER(col) LIKE
    UPPER(…)``, the expression 0002's trigram indexes cover (hence also for the phone's
    digits), and misspelt names use 0003's (bench/support.py measures it all)."""
    query = " ".join(query.split())[:200]
    if len(query) < 2:
        return []
    persons = _persons_by_identifier(query)
    found = list(Profile.objects.filter(person_key__in=persons)) if persons else []
    digits = "".join(c for c in query if c.isdigit())
    matches = Q(email__icontains=query)
    if len(digits) >= 6 and len(digits) >= len(query.replace(" ", "")) - 2:
        matches |= _phone_matches(query, digits)
    words = [word for word in query.split() if "@" not in word]
    if words:
        name = Q()
        for word in words:
            name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
        matches |= name
    rest = list(Profile.objects.filter(matches).exclude(pk__in=[p.pk for p in found])
                .order_by("-last_seen_at")[:limit])
    # Typos are looked for only when nothing else matched and there are letters to misspell.
    letters = [word for word in words if any(c.isalpha() for c in word)]
    if not found and not rest and letters and connection.vendor == "postgresql":
        rest = _similar_names(" ".join(letters), limit)
    return (found + rest)[:limit]


def _phone_matches(query: str, digits: str) -> Q:
    """07700 900123 finds +447700900123 and 07700900123 (its digits, less the trunk 0);
    +44 7700 900123 finds both too, by the last 9 digits (a national number's length)."""
    matches = Q(phone__icontains=digits.lstrip("0"))
    if query.startswith(("+", "00")) and len(digits) > 9:
        matches |= Q(phone__iendswith=digits[-9:])
    return matches


def _persons_by_identifier(query: str) -> set[str]:
    persons = set()
    for user_id, guest_email in Order.objects.filter(number=query).values_list("user_id", "guest_email"):
        persons.add(str(user_id) if user_id else guest_person(guest_email))
    persons |= set(IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, identifier=query)
                   .values_list("user_id", flat=True))
    return _owners(persons) if persons else set()


class FullName(Func):
    """``first_name || ' ' || last_name``, exactly the expression 0003 indexes."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(F("first_name"), F("last_name"))


def _similar_names(text: str, limit: int) -> list[Profile]:
    """Names within pg_trgm word similarity ``NAME_SIMILARITY`` of ``text``, closest first.
    ``%>`` (with its threshold set for this transaction) lets the index choose the
    candidates; computing the similarity of every profile took 150-250 ms at 100,000."""
    from django.contrib.postgres.lookups import TrigramWordSimilar
    from django.contrib.postgres.search import TrigramWordSimilarity

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                       [str(NAME_SIMILARITY)])
        return list(Profile.objects.filter(TrigramWordSimilar(FullName(), text))
                    .annotate(similarity=TrigramWordSimilarity(text, FullName()))
                    .order_by("-similarity", "-last_seen_at")[:limit])


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


def segment_offers_of(user):
    """The active Oscar "User" offers limited to a segment this signed-in customer is in now
    (``SegmentOffer``): what the store's offer ``Applicator.get_user_offers`` returns. One
    query; none at all for an anonymous visitor. Membership is read as it is, so a customer
    who joins a segment gets its offers on their next page, and loses them on leaving."""
    ConditionalOffer = get_model("offer", "ConditionalOffer")
    if user is None or not user.is_authenticated:
        return ConditionalOffer.objects.none()
    return ConditionalOffer.active.filter(
        offer_type=ConditionalOffer.USER,
        ecrm_segment__segment__memberships__left_at=None,
        ecrm_segment__segment__memberships__profile__person_key=str(user.pk),
    ).select_related("condition", "benefit").distinct()


def visitor_segment_ids(*, user_id: str = "", anonymous_id: str = "") -> frozenset[int]:
    """The segments a storefront visitor is in now: their account's profile, or for an
    anonymous visitor the profiles their anonymous id is linked to (a customer who browses
    signed out). One query on indexed columns (the profile's unique ``person_key``, the
    link's identifier and the membership's current-row condition), so pages can target
    content per request; nothing is asked for a visitor with neither id."""
    if user_id:
        people = Q(profile__person_key=str(user_id))
    elif anonymous_id:
        people = Q(profile__person_key__in=IdentityLink.objects.filter(
            kind=IdentityLink.ANONYMOUS, identifier=anonymous_id).values("user_id"))
    else:
        return frozenset()
    from ecrm.models import SegmentMembership

    return frozenset(SegmentMembership.objects.filter(people, left_at=None).values_list("segment_id", flat=True))
