"""What the customer card's baskets, messages and sessions tabs show (reads only)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from oscar.core.loading import get_model

from ecrm.models import Profile
from ecrm.selectors import customer_sessions
from tracking.models import Event

Basket = get_model("basket", "Basket")
UserAddress = get_model("address", "UserAddress")
Email = get_model("communication", "Email")
ABANDONED_AFTER = timedelta(hours=1)


def customer_baskets(profile: Profile) -> list:
    """Open baskets with lines, newest first; one untouched for an hour counts as abandoned."""
    if not profile.user_id:
        return []
    baskets = list(Basket.objects.filter(owner_id=profile.user_id, status__in=[Basket.OPEN, Basket.SAVED])
                   .prefetch_related("lines__product").order_by("-date_created"))
    cutoff = timezone.now() - ABANDONED_AFTER
    for basket in baskets:
        lines = list(basket.lines.all())
        basket.card_lines = lines
        last_change = max([basket.date_created, *(line.date_updated or line.date_created for line in lines)])
        basket.abandoned = bool(lines) and last_change < cutoff
        basket.card_total = sum((line.price_incl_tax or 0) * line.quantity for line in lines)
    return [basket for basket in baskets if basket.card_lines]


def customer_messages(profile: Profile, *, limit: int = 100):
    """The e-mails the store sent them (Oscar records each in ``communication.Email``)."""
    sent_to = Q(email__iexact=profile.email) if profile.email else Q(pk__in=[])
    if profile.user_id:
        sent_to |= Q(user_id=profile.user_id)
    return Email.objects.filter(sent_to).order_by("-date_sent")[:limit]


def sessions_with_searches(profile: Profile) -> list:
    """Sessions, each with the terms searched inside the store during it."""
    sessions = list(customer_sessions(profile))
    terms = defaultdict(list)
    searches = Event.objects.filter(session_id__in=[s.key for s in sessions], event="Products Searched").order_by(
        "timestamp").values_list("session_id", "properties__query")
    for session_id, query in searches:
        if query and query not in terms[session_id]:
            terms[session_id].append(query)
    for session in sessions:
        session.internal_searches = terms[session.key]
    return sessions


def customer_addresses(profile: Profile) -> list:
    """Their address book in Oscar, default shipping address first."""
    if not profile.user_id:
        return []
    return list(UserAddress.objects.filter(user_id=profile.user_id).select_related("country")
                .order_by("-is_default_for_shipping", "-date_created"))
