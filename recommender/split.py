"""Temporal leave-last-basket-out split.

Next-basket prediction is judged on what a customer buys *next*, so the split
is per user and by time: a user's last purchase basket (their purchases on
their last purchase day, or at their last purchase timestamp) is held out, and
every interaction of that user from the basket's start onwards is removed from
training. Nothing the user did at or after the held-out basket can leak into
training. The validation split used for tuning is carved from the training
part the same way, so tuning sees the same kind of problem as the test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recommender.data import DAY, Interactions


@dataclass
class Split:
    train: Interactions
    users: np.ndarray  # users with a held-out basket
    targets: list  # per user: sorted unique item indices of the held-out basket
    cutoff: np.ndarray  # per user: start of the held-out basket (POSIX seconds)

    def __len__(self) -> int:
        return len(self.users)

    def sample(self, n: int, seed: int = 0) -> "Split":
        """At most ``n`` users (same training data): cheaper validation."""
        if len(self.users) <= n:
            return self
        idx = sample_index(len(self.users), n, seed)
        return Split(self.train, self.users[idx], [self.targets[j] for j in idx], self.cutoff[idx])


def sample_index(count: int, n: int, seed: int) -> np.ndarray:
    """``n`` of ``count`` positions, sorted, drawn reproducibly from ``seed``."""
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def last_basket_split(inter: Interactions, basket: str = "day", min_baskets: int = 2) -> Split:
    """Hold out each user's last basket if the user has at least ``min_baskets`` baskets.

    Users with fewer baskets stay whole in training (they still teach the
    collaborative models). Without any purchases in the data, every event
    counts as a "purchase" (view-only tracking data can still be evaluated).
    """
    users, targets, cutoff = _last_baskets(inter, basket, min_baskets)
    return _held_out(inter, users, targets, cutoff)


def _last_baskets(inter: Interactions, basket: str, min_baskets: int) -> tuple[np.ndarray, list, np.ndarray]:
    """(users with at least ``min_baskets`` baskets, their last basket's items, when it started)."""
    buy = inter.is_purchase
    if not buy.any():
        buy = np.ones(len(inter), dtype=bool)
    u, i, t = inter.users[buy], inter.items[buy], inter.times[buy]
    key = np.floor(t / DAY) if basket == "day" else t
    n_users = inter.n_users

    last = np.full(n_users, -np.inf)
    np.maximum.at(last, u, key)
    # Distinct basket keys per user (one int64 per (user, basket) pair: fast unique).
    ik = np.floor(key).astype(np.int64)
    ik -= ik.min()
    pairs = np.unique(u.astype(np.int64) * (int(ik.max()) + 1) + ik)
    n_baskets = np.bincount(pairs // (int(ik.max()) + 1), minlength=n_users)
    eligible = n_baskets >= min_baskets

    in_last = eligible[u] & (key == last[u])
    cutoff_all = np.full(n_users, np.inf)
    if basket == "day":
        cutoff_all[eligible] = last[eligible] * DAY
    else:
        cutoff_all[eligible] = last[eligible]

    tu, ti = u[in_last], i[in_last]
    order = np.lexsort((ti, tu))
    tu, ti = tu[order], ti[order]
    users, starts = np.unique(tu, return_index=True)
    targets = [np.unique(chunk) for chunk in np.split(ti, starts[1:])] if len(tu) else []
    return users.astype(np.int32), targets, cutoff_all[users]


def _held_out(inter: Interactions, users: np.ndarray, targets: list, cutoff: np.ndarray) -> Split:
    """The split holding out, for each of ``users``, everything from ``cutoff`` on."""
    cutoff_all = np.full(inter.n_users, np.inf)
    cutoff_all[users] = cutoff
    keep = inter.times < cutoff_all[inter.users]
    return Split(inter.subset(keep), users, targets, cutoff)


def new_item_targets(split: Split, seen) -> tuple[np.ndarray, list]:
    """The "new items" task: targets minus what each user had already bought.

    ``seen`` is a users x items sparse matrix of training purchases. Users left
    with no new items are dropped from this task.
    """
    users, targets = [], []
    for u, tgt in zip(split.users, split.targets):
        row = seen.indices[seen.indptr[u]:seen.indptr[u + 1]]
        new = np.setdiff1d(tgt, row, assume_unique=False)
        if len(new):
            users.append(u)
            targets.append(new)
    return np.asarray(users, dtype=np.int32), targets


def sampled_holdout(inter: Interactions, basket: str = "day", n: int = 2000, seed: int = 0) -> Split:
    """The last basket of at most ``n`` sampled customers held out, everyone else's data
    whole: the holdout a refit is measured on. Unlike :func:`last_basket_split` (tuning's,
    which holds out every eligible customer's last basket) it removes little from training,
    so the item weights fitted without it can serve (see ``Ranker.refresh``)."""
    users, targets, cutoff = _last_baskets(inter, basket, 2)
    if len(users) > n:  # as Split.sample, without first building the split of every customer
        idx = sample_index(len(users), n, seed)
        users, targets, cutoff = users[idx], [targets[j] for j in idx], cutoff[idx]
    return _held_out(inter, users, targets, cutoff)
