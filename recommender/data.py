"""Interactions: loading, validation, id mapping, and the sparse matrices models train on.

Everything downstream works on integer user/item indices and scipy.sparse
matrices; this module is the only place that knows about string ids, CSV
files and event names. Purchases keep their timestamps because next-basket
evaluation and "buy again" need baskets and recency, not just counts.
"""

from __future__ import annotations

import csv
import sys
from array import array
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recommender.errors import InputError

REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp", "event")
DAY = 86400.0
#: Parsed timestamps remembered while reading a CSV (dates repeat; seconds mostly do not).
TIMESTAMP_CACHE = 100_000


def parse_timestamp(text: str) -> float:
    """ISO 8601 to POSIX seconds; naive times are taken as UTC."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


@dataclass
class Interactions:
    """One row per event, ids mapped to dense indices.

    ``user_ids``/``item_ids`` are the index -> external id maps and are kept
    whole by :meth:`subset`, so a split shares one index space with the full
    data (a model trained on the split can be scored against held-out rows).
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    users: np.ndarray
    items: np.ndarray
    times: np.ndarray
    events: np.ndarray  # canonical event name per row (object array)
    weights: np.ndarray
    item_category: np.ndarray | None = None  # per item, "" when unknown
    meta: dict = field(default_factory=dict)
    #: Per item text and attributes (``recommender.items.ItemFeatures``), for the content
    #: model; None when only interactions are known.
    item_features: object = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.users)

    def event_is(self, name: str) -> np.ndarray:
        """Rows whose event is ``name`` (read-only). Remembered per name: comparing a
        million event names costs about 15 ms, and training asks for purchases a dozen
        times (splits, matrices, models, item lists)."""
        masks = self.__dict__.setdefault("_event_masks", {})
        if name not in masks:
            masks[name] = self.events == name
            masks[name].flags.writeable = False
        return masks[name]

    @property
    def is_purchase(self) -> np.ndarray:
        return self.event_is("purchase")

    @property
    def is_return(self) -> np.ndarray:
        return self.event_is("return")

    def subset(self, mask: np.ndarray) -> "Interactions":
        out = Interactions(
            self.user_ids, self.item_ids, self.users[mask], self.items[mask], self.times[mask],
            self.events[mask], self.weights[mask], self.item_category, dict(self.meta), self.item_features,
        )
        for name, known in self.__dict__.get("_event_masks", {}).items():  # sliced, not compared again
            sliced = out.__dict__.setdefault("_event_masks", {})[name] = known[mask]
            sliced.flags.writeable = False
        return out

    @classmethod
    def from_records(cls, users, items, times, events, config: dict, categories=None) -> "Interactions":
        """Build from parallel sequences (external ids, POSIX seconds, event names).

        This is the entry point for the Django side as well as for the CSV loader.
        """
        if len(users) == 0:
            raise InputError("the dataset is empty (no interactions)")
        user_ids, u_idx = np.unique(np.asarray(users, dtype=object).astype(str), return_inverse=True)
        item_ids, i_idx = np.unique(np.asarray(items, dtype=object).astype(str), return_inverse=True)
        canon, weights = map_events(events, config)
        cat = None
        if categories is not None:
            cat = np.full(len(item_ids), "", dtype=object)
            cats = np.asarray(categories, dtype=object)
            # The last category seen for an item wins (catalogues get re-filed).
            order = np.argsort(np.asarray(times, dtype=np.float64), kind="stable")
            cat[i_idx[order]] = cats[order]
        return cls(
            user_ids.astype(object), item_ids.astype(object), u_idx.astype(np.int32), i_idx.astype(np.int32),
            np.asarray(times, dtype=np.float64), canon, weights, cat,
        )


def map_events(events, config: dict) -> tuple[np.ndarray, np.ndarray]:
    """Canonical event names (aliases resolved) and their configured weights."""
    ev = np.asarray(events, dtype=object)
    names, inv = np.unique(ev.astype(str), return_inverse=True)
    aliases = config["event_aliases"]
    table = config["event_weights"]
    canon_names = np.array([aliases.get(n, n) for n in names], dtype=object)
    w = np.array([float(table.get(c, config["other_event_weight"])) for c in canon_names], dtype=np.float32)
    return canon_names[inv], w[inv]


