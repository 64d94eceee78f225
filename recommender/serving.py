"""``recommendations_for``: a few Redis reads down a fallback chain, then the shop's rules
(``recommender.rules``), so that a slot is never empty and never shows what cannot be bought.

Chains (first list that knows the person or product comes first; later lists fill up):

* ``for_you``: the person's blend of "buy again" and discovery → their session → popular
* ``discover``: items the person never bought → their session → popular
* ``buy_again``: the person's own purchases ranked by repeat purchase → popular (only
  products that can be bought again, in both)
* ``bought_together`` (with a product): Oscar's recommended products → bought with it →
  viewed with it → the person's session → popular in its category → popular
* ``similar`` (with a product): Oscar's recommended products → viewed with it → like it
  by content (title, description, category, attributes: ``content``, published when the
  model was trained with item features; it knows products nobody has viewed yet) → the
  person's session → popular in its category → popular
* ``upsell`` (with a product): as ``similar``, but the product's own lists' items priced
  above it within ``RECOMMENDER_UPSELL_PRICE_RATIO`` first
* ``complete_order`` (with the basket): Oscar's recommended products of the basket's lines →
  what is bought with them, merged → the person's session → popular
* ``post_purchase`` (with ``products``, what an order just bought): as ``complete_order``,
  about those products (the thank-you page's suggestion)
* ``recently_viewed``: the person's own recent products, newest first; popular only for a
  visitor with no history yet (never mixed in: the heading would not be true)
* ``trending``: trending; with a category (or a product, meaning its category), "trending in"
  it: trending in the category → popular in it → trending → popular

"Personal" is the published list, or — for someone the model has not seen, or whose recent
activity is newer than the model — a list from factors recalculated on the fly
(``recommender.foldin``, source ``fresh``). "Session" is the neighbours of the products the
person viewed, put in their basket or bought a moment ago (``recommender.recent``), each
with the product that brought it (``because``). On a product page the product's own lists
come first: it is what the shopper is looking at.

Every slot then passes the rules: availability, hidden products, bans and pins, the basket,
durable items already bought (by the model's data or since), the category cap (see
``recommender.rules``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import redis
from django.utils import timezone

from recommender.catalogue import MISSING, Entry, catalogue
from recommender.config import DEFAULT_EVENT_WEIGHTS
from recommender.defaults import setting
from recommender.experiments import chosen_version, running_key
from recommender.foldin import personal_items, state_of
from recommender.prefetch import PrefetchedReads, current_reads, prefetched
from recommender.publish import client as redis_client, current_key, key
from recommender.recent import EMPTY, Recent, recent_key, session_candidates
from recommender.rules import Context, pick, rules
from recommender.slots import SLOTS, check_slot
from recommender.tokens import make_token

CHAINS = {
    "for_you": ["for_you", "session", "popular"],
    "discover": ["discover", "session", "popular"],
    "buy_again": ["buy_again", "popular"],
    "bought_together": ["manual", "bought_together", "similar", "session", "category", "popular"],
    "similar": ["manual", "similar", "content", "session", "category", "popular"],
    "upsell": ["manual", "similar", "content", "session", "category", "popular"],
    "complete_order": ["manual", "basket_together", "session", "popular"],
    "post_purchase": ["manual", "basket_together", "session", "popular"],
    "trending": ["category_trending", "category", "trending", "popular"],
    "recently_viewed": ["recent", "popular"],
}
assert set(CHAINS) == set(SLOTS), "every slot needs a chain"
PERSONAL = {"for_you", "discover"}  # published, or recalculated on the fly (recommender.foldin)
ABOUT_THE_PRODUCT = {"manual", "similar", "content", "category"}  # what up-sell prefers when the price fits
ABOUT_PRODUCTS = {"complete_order", "post_purchase"}  # about several products: the basket's, or an order's


@dataclass(frozen=True)
class Recommendation:
    product: object
    source: str  # which list it came from: for_you, popular, bought_together, manual, pinned, ...
    version: int | None
    token: str = ""  # attribution: version, slot and position (recommender.tokens)
    because: object = None  # the product the person viewed whose neighbours brought this one
    url: str = ""  # the product's page; its own ``get_absolute_url`` when not given

    def __post_init__(self):
        if not self.url and self.product is not None:
            object.__setattr__(self, "url", self.product.get_absolute_url())


def client():
    """Redis for serving's reads: the batch's prefetched reads inside
    ``recommendations_for_many``, else the client."""
    return current_reads() or redis_client()


def _merged(lists: list[str | None]) -> str:
    """Several ranked lists as one: an item scores 1/rank in each list it is on, so what goes
    with several basket lines comes first."""
    scores: dict[str, float] = {}
    for raw in lists:
        for rank, item in enumerate((raw or "").split(","), start=1):
            if item:
                scores[item] = scores.get(item, 0.0) + 1.0 / rank
    return ",".join(sorted(scores, key=lambda item: -scores[item]))


def _published_commands(slot: str, *, person: str, product, version: int, about: dict[str, Entry],
                        category: str) -> list[tuple[str, tuple]]:
    """(source, Redis command) for the chain's published lists, and ("bought", …) last for
    what the person bought; commands as ``recommender.prefetch`` keys them (name, *args)."""
    commands = []
    for source in CHAINS[slot]:
        if source == "buy_again" and person:
            commands.append((source, ("hget", key(version, source), person)))
        elif source in ("bought_together", "similar", "content") and product is not None:
            commands.append((source, ("hget", key(version, source), str(product.pk))))
        elif source == "basket_together" and about:
            commands.append((source, ("hmget", key(version, "bought_together"), tuple(about))))
        elif source in ("category", "category_trending") and category:
            name = f"{'trending' if source == 'category_trending' else 'popular'}:cat:{category}"
            commands.append((source, ("get", key(version, name))))
        elif source in ("popular", "trending"):
            commands.append((source, ("get", key(version, source))))
    if person:
        commands.append(("bought", ("hget", key(version, "bought"), person)))
    return commands


def _published(slot: str, *, person: str, product, version: int, about: dict[str, Entry],
               category: str) -> tuple[dict[str, str], set[str]]:
    """The chain's published lists (source -> "id,id,…") and what the person bought, in one
    round trip. ``about``: the entries of the products the slot is about (the page's, or
    the basket's)."""
    commands = _published_commands(slot, person=person, product=product, version=version, about=about,
                                   category=category)
    pipe = client().pipeline(transaction=False)
    for _source, (name, *args) in commands:
        getattr(pipe, name)(*args)
    replies = dict(zip([source for source, _command in commands], pipe.execute()))
    bought = set((replies.pop("bought", None) or "").split(",")) - {""}
    lists = {source: _merged(raw) if source == "basket_together" else raw for source, raw in replies.items()}
    lists["manual"] = _merged([",".join(entry.manual) for entry in about.values()])  # Oscar's, per catalogue entry
    return lists, bought


def _candidates(slot: str, *, person: str, product, version: int, about: dict[str, Entry], category: str = "",
                recent: Recent = EMPTY, enough: int | None = None) -> tuple[list[tuple[str, str, str]], set[str]]:
    """(item, source, because) in chain order — ``because`` is a product id or "" — and what
    the person bought (the model's data and since). The person's own list and session cost a
    round trip each, so they are skipped once ``enough`` distinct products are found."""
    lists, bought = _published(slot, person=person, product=product, version=version, about=about,
                               category=category)
    bought |= recent.purchased
    r = client()
    found: list[tuple[str, str, str]] = []
    for source in CHAINS[slot]:
        if source == "recent":
            found += [(item, source, "") for item in recent.viewed if item.isdigit()]
            continue
        if source in PERSONAL or source == "session":
            if enough is not None and len({item for item, _, _ in found}) >= enough:
                continue
            if source == "session":
                found += [(item, source, why) for item, why in session_candidates(r, version, recent)
                          if item.isdigit()]
            elif person:
                items, source = personal_items(r, version, source, person, recent)
                found += [(item, source, "") for item in items if item.isdigit()]
            continue
        if source == "recent":
            found += [(item, source, "") for item in recent.items if item.isdigit()]
            continue
        if slot == "recently_viewed" and found:
            continue  # what they viewed, even if only one: popular is only for someone who viewed nothing
        found += [(item, source, "") for item in (lists.get(source) or "").split(",") if item.isdigit()]
    return found, bought


def _basket_ids(basket) -> list[str]:
    if basket is None or not getattr(basket, "pk", None):
        return []
    return [str(line.product_id) for line in basket.all_lines() if line.product_id]


def _category_of(product, category, about: dict[str, Entry]) -> tuple[str, tuple[str, ...]]:
    """The category a call is about: its name (what the published lists are keyed by) and
    tree path (what rules and "trending in" match); the product's first one if none is given."""
    if category is not None:
        return category.name, (category.path,)
    if product is not None:
        entry = about.get(str(product.pk), MISSING)
        return entry.category, entry.category_paths[:1]
    return "", ()


def _preference(slot: str, product_entry: Entry, paths: tuple[str, ...]):
    """(prefer, cap) for ``rules.pick``: up-sell prefers the product's own lists' items priced
    above it within the ratio; "trending in" a category prefers it and has no cap."""
    cap = setting("RECOMMENDER_CATEGORY_CAP")
    if slot == "recently_viewed":
        return None, None  # what the person looked at, as it was: no mixing of categories
    if slot == "upsell" and product_entry.price is not None:
        low = product_entry.price
        high = low * Decimal(str(setting("RECOMMENDER_UPSELL_PRICE_RATIO")))
        return (lambda entry, source: source in ABOUT_THE_PRODUCT and entry.price is not None
                and low < entry.price <= high), cap
    if slot == "trending" and paths:
        return (lambda entry, source: any(path.startswith(paths[0]) for path in entry.category_paths)), None
    return None, cap


def _first_commands(person: str) -> list[tuple]:
    """What every call reads first: the serving version, a running A/B test, the person's
    recent activity (as ``recommender.prefetch`` keys commands)."""
    return [("mget", current_key(), running_key())] + ([("lrange", recent_key(person), 0, -1)] if person else [])


def _version_and_recent(person: str, versions, raw_recent=None) -> tuple[int | None, Recent]:
    """The version serving this person (their arm's in an A/B test) and their recent activity,
    from the replies to ``_first_commands``."""
    current, running = versions
    version = chosen_version(current, running, person)
    if version is None or not raw_recent:
        return version, EMPTY
    state = state_of(version)
    return version, Recent.parse(raw_recent, state.event_weights if state else DEFAULT_EVENT_WEIGHTS)


def recommendations_for(*, slot: str = "for_you", person: str = "", product=None, basket=None,
                        products=(), category=None, k: int = 8) -> list[Recommendation]:
    """Up to ``k`` products for a person (their person key: user id, or ``email:…``, or
    ``anon:<anonymous id>``), a product (its page), a basket, ``products`` (ids: what an
    order just bought, for ``post_purchase``) and, for ``trending``, a category (an Oscar
    category); [] only when nothing is published or the catalogue has nothing to offer.
    Redis being down gives [] too: a page must not fail.
    An unknown slot is a ValueError that names the slots."""
    check_slot(slot)
    page = [str(product.pk)] if product is not None else []
    try:
        # One round trip: the serving version, a running A/B test, the person's recent activity.
        pipe = client().pipeline(transaction=False)
        for name, *args in _first_commands(person):
            getattr(pipe, name)(*args)
        version, recent = _version_and_recent(person, *pipe.execute())
        if version is None:
            return []
        in_basket = list(dict.fromkeys(_basket_ids(basket) + [str(pk) for pk in products]))
        about = catalogue.details(in_basket if slot in ABOUT_PRODUCTS else page)
        name, paths = _category_of(product, category, about)
        candidates, bought = _candidates(slot, person=person, product=product, version=version, about=about,
                                         category=name, recent=recent, enough=k * 4 + len(in_basket) + len(page))
    except redis.RedisError:
        return []
    current = rules.current()
    context = Context(slot, frozenset(about), paths if slot == "trending" else tuple(
        path for entry in about.values() for path in entry.category_paths))
    prefer, cap = _preference(slot, about.get(page[0], MISSING) if page else MISSING, paths)
    reasons = {}
    for item, _source, because in candidates:
        reasons.setdefault(item, because)
    ids = list(reasons)
    pinned = [item for item, _position in current.pinned(context, timezone.now())]
    limit = len(ids) if prefer else max(k * 6, 48)  # look products up lazily: a cold one costs queries
    while True:
        entries = catalogue.details(ids[:limit] + pinned)
        picked = pick([(item, source) for item, source, _ in candidates if item in entries], entries, k=k,
                      rules=current, context=context, excluded=set(in_basket) | set(page), bought=bought,
                      exclude_bought=slot == "discover", repeatable_only=slot == "buy_again", prefer=prefer,
                      cap=cap)
        if len(picked) >= k or limit >= len(ids):
            break
        limit *= 4
    why = catalogue.details([reasons[str(e.product.pk)] for e, _ in picked if reasons.get(str(e.product.pk))])
    return [Recommendation(entry.product, source, version, make_token(
        version=version, slot=slot, position=position, product_id=entry.product.pk),
        why.get(reasons.get(str(entry.product.pk), ""), MISSING).product if source != "pinned" else None, entry.url)
        for position, (entry, source) in enumerate(picked, start=1)]


def recommendations_for_many(people, *, slot: str = "for_you", k: int = 8) -> dict[str, list[Recommendation]]:
    """``{person: recommendations_for(slot=slot, person=person, k=k)}`` for many people (a
    broadcast's delivery batch), with the Redis reads every one of them needs made in two
    round trips for all (``recommender.prefetch``) instead of three or four each."""
    check_slot(slot)
    people = list(dict.fromkeys(people))
    r = redis_client()
    known: dict[tuple, object] = {}
    try:
        pipe = r.pipeline(transaction=False)
        pipe.mget(current_key(), running_key())
        for person in people:
            pipe.lrange(recent_key(person), 0, -1)
        (current, running), *recents = pipe.execute()
        known[("mget", current_key(), running_key())] = [current, running]
        known.update({("lrange", recent_key(person), 0, -1): raw for person, raw in zip(people, recents)})
        commands = []
        for person in people:
            version = chosen_version(current, running, person)
            if version is None or not person:
                continue
            for source in CHAINS[slot]:
                if source in PERSONAL or source == "buy_again":
                    commands.append(("hget", key(version, source), person))
                elif source in ("popular", "trending"):
                    commands.append(("get", key(version, source)))
            commands.append(("hget", key(version, "bought"), person))
        commands = list(dict.fromkeys(commands))
        known.update(_read_all(r, commands))
    except redis.RedisError:
        known = {}  # each person's own call finds out again (and gives [])
    with prefetched(PrefetchedReads(r, known)):
        return {person: recommendations_for(slot=slot, person=person, k=k) for person in people}


def _read_all(r, commands: list[tuple]) -> dict[tuple, object]:
    """Every ``(command, *args)`` read in one pipelined round trip: command -> reply."""
    pipe = r.pipeline(transaction=False)
    for name, *args in commands:
        getattr(pipe, name)(*args)
    return dict(zip(commands, pipe.execute()))


#: The version the last page was served (per Redis prefix): a page's reads of its lists are
#: sent with its first reads on the guess that it has not changed, so a page costs one round
#: trip, and a second only just after a new version is published (or across A/B arms).
_last_version: dict[str, int] = {}


def _page_commands(slots, *, person: str, product, basket_ids: list[str], products, category,
                   version: int) -> list[tuple]:
    """The reads ``recommendations_for`` makes for these slots after its first round trip,
    as far as they are known before it runs (a session's neighbours are not: they depend on
    what it finds first, and are read then, only when needed)."""
    page = [str(product.pk)] if product is not None else []
    in_basket = list(dict.fromkeys(basket_ids + [str(pk) for pk in products]))
    commands = []
    for slot in slots:
        about = catalogue.details(in_basket if slot in ABOUT_PRODUCTS else page)
        name, _paths = _category_of(product, category, about)
        commands += [command for _source, command in _published_commands(
            slot, person=person, product=product, version=version, about=about, category=name)]
        if person:
            commands += [("hget", key(version, source), person) for source in CHAINS[slot] if source in PERSONAL]
    return list(dict.fromkeys(commands))


def recommendations_for_slots(slots, *, person: str = "", product=None, basket=None, products=(), category=None,
                              k: int = 8) -> dict[str, list[Recommendation]]:
    """``{slot: recommendations_for(slot=slot, …)}`` for the slots of one page (the same
    person, product, basket, category), with the Redis reads all of them need made together:
    one round trip for the page while the serving version stays the same (two when it has
    just changed), instead of two or three per slot. The picks are those of calling
    ``recommendations_for`` slot by slot (it runs for each, over the prefetched replies)."""
    slots = list(dict.fromkeys(slots))
    for slot in slots:
        check_slot(slot)
    r = client()
    basket_ids = _basket_ids(basket)
    about = dict(person=person, product=product, basket_ids=basket_ids, products=products, category=category)
    first = _first_commands(person)
    guess = _last_version.get(setting("RECOMMENDER_REDIS_PREFIX"))
    known: dict[tuple, object] = {}
    try:
        commands = first + (_page_commands(slots, **about, version=guess) if guess is not None else [])
        known.update(_read_all(r, commands))
        version = chosen_version(*known[first[0]], person)  # their arm's in an A/B test
        if version is not None and version != guess:
            _last_version[setting("RECOMMENDER_REDIS_PREFIX")] = version
            missing = [command for command in _page_commands(slots, **about, version=version)
                       if command not in known]
            if missing:
                known.update(_read_all(r, missing))
    except redis.RedisError:
        known = {}  # each slot's own call finds out again (and gives [])
    with prefetched(PrefetchedReads(r, known)):
        return {slot: recommendations_for(slot=slot, person=person, product=product, basket=basket, products=products,
                                          category=category, k=k) for slot in slots}
