"""Each person's recent product activity, in Redis, the moment tracking stores it.

The trained model only knows what happened before it was trained. A visitor who has just
looked at two products, or a customer who registered this morning, is unknown to it; their
last few views, basket adds and purchases are what serving can still use, without
retraining:

* "session" recommendations: the published neighbour lists (bought together, viewed
  together) of the recent products, merged with the most recent counting most
  (:func:`session_candidates`);
* factors recalculated on the fly from the model's item factors (``recommender.foldin``).

One capped list per person key — the keys serving asks with: a user id, ``email:…`` for a
guest, ``anon:<anonymous id>`` for a visitor, and the person a visitor is linked to as well
(browsing before logging in counts for the customer) — newest first, each entry
``product|kind|unix time``, expiring ``RECOMMENDER_RECENT_TTL_SECONDS`` after the last
activity. Fed by ``recommender.receivers`` from tracking's ``events_stored`` signal.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from recommender.defaults import setting
from recommender.publish import client, current_key, key
from recommender.store_data import BROWSING

#: Tracking's event names and the kind of interest they show (the training's event names).
KINDS = {**BROWSING, "Order Completed": "purchase"}


def recent_key(person: str) -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:recent:{person}"


def entries_of(event) -> list[str]:
    """The list entries one stored tracking event adds (none if it is not about products)."""
    kind = KINDS.get(event.event)
    if kind is None:
        return []
    properties = event.properties if isinstance(event.properties, dict) else {}
    if kind == "purchase":
        products = properties.get("products")
        ids = [p.get("product_id") for p in products if isinstance(p, dict)] if isinstance(products, list) else []
    else:
        ids = [properties.get("product_id")]
    when = int(event.timestamp.timestamp())
    return [f"{product}|{kind}|{when}" for product in map(str, filter(None, ids)) if "|" not in product]


# KEYS: the lists; ARGV: cap, ttl, then per list its entry count (at least 1, at most the cap)
# and entries, oldest first: one variadic LPUSH per list.
_PUSH = """
local cap, ttl, at = tonumber(ARGV[1]), tonumber(ARGV[2]), 3
for _, name in ipairs(KEYS) do
  local n = tonumber(ARGV[at])
  redis.call('LPUSH', name, unpack(ARGV, at + 1, at + n))
  at = at + n + 1
  redis.call('LTRIM', name, 0, cap - 1)
  redis.call('EXPIRE', name, ttl)
end
"""


@lru_cache(maxsize=4)
def _push_script(r):
    return r.register_script(_PUSH)


def recent_record(activity: dict[str, list[tuple[float, str]]]) -> None:
    """Push ``{person: [(time, entry), ...]}`` to each person's list, newest at the head,
    capped and with the expiry renewed: one Redis command for a consumer's batch (a
    pipeline of three commands per person cost the consumer about twice as much)."""
    if not activity:
        return
    cap, ttl = setting("RECOMMENDER_RECENT_ITEMS"), setting("RECOMMENDER_RECENT_TTL_SECONDS")
    names, args = [], [cap, ttl]
    for person, entries in activity.items():
        newest = [entry for _when, entry in sorted(entries)][-cap:]  # the last pushed is the head
        names.append(recent_key(person))
        args += [len(newest), *newest]
    r = client()
    _push_script(r)(keys=names, args=args, client=r)


def recent_read_all(*, person_keys: set[str], anonymous_ids: set[str]) -> dict[str, list[str]]:
    """Each of a person's recent-activity lists (for their data export), newest first."""
    r = client()
    people = sorted(set(person_keys) | {f"anon:{visitor}" for visitor in anonymous_ids})
    pipe = r.pipeline(transaction=False)
    for person in people:
        pipe.lrange(recent_key(person), 0, -1)
    return {person: entries for person, entries in zip(people, pipe.execute()) if entries}


def recent_forget(*, person_keys: set[str], anonymous_ids: set[str]) -> None:
    """Forget an erased customer (``recommender.privacy``): their recent activity, and their
    entries in the serving version's per-person lists. Their events are de-identified by
    the erasure, so the next training does not learn them again."""
    r = client()
    people = set(person_keys) | {f"anon:{visitor}" for visitor in anonymous_ids}
    if not people:
        return
    pipe = r.pipeline(transaction=False)
    pipe.delete(*[recent_key(person) for person in people])
    version = r.get(current_key())
    if version is not None:
        for name in ("for_you", "discover", "bought", "buy_again"):
            pipe.hdel(key(int(version), name), *people)
    pipe.execute()


@dataclass(frozen=True)
class Recent:
    """A person's recent activity, read back: products newest first, with how much interest
    each showed (the training's event weights summed, removals subtracting)."""

    items: list[str]          # distinct products with positive interest, most recent first
    weights: dict[str, float]  # product -> summed event weight (purchases included)
    purchased: set[str]
    latest: float             # unix time of the newest entry (0: none)
    viewed: tuple[str, ...] = ()  # distinct products whose page the person opened, most recent first

    @classmethod
    def parse(cls, raw: list[str], event_weights: dict[str, float]) -> "Recent":
        weights: dict[str, float] = defaultdict(float)
        order, viewed, purchased, latest = {}, {}, set(), 0.0  # dicts keep the first (newest) sight
        for entry in raw:  # newest first
            product, _, rest = entry.partition("|")
            kind, _, when = rest.partition("|")
            if not product:
                continue
            weights[product] += float(event_weights.get(kind, 0.0))
            if kind == "purchase":
                purchased.add(product)
            elif kind == "view":
                viewed.setdefault(product, None)
            order.setdefault(product, None)
            latest = max(latest, float(when or 0))
        return cls([p for p in order if weights[p] > 0], dict(weights), purchased, latest, tuple(viewed))


EMPTY = Recent([], {}, set(), 0.0)


def session_candidates(r, version: int, recent: Recent) -> list[tuple[str, str]]:
    """(product, because) pairs, best first: the bought-together and viewed-together
    neighbours of the person's most recent products, each neighbour scored by the sum over
    the recent products listing it of recency weight × rank weight (1 / position), so a
    product that goes with several of them, or with the newest, comes first. ``because`` is
    the recent product that contributed most. The recent products themselves are left out:
    the person has just seen them."""
    inputs = recent.items[: setting("RECOMMENDER_SESSION_ITEMS")]
    if not inputs:
        return []
    pipe = r.pipeline(transaction=False)
    pipe.hmget(key(version, "bought_together"), inputs)
    pipe.hmget(key(version, "similar"), inputs)
    together, viewed = pipe.execute()
    decay = float(setting("RECOMMENDER_SESSION_DECAY"))
    score: dict[str, float] = defaultdict(float)
    best: dict[str, tuple[float, str]] = {}
    seen = set(recent.items)
    for lists, strength in ((together, 1.0), (viewed, 0.8)):
        for age, (source, raw) in enumerate(zip(inputs, lists)):
            recency = strength * decay ** age
            for position, item in enumerate((raw or "").split(",")):
                if not item or item in seen:
                    continue
                contribution = recency / (position + 1)
                score[item] += contribution
                if contribution > best.get(item, (0.0, ""))[0]:
                    best[item] = (contribution, source)
    ranked = sorted(score, key=lambda item: -score[item])
    return [(item, best[item][1]) for item in ranked]
