"""``recommendations_for``: a few Redis reads down a fallback chain, then the shop's rules,
so that a slot is never empty and never shows what cannot be bought.

Chains (first list that knows the person or product comes first; later lists fill up):

* ``for_you``: the person's blend of "buy again" and discovery → their session → popular
* ``discover``: items the person never bought → their session → popular
* ``bought_together`` (with a product): bought with it → viewed with it → the person's
  session → popular in its category → popular
* ``similar`` (with a product): viewed with it → the person's session → popular in its
  category → popular

"Personal" is the published list, or — for someone the model has not seen, or whose recent
activity is newer than the model — a list from factors recalculated on the fly
(``recommender.foldin``, source ``fresh``). "Session" is the neighbours of the products the
person viewed, put in their basket or bought a moment ago (``recommender.recent``), each
with the product that brought it (``because``). On a product page the product's own lists
come first: it is what the shopper is looking at.

Rules: public products only, available to buy under Oscar's default strategy (kept per
process by ``recommender.catalogue``, refreshed within seconds of a change), not already in the
basket, not the product the page is about, no repeats; ``discover`` never shows anything
the person bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from recommender.catalogue import catalogue
from recommender.config import DEFAULT_EVENT_WEIGHTS
from recommender.experiments import chosen_version, running_key
from recommender.foldin import personal_items, state_of
from recommender.publish import client, current_key, key
from recommender.recent import EMPTY, Recent, recent_key, session_candidates
from recommender.tokens import make_token
CHAINS = {
    "for_you": ["for_you", "session", "popular"],
    "discover": ["discover", "session", "popular"],
    "bought_together": ["bought_together", "similar", "session", "category", "popular"],
    "similar": ["similar", "session", "category", "popular"],
}
PERSONAL = {"for_you", "discover"}


@dataclass(frozen=True)
class Recommendation:
    product: object
    source: str  # which list it came from: for_you, popular, bought_together, ...
    version: int | None
    token: str = ""  # attribution: version, slot and position (recommender.tokens)
    because: object = None  # the product the person viewed whose neighbours brought this one


def _candidates(slot: str, *, person: str, product, version: int, recent: Recent = EMPTY,
                enough: int | None = None) -> list[tuple[str, str, str]]:
    """(item, source, because) in chain order; ``because`` is a product id or "". Stops
    once ``enough`` distinct products are found: later lists could not be used."""
    r = client()
    found: list[tuple[str, str, str]] = []
    for source in CHAINS[slot]:
        if enough is not None and len({item for item, _, _ in found if item.isdigit()}) >= enough:
            break
        if source in PERSONAL:
            items, source = personal_items(r, version, source, person, recent) if person else ([], source)
            found += [(item, source, "") for item in items]
            continue
        if source == "session":
            found += [(item, source, why) for item, why in session_candidates(r, version, recent)]
            continue
        if source in ("bought_together", "similar"):
            raw = r.hget(key(version, source), str(product.pk)) if product is not None else None
        elif source == "category":
            category = r.hget(key(version, "category"), str(product.pk)) if product is not None else None
            raw = r.get(key(version, f"popular:cat:{category}")) if category else None
        else:
            raw = r.get(key(version, "popular"))
        found += [(item, source, "") for item in (raw or "").split(",") if item]
    return found


def recommendations_for(*, slot: str = "for_you", person: str = "", product=None, basket=None,
                        k: int = 8) -> list[Recommendation]:
    """Up to ``k`` products for a person (their person key: user id, or ``email:…``, or
    ``anon:<anonymous id>``) and/or a product; [] only when nothing is published or the
    catalogue has nothing to offer. Redis being down gives [] too: a page must not fail."""
    if slot not in CHAINS:
        raise ValueError(f"unknown slot {slot!r}; slots: {', '.join(CHAINS)}")
    try:
        # One round trip: the serving version, a running A/B test, the person's recent activity.
        pipe = client().pipeline(transaction=False)
        pipe.mget(current_key(), running_key())
        if person:
            pipe.lrange(recent_key(person), 0, -1)
        (current, running), *raw_recent = pipe.execute()
        version = chosen_version(current, running, person)  # their arm's version in an A/B test
        if version is None:
            return []
        state = state_of(version)
        recent = Recent.parse(raw_recent[0], state.event_weights if state else DEFAULT_EVENT_WEIGHTS) \
            if raw_recent and raw_recent[0] else EMPTY
        excluded = {str(product.pk)} if product is not None else set()
        if slot == "discover" and person:  # nothing they bought, whichever list it comes from
            excluded |= set((client().hget(key(version, "bought"), person) or "").split(",")) | recent.purchased
        if basket is not None and getattr(basket, "pk", None):
            excluded |= {str(line.product_id) for line in basket.all_lines()}
        candidates = _candidates(slot, person=person, product=product, version=version, recent=recent,
                                 enough=k * 4 + len(excluded))
    except redis.RedisError:
        return []
    wanted, sources, reasons = [], {}, {}
    for item, source, because in candidates:
        if item not in excluded and item not in sources and item.isdigit():
            sources[item] = source
            wanted.append(item)
            if because.isdigit():
                reasons[item] = because
    known = catalogue.lookup(wanted[: k * 4] + [reasons[i] for i in wanted[: k * 4] if i in reasons])
    picked = []
    for item in wanted[: k * 4]:
        candidate, available = known.get(item, (None, False))
        if candidate is None or not available:
            continue
        picked.append(Recommendation(candidate, sources[item], version, make_token(
            version=version, slot=slot, position=len(picked) + 1, product_id=candidate.pk),
            known.get(reasons.get(item, ""), (None, False))[0]))
        if len(picked) == k:
            break
    return picked
