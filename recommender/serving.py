"""``recommendations_for``: a few Redis reads down a fallback chain, then the shop's rules,
so that a slot is never empty and never shows what cannot be bought.

Chains (first list that knows the person or product comes first; later lists fill up):

* ``for_you``: the person's blend of "buy again" and discovery → popular
* ``discover``: items the person never bought → popular
* ``bought_together`` (with a product): bought with it → viewed with it → popular in its
  category → popular
* ``similar`` (with a product): viewed with it → popular in its category → popular

Rules: public products only, available to buy under Oscar's default strategy (kept per
process by ``recommender.catalogue``, refreshed within seconds of a change), not already in the
basket, not the product the page is about, no repeats; ``discover`` never shows anything
the person bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from recommender.catalogue import catalogue
from recommender.publish import client, current_key, key
from recommender.tokens import make_token
CHAINS = {
    "for_you": ["for_you", "popular"],
    "discover": ["discover", "popular"],
    "bought_together": ["bought_together", "similar", "category", "popular"],
    "similar": ["similar", "content", "category", "popular"],
}
PERSONAL = {"for_you", "discover"}


@dataclass(frozen=True)
class Recommendation:
    product: object
    source: str  # which list it came from: for_you, popular, bought_together, ...
    version: int | None
    token: str = ""  # attribution: version, slot and position (recommender.tokens)


def _candidates(slot: str, *, person: str, product, version: int) -> list[tuple[str, str]]:
    r = client()
    found: list[tuple[str, str]] = []
    for source in CHAINS[slot]:
        if source in PERSONAL:
            raw = r.hget(key(version, source), person) if person else None
        elif source in ("bought_together", "similar", "content"):
            raw = r.hget(key(version, source), str(product.pk)) if product is not None else None
        elif source == "category":
            category = r.hget(key(version, "category"), str(product.pk)) if product is not None else None
            raw = r.get(key(version, f"popular:cat:{category}")) if category else None
        else:
            raw = r.get(key(version, "popular"))
        found += [(item, source) for item in (raw or "").split(",") if item]
    return found


def recommendations_for(*, slot: str = "for_you", person: str = "", product=None, basket=None,
                        k: int = 8) -> list[Recommendation]:
    """Up to ``k`` products for a person (their person key: user id, or ``email:…``, or
    ``anon:<anonymous id>``) and/or a product; [] only when nothing is published or the
    catalogue has nothing to offer. Redis being down gives [] too: a page must not fail."""
    if slot not in CHAINS:
        raise ValueError(f"unknown slot {slot!r}; slots: {', '.join(CHAINS)}")
    try:
        version = client().get(current_key())
        if version is None:
            return []
        version = int(version)
        candidates = _candidates(slot, person=person, product=product, version=version)
        excluded = {str(product.pk)} if product is not None else set()
        if slot == "discover" and person:  # nothing they bought, whichever list it comes from
            excluded |= set((client().hget(key(version, "bought"), person) or "").split(","))
    except redis.RedisError:
        return []
    if basket is not None and getattr(basket, "pk", None):
        excluded |= {str(line.product_id) for line in basket.all_lines()}
    wanted, sources = [], {}
    for item, source in candidates:
        if item not in excluded and item not in sources and item.isdigit():
            sources[item] = source
            wanted.append(item)
    known = catalogue.lookup(wanted[: k * 4])
    picked = []
    for item in wanted[: k * 4]:
        candidate, available = known.get(item, (None, False))
        if candidate is None or not available:
            continue
        picked.append(Recommendation(candidate, sources[item], version, make_token(
            version=version, slot=slot, position=len(picked) + 1, product_id=candidate.pk)))
        if len(picked) == k:
            break
    return picked
