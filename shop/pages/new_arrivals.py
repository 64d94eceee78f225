""""New arrivals for you": the newest products, those in the visitor's favourite categories
and brands first.

Tastes come from the visitor's profile (``ecrm``: favourite categories and brands, from their
history) and, for anyone, from their recent activity (``recommender.recent``: the categories
of what they just viewed); a visitor with neither gets the newest products as they are. The
products pass the recommender's rules (availability, hidden, bans and pins) and carry
attribution tokens under the slot ``new_arrivals``, like every other recommendation.
"""

from __future__ import annotations

import redis
from django.utils import timezone
from oscar.core.loading import get_model

from ecrm.models import Profile
from recommender.attribution import record_impressions
from recommender.catalogue import catalogue
from recommender.config import DEFAULT_EVENT_WEIGHTS
from recommender.defaults import setting as recommender_setting
from recommender.publish import client, current_key
from recommender.recent import Recent, recent_key
from recommender.rules import Context, pick, rules
from recommender.serving import Recommendation
from recommender.templatetags.recommendations import SlotItems, person_of
from recommender.tokens import make_token
from shop.pages.defaults import setting

Product = get_model("catalogue", "Product")
ProductAttributeValue = get_model("catalogue", "ProductAttributeValue")
SLOT = "new_arrivals"


def newest_ids() -> list[str]:
    """The newest public products' ids, newest first: one query on Oscar's index of
    ``date_created`` (a sold-out or hidden one is left out later, by the rules)."""
    return [str(pk) for pk in Product.objects.browsable().filter(is_public=True).order_by(
        "-date_created", "-id").values_list("id", flat=True)[:setting("SHOP_NEW_ARRIVALS_CANDIDATES")]]


def tastes(request) -> tuple[set[str], set[str]]:
    """(favourite category names, favourite brands) of the request's visitor."""
    categories, brands = set(), set()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        row = Profile.objects.filter(person_key=str(user.pk)).values_list(
            "favourite_categories", "favourite_brands").first()
        if row:
            categories |= set(row[0] or [])
            brands |= set(row[1] or [])
    person = person_of(request)
    if person:
        try:
            raw = client().lrange(recent_key(person), 0, -1)
        except redis.RedisError:
            raw = []
        recent = Recent.parse(raw, DEFAULT_EVENT_WEIGHTS)
        categories |= {entry.category for entry in catalogue.details(recent.items[:10]).values() if entry.category}
    return categories, brands


def _brands_of(ids: list[str]) -> dict[str, str]:
    return {str(pk): value for pk, value in ProductAttributeValue.objects.filter(
        product_id__in=ids, attribute__code=recommender_setting("RECOMMENDER_BRAND_ATTRIBUTE")).values_list(
        "product_id", "value_text")}


def new_arrivals(request, *, k: int = 8, personal: bool = True) -> SlotItems:
    """Up to ``k`` new arrivals for the request's visitor (``personal``), or the newest as
    they are (a shared page's fallback)."""
    ids, current, now = newest_ids(), rules.current(), timezone.now()
    context = Context(SLOT)
    entries = catalogue.details(ids + [item for item, _position in current.pinned(context, now)])
    favourite_categories, favourite_brands = tastes(request) if personal else (set(), set())
    brands = _brands_of(ids) if favourite_brands else {}

    def score(item: str) -> int:
        return 2 * (entries[item].category in favourite_categories) + (brands.get(item) in favourite_brands)

    ranked = sorted((item for item in ids if entries[item].product is not None), key=lambda item: -score(item))  # stable: newest first within a score
    candidates = [(item, "new_for_you" if score(item) else "new") for item in ranked]
    picked = pick(candidates, entries, k=k, rules=current, context=context, cap=None, now=now)
    try:
        version = client().get(current_key())
    except redis.RedisError:
        version = None
    version = int(version) if version else None
    items = [Recommendation(entry.product, source, version, make_token(
        version=version, slot=SLOT, position=position, product_id=entry.product.pk) if version else "")
        for position, (entry, source) in enumerate(picked, start=1)]
    if personal and version:
        record_impressions(items, SLOT, person_of(request))
    return SlotItems(items, slot=SLOT, k=k)
