"""Publish a trained version's lists to Redis, under its version, then switch serving to it.

Serving is then a few hash reads: ``<prefix>:v<N>:for_you`` / ``discover`` / ``bought`` (user -> items),
``<prefix>:v<N>:bought_together`` / ``similar`` / ``content`` (item -> items), ``<prefix>:v<N>:popular``
and ``trending`` (lists, overall and ``:cat:<name>``). ``<prefix>:current`` names the version.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import redis
from django.conf import settings

from recommender.defaults import setting

BATCH = 2000


@lru_cache(maxsize=1)
def client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=2,
                                decode_responses=True)


def key(version: int, name: str) -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:v{version}:{name}"


def current_key() -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:current"


def _items(model, row) -> str:
    return ",".join(str(model.item_ids[i]) for i in row if i >= 0)


def publish(version: int, model, *, top_n: int = 50) -> None:
    r = client()
    users = np.arange(len(model.meta["user_ids"]), dtype=np.int64)
    for name, exclude_seen in (("for_you", False), ("discover", True)):
        for start in range(0, len(users), BATCH):
            batch = users[start:start + BATCH]
            items, _scores = model.recommend(batch, top_n, exclude_seen=exclude_seen)
            r.hset(key(version, name), mapping={model.meta["user_ids"][u]: _items(model, row)
                                                for u, row in zip(batch, items)})
    seen = model.seen.tocsr()  # what each person already bought: "discover" never shows it
    for start in range(0, len(users), BATCH):
        mapping = {model.meta["user_ids"][u]: _items(model, seen.indices[seen.indptr[u]:seen.indptr[u + 1]])
                   for u in users[start:start + BATCH] if seen.indptr[u + 1] > seen.indptr[u]}
        if mapping:
            r.hset(key(version, "bought"), mapping=mapping)
    for name, kind in (("bought_together", "bought_together"), ("similar", "similar_viewed"), ("content", "content")):
        mapping = {}
        for item in model.item_ids:
            neighbours = model.similar(item, top_n, kind=kind)
            if neighbours:
                mapping[str(item)] = ",".join(map(str, neighbours))
        if mapping:
            r.hset(key(version, name), mapping=mapping)
    categories = sorted({c for c in (model.item_category if model.item_category is not None else []) if c})
    if categories:  # item -> its category, for "popular in this product's category"
        r.hset(key(version, "category"), mapping={str(item): str(category) for item, category
                                                  in zip(model.item_ids, model.item_category) if category})
    for trending in (False, True):
        name = "trending" if trending else "popular"
        r.set(key(version, name), _items(model, model.popular(top_n, trending=trending)))
        for category in categories:
            r.set(key(version, f"{name}:cat:{category}"), _items(model, model.popular(top_n, category, trending)))
    r.set(current_key(), version)
