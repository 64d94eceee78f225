"""Publish a trained version's lists to Redis, under its version, then switch serving to it.

Serving is then a few hash reads: ``<prefix>:v<N>:for_you`` / ``discover`` / ``bought`` / ``buy_again``
(user -> items; ``buy_again`` is ``bought`` ranked by the model's repeat-purchase scores),
``<prefix>:v<N>:bought_together`` / ``similar`` / ``content`` (item -> items; ``content`` only
when the model was trained with item features), ``<prefix>:v<N>:popular`` and ``trending``
(lists, overall and ``:cat:<name>``), ``factors`` and ``factors:meta`` (item factors as float32
bytes, for ``recommender.foldin``). ``<prefix>:current`` names the version.

Scoring every customer is most of the work (a users x items score matrix per batch):
batches are scored on ``PUBLISH_THREADS`` threads (numpy's and scipy's kernels release the
GIL, so two batches really run at once on two cores) while the main thread writes the
finished ones to Redis through a pipeline (one round trip per batch, not one per hash).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import redis
from django.conf import settings

from recommender.defaults import setting
from recommender.rankers import Blend
from recommender.rankers.base import normalise_sparse_rows, rows, topk, topk_among, topk_edge
from recommender.rankers.blend import FILL, spec

BATCH = 2000
#: Customers scored at once: a batch's score matrices (256 x 5,000 items: 5 MB each) stay in
#: the allocator's reused memory and the CPU's caches; 2,000 at a time was 40% slower.
SCORE_BATCH = 256
#: Threads scoring batches of customers at once (the machine's cores, at most 4).
PUBLISH_THREADS = max(1, min(4, os.cpu_count() or 1))


_clients: dict[tuple[int, str, bool], redis.Redis] = {}
_clients_lock = threading.Lock()


def client(*, decode: bool = True) -> redis.Redis:
    """This process's Redis client for ``REDIS_URL`` (replies as text, or as bytes with
    ``decode=False``): one connection pool per process, URL and reply type, made on first use.

    Keyed by process id, so a forked child (a Celery prefork worker, the bench's
    multiprocessing pool) makes its own pool rather than writing on sockets it shares with
    its parent, and drops the parent's; keyed by URL, so a changed ``REDIS_URL`` (a test, a
    bench pointing elsewhere) gets a pool of its own instead of the first one's.
    """
    pid, url = os.getpid(), settings.REDIS_URL
    found = _clients.get((pid, url, decode))
    if found is None:
        with _clients_lock:
            for stale in [k for k in _clients if k[0] != pid]:  # the parent's, inherited by fork
                del _clients[stale]
            found = _clients.get((pid, url, decode))
            if found is None:
                found = _clients[(pid, url, decode)] = redis.Redis.from_url(
                    url, socket_timeout=5, socket_connect_timeout=2, decode_responses=decode)
    return found


def key(version: int, name: str) -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:v{version}:{name}"


def current_key() -> str:
    return f"{setting('RECOMMENDER_REDIS_PREFIX')}:current"


def _joined(ids: np.ndarray, rows) -> list[str]:
    """Each row of item indices (-1: none) as a comma-separated string of item ids (``ids``:
    an object array, so that a whole batch is looked up in one indexing)."""
    rows = np.asarray(rows)
    if (rows < 0).any():
        return [",".join(ids[row[row >= 0]].tolist()) for row in rows]
    return [",".join(row) for row in ids[rows].tolist()]


def _repeat_scores(model):
    """Users x items repeat-purchase scores (sparse): the model's "buy again" ranker (or, in a
    model trained before it had one, the "for you" model's repeat part); None when there is
    neither (then "buy again" keeps the model's item order)."""
    ranker = model.rankers.get("buy_again") or model.rankers.get("for_you")
    repeat = ranker if getattr(ranker, "kind", "") == "repeat" else getattr(ranker, "repeat", None)
    return getattr(repeat, "R", None)


def _by_repeat(seen, repeat) -> np.ndarray:
    """``seen.indices`` (everyone's purchases, row by row) with each row reordered most likely
    to be bought again first ("buy again"; ties keep their order), for all people at once."""
    if repeat is None:
        return seen.indices
    n_items = seen.shape[1]
    rows = np.repeat(np.arange(seen.shape[0], dtype=np.int64), np.diff(seen.indptr))
    where = rows * n_items + seen.indices
    repeat = repeat.tocsr()
    known = np.repeat(np.arange(repeat.shape[0], dtype=np.int64), np.diff(repeat.indptr)) * n_items + repeat.indices
    order = np.argsort(known, kind="stable")
    at = np.minimum(np.searchsorted(known[order], where), max(len(known) - 1, 0))
    score = np.zeros(len(where))
    if len(known):
        hit = known[order][at] == where
        score[hit] = repeat.data[order][at][hit]
    return seen.indices[np.lexsort((np.arange(len(rows)), -score, rows))]


def publish(version: int, model, *, top_n: int = 50, serve: bool = True) -> None:
    """Write ``model``'s lists under ``version``; then serve it, unless ``serve`` is False
    (an A/B test's variant is published for its arm only)."""
    r = client()
    user_ids = [str(u) for u in model.meta["user_ids"]]
    item_ids = np.array([str(i) for i in model.item_ids], dtype=object)
    users = np.arange(len(user_ids), dtype=np.int64)
    starts = range(0, len(users), SCORE_BATCH)
    with ThreadPoolExecutor(PUBLISH_THREADS) as pool:
        scored = pool.map(lambda start: _personal(model, users[start:start + SCORE_BATCH], top_n), starts)
        for start, lists in zip(starts, scored):
            pipe = r.pipeline(transaction=False)
            for name, items in lists.items():
                pipe.hset(key(version, name), mapping=dict(zip(user_ids[start:start + SCORE_BATCH],
                                                               _joined(item_ids, items))))
            pipe.execute()
    _publish_bought(r, version, model, user_ids, item_ids)
    for name, kind in (("bought_together", "bought_together"), ("similar", "similar_viewed"), ("content", "content")):
        if kind in model.lists:
            _publish_rows(r, key(version, name), item_ids, item_ids, model.lists[kind], top_n)
    categories = sorted({c for c in (model.item_category if model.item_category is not None else []) if c})
    if categories:  # item -> its category, for "popular in this product's category"
        r.hset(key(version, "category"), mapping={str(item): str(category) for item, category
                                                  in zip(model.item_ids, model.item_category) if category})
    for trending in (False, True):
        name = "trending" if trending else "popular"
        r.set(key(version, name), _joined(item_ids, [model.popular(top_n, trending=trending)])[0])
        for category in categories:
            r.set(key(version, f"{name}:cat:{category}"), _joined(item_ids, [model.popular(top_n, category, trending)])[0])
    from recommender.foldin import publish_factors  # it builds on this module's keys

    publish_factors(r, version, model)  # item factors etc., for people the model has not seen
    if serve:
        r.set(current_key(), version)


def _publish_bought(r, version: int, model, user_ids: list[str], item_ids: np.ndarray) -> None:
    """What each person bought (``bought``: "discover" never shows it) and the same items
    most-likely-to-be-bought-again first (``buy_again``); people with no purchase are left out."""
    seen = model.seen.tocsr()
    ranked = item_ids[_by_repeat(seen, _repeat_scores(model))].tolist()
    bought, ptr = item_ids[seen.indices].tolist(), seen.indptr.tolist()
    for start in range(0, len(user_ids), BATCH):
        mapping, again = {}, {}
        for u in range(start, min(start + BATCH, len(user_ids))):
            lo, hi = ptr[u], ptr[u + 1]
            if hi > lo:
                mapping[user_ids[u]] = ",".join(bought[lo:hi])
                again[user_ids[u]] = ",".join(ranked[lo:hi])
        if mapping:
            r.hset(key(version, "bought"), mapping=mapping)
            r.hset(key(version, "buy_again"), mapping=again)


def _personal(model, users: np.ndarray, top_n: int) -> dict[str, np.ndarray]:
    """The "for you" and "discover" top-N of known ``users``. When "for you" blends the
    "discover" ranker (the usual choice), its scores are computed once for both lists."""
    for_you, discover = model.rankers["for_you"], model.rankers["discover"]
    if not (isinstance(for_you, Blend) and for_you.params["discovery"] == spec(discover)):
        return {"for_you": model.recommend(users, top_n)[0], "discover": model.recommend(users, top_n, True)[0]}
    d = discover.score(users)
    seen = rows(model.seen, users)
    found, _scores, edge = topk_edge(d, top_n, discover.tiebreak, seen)
    ranked, mine = np.full(found.shape, -1, dtype=np.int64), np.zeros(len(users), dtype=bool)
    if float(for_you.params["w"]) >= 1.0 and hasattr(for_you.repeat, "score_sparse"):
        ranked, mine = _for_you_among(for_you, d, users, seen, found, edge)
    if not mine.all():
        rest = ~mine
        ranked[rest] = topk(for_you.score(users[rest], discovery_scores=d[rest]), top_n, for_you.tiebreak)[0]
    return {"for_you": ranked, "discover": found}


def _for_you_among(for_you, d, users, seen, found, edge):
    """The "for you" lists of a blend that puts the person's purchases first (``w`` 1: discovery
    only fills the list), ranked among the few items that can make them: what they bought,
    what the repeat model scores, and their "discover" list. The blend scores an item
    outside those at most as it scores the lowest of that list (both rank by the same
    discovery scores), so :func:`topk_among` can tell per person whether the short
    ranking is the full one; (lists, which people it settled). The scores are computed
    as ``Blend.score`` computes them, operation for operation."""
    n, n_items = d.shape
    mx = np.maximum(d.max(axis=1), 0)
    scale = np.where(mx > 0, mx, 1.0)  # normalise_rows's divisor
    r = normalise_sparse_rows(for_you.repeat.score_sparse(users))
    s = seen.tocoo()
    listed = np.flatnonzero(found.ravel() >= 0)
    keys = np.unique(np.concatenate([r.row.astype(np.int64) * n_items + r.col, s.row.astype(np.int64) * n_items + s.col,
                                     listed // found.shape[1] * n_items + found.ravel()[listed]]))
    row, col = keys // n_items, keys % n_items
    vals = np.maximum(d[row, col], 0.0)
    vals /= scale[row]
    vals *= FILL
    vals[np.searchsorted(keys, r.row.astype(np.int64) * n_items + r.col)] += r.data
    counts = np.bincount(row, minlength=n)
    width = int(counts.max()) if n else 0
    at = np.arange(len(keys)) - np.repeat(np.cumsum(counts) - counts, counts)
    values = np.full((n, width), -np.inf, dtype=vals.dtype)
    columns = np.zeros((n, width), dtype=np.int64)
    values[row, at], columns[row, at] = vals, col
    # Every unlisted item scores below the last "discover" pick (a settled row) or is bought.
    low = np.where(found >= 0, np.take_along_axis(d, np.maximum(found, 0), axis=1), np.inf).min(axis=1)
    below = np.maximum(low, 0.0).astype(d.dtype)
    below /= scale
    below *= FILL
    below[~edge] = np.inf
    return topk_among(values, columns, found.shape[1], for_you.tiebreak, below)


def _publish_rows(r, name: str, keys, item_ids: np.ndarray, S, top_n: int | None) -> None:
    """Row ``i`` of the sparse ``S`` (best first, at most ``top_n``) as ``keys[i]`` in hash ``name``;
    empty rows are left out."""
    S = S.tocsr()
    ptr = S.indptr.tolist()
    order = slice(None)
    if top_n is not None:  # every row best first at once, ties in stored order (as neighbours_of)
        order = np.lexsort((-S.data, np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))))
    names = item_ids[S.indices[order]].tolist()
    most = len(names) if top_n is None else top_n
    for start in range(0, len(keys), BATCH):
        mapping = {}
        for i in range(start, min(start + BATCH, len(keys))):
            lo, hi = ptr[i], ptr[i + 1]
            if hi > lo:
                mapping[keys[i]] = ",".join(names[lo:min(hi, lo + most)])
        if mapping:
            r.hset(name, mapping=mapping)