@contextmanager
def csv_with_columns(path: str | Path, kind: str, required: tuple[str, ...]):
    """Open a CSV file (a byte-order mark is fine) and yield ``(path, header, reader)`` once it
    is known to exist, to have a header and to have the ``required`` columns; otherwise an
    InputError naming the file (``kind``: what the file is, for the message)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{kind} file not found: {p}")
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise InputError(f"{p}: the file is empty (no header, no rows)")
        header = [h.strip() for h in header]
        missing = [c for c in required if c not in header]
        if missing:
            label = "column" if len(required) == 1 else "column(s)"
            raise InputError(f"{p}: missing {label} {', '.join(missing)} (have: {', '.join(header)})")
        yield p, header, reader


def load_csv(path: str | Path, config: dict, progress=None) -> Interactions:
    """Read ``user_id,item_id,timestamp,event[,category]``, failing with a clear message."""
    # Ids are interned while reading (dicts, integer arrays), not collected as
    # strings: tens of millions of rows stay within memory and load in one pass.
    uidx: dict[str, int] = {}
    iidx: dict[str, int] = {}
    eidx: dict[str, int] = {}
    cidx: dict[str, int] = {}
    users, items, stamps, events, cats = array("l"), array("l"), array("d"), array("l"), array("l")
    cache: dict[str, float] = {}
    with csv_with_columns(path, "interactions", REQUIRED_COLUMNS) as (p, header, reader):
        iu, ii, it, ie = (header.index(c) for c in REQUIRED_COLUMNS)
        ic = header.index("category") if "category" in header else None
        width = max(iu, ii, it, ie, ic or 0) + 1
        for lineno, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < width:
                raise InputError(f"{p}: line {lineno}: expected {len(header)} fields, got {len(row)}")
            ts = row[it]
            t = cache.get(ts)
            if t is None:
                try:
                    t = parse_timestamp(ts)
                except ValueError:
                    raise InputError(f"{p}: line {lineno}: unparsable timestamp {ts!r} (want ISO 8601)") from None
                if len(cache) >= TIMESTAMP_CACHE:  # timestamps to the second hardly repeat: stay small
                    cache.clear()
                cache[ts] = t
            users.append(uidx.setdefault(row[iu], len(uidx)))
            items.append(iidx.setdefault(row[ii], len(iidx)))
            stamps.append(t)
            events.append(eidx.setdefault(row[ie].strip(), len(eidx)))
            if ic is not None:
                cats.append(cidx.setdefault(row[ic], len(cidx)))
            if progress and lineno % 1_000_000 == 0:
                progress(f"read {lineno - 1:,} rows")
    if not users:
        raise InputError(f"{p}: the dataset is empty (header but no rows)")
    ev_names = np.array(list(eidx), dtype=object)
    canon, weights = map_events(ev_names, config)
    ev = np.frombuffer(events, dtype=np.int64) if events.itemsize == 8 else np.array(events, dtype=np.int64)
    times = np.frombuffer(stamps, dtype=np.float64).copy()
    u = np.array(users, dtype=np.int32)
    i = np.array(items, dtype=np.int32)
    cat = None
    if ic is not None:
        cat_names = np.array(list(cidx), dtype=object)
        c = np.array(cats, dtype=np.int64)
        cat = np.full(len(iidx), "", dtype=object)
        order = np.argsort(times, kind="stable")  # the last category seen for an item wins
        cat[i[order]] = cat_names[c[order]]
    inter = Interactions(np.array(list(uidx), dtype=object), np.array(list(iidx), dtype=object), u, i, times,
                         canon[ev], weights[ev], cat)
    inter.meta["source"] = str(p)
    return inter


def decay(times: np.ndarray, now: float, half_life_days: float | None) -> np.ndarray:
    """Exponential decay factor per event: 1 at ``now``, 0.5 one half-life earlier."""
    if not half_life_days:
        return np.ones(len(times), dtype=np.float64)
    age = np.maximum(now - times, 0.0) / DAY
    return np.power(0.5, age / float(half_life_days))


def _matrix(u, i, v, shape) -> sp.csr_matrix:
    m = sp.csr_matrix((v.astype(np.float32), (u, i)), shape=shape)
    m.sum_duplicates()
    return m


def interaction_matrix(inter: Interactions, now: float | None = None, half_life_days=None) -> sp.csr_matrix:
    """Users x items interest: decayed sum of event weights, negatives cancel, floored at 0."""
    now = inter.times.max() if now is None and len(inter) else now
    v = inter.weights * decay(inter.times, now, half_life_days)
    m = _matrix(inter.users, inter.items, v, (inter.n_users, inter.n_items))
    m.data = np.maximum(m.data, 0.0)
    m.eliminate_zeros()
    return m


def purchase_matrix(inter: Interactions, now: float | None = None, half_life_days=None) -> sp.csr_matrix:
    """Users x items purchase counts (returns subtract), optionally time-decayed.

    Purchases are counted once per basket (user, item, day) so that an order
    file with one row per unit does not inflate counts.
    """
    mask = inter.is_purchase | inter.is_return
    if not mask.any():
        return sp.csr_matrix((inter.n_users, inter.n_items), dtype=np.float32)
    u, i, t = inter.users[mask], inter.items[mask], inter.times[mask]
    sign = np.where(inter.is_purchase[mask], 1.0, -1.0)
    day = np.floor(t / DAY).astype(np.int64)
    day -= day.min()
    key = ((u.astype(np.int64) * inter.n_items + i) * (int(day.max()) + 1) + day) * 2 + (sign > 0)
    _, first = np.unique(key, return_index=True)
    u, i, t, sign = u[first], i[first], t[first], sign[first]
    now = inter.times.max() if now is None else now
    m = _matrix(u, i, sign * decay(t, now, half_life_days), (inter.n_users, inter.n_items))
    m.data = np.maximum(m.data, 0.0)
    m.eliminate_zeros()
    return m


def has_purchases(inter: Interactions) -> bool:
    return bool(inter.is_purchase.any())


@dataclass
class TrainData:
    """What every model's ``fit`` receives: matrices plus the raw events behind them.

    ``X`` is the weighted interaction matrix (all events), ``P`` the purchase
    count matrix (falls back to ``X`` when there are no purchases at all, e.g.
    view-only tracking data), ``seen`` the binary "already bought" matrix used
    for exclusion, ``now`` the reference time for decay.
    """

    inter: Interactions
    X: sp.csr_matrix
    P: sp.csr_matrix
    now: float
    config: dict

    @classmethod
    def build(cls, inter: Interactions, config: dict) -> "TrainData":
        now = float(inter.times.max())
        X = interaction_matrix(inter, now, config.get("half_life_days"))
        P = purchase_matrix(inter, now) if has_purchases(inter) else X.copy()
        return cls(inter, X, P, now, config)

    @property
    def n_users(self) -> int:
        return self.inter.n_users

    @property
    def n_items(self) -> int:
        return self.inter.n_items

    @property
    def seen(self) -> sp.csr_matrix:
        s = self.P.copy()
        s.data[:] = 1.0
        return s


def stderr_progress(msg: str) -> None:
    print(f"[recommender] {msg}", file=sys.stderr, flush=True)
