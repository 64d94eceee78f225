"""Deterministic synthetic shop data for tests and the ``evaluate`` demo.

Customers have category affinities and style tastes, each has a few staple
consumables they rebuy, items have Zipf-like popularity and a yearly
seasonal phase. Around every order there are views, basket adds, some
removals and the odd return, so the full event pipeline is exercised. It is
a plausibility check, not evidence about real stores.

The catalogue (``item_catalogue``) describes the same items as a shop would:
a title and description, the category, a brand (each style has its own
brands, as real brands have their clientele), a material that leans on the
style, and colour and size that carry no taste at all.

    python -m recommender.synthetic OUT.csv [--users N] [--items N] [--seed S] [--items-csv ITEMS.csv]
"""

from __future__ import annotations

import argparse
import csv
from datetime import datetime, timedelta, timezone

import numpy as np

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


NOUNS = ["mug", "kettle", "towel", "lamp", "candle", "shirt", "sock", "soap", "tea", "coffee", "pan",
         "knife", "bowl", "scarf", "boot", "jacket", "pillow", "blanket", "shampoo", "pasta", "sauce",
         "notebook", "pen", "bag"]
ADJECTIVES = ["classic", "modern", "organic", "compact", "deluxe", "everyday", "handmade", "light"]
MATERIALS = ["cotton", "steel", "ceramic", "bamboo", "wool", "glass", "leather", "linen"]
COLOURS = ["red", "blue", "green", "black", "white", "grey"]
SIZES = ["S", "M", "L"]


def _items(rng, n_items: int, n_categories: int, n_styles: int):
    """Latent item structure: category, style, popularity, consumable, seasonality."""
    cat = rng.integers(0, n_categories, n_items)
    style = rng.integers(0, n_styles, n_items)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    rng.shuffle(pop)
    consumable = rng.random(n_items) < 0.35
    phase = rng.random(n_items) * 2 * np.pi
    seasonal_amp = np.where(rng.random(n_items) < 0.3, 0.8, 0.0)
    return cat, style, pop, consumable, phase, seasonal_amp


def item_catalogue(n_items: int = 800, n_categories: int = 12, n_styles: int = 6, seed: int = 0) -> list[dict]:
    """The catalogue of ``generate(..., seed=seed)``'s items: rows for ``recommender.items``."""
    cat, style, _pop, consumable, _phase, _amp = _items(np.random.default_rng(seed), n_items, n_categories,
                                                        n_styles)
    rng = np.random.default_rng([seed, 1])
    rows = []
    for i in range(n_items):
        noun = NOUNS[(cat[i] * 3 + rng.integers(0, 3)) % len(NOUNS)]
        s = int(style[i]) if rng.random() < 0.8 else int(rng.integers(0, n_styles))  # brands stray a little
        brand = f"Brand{s}{'ab'[rng.integers(0, 2)]}"
        material = MATERIALS[s % len(MATERIALS)] if rng.random() < 0.6 else str(rng.choice(MATERIALS))
        adjective = str(rng.choice(ADJECTIVES))
        rows.append({
            "item_id": f"p{i:05d}", "title": f"{brand} {adjective} {noun}",
            "description": f"A {adjective} {noun} in {material} from {brand}, "
                           f"{'for every week' if consumable[i] else 'made to last'}.",
            "category": f"c{cat[i]:02d}", "brand": brand,
            "attributes": {"material": material, "colour": str(rng.choice(COLOURS)), "size": str(rng.choice(SIZES))},
        })
    return rows


def write_items_csv(path, items: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["item_id", "title", "description", "category", "brand", "material", "colour", "size"])
        for r in items:
            a = r["attributes"]
            w.writerow([r["item_id"], r["title"], r["description"], r["category"], r["brand"],
                        a["material"], a["colour"], a["size"]])


def generate(n_users: int = 1000, n_items: int = 800, n_categories: int = 12, n_styles: int = 6,
             days: int = 365, seed: int = 0) -> list[tuple[str, str, str, str, str]]:
    """Rows ``(user_id, item_id, timestamp, event, category)``, sorted by time."""
    rows = list(iter_rows(n_users, n_items, n_categories, n_styles, days, seed))
    rows.sort(key=lambda r: (r[2], r[0]))
    return rows


def iter_rows(n_users: int = 1000, n_items: int = 800, n_categories: int = 12, n_styles: int = 6,
              days: int = 365, seed: int = 0):
    """The rows of :func:`generate`, user by user (not sorted by time): for large files."""
    rng = np.random.default_rng(seed)
    cat, style, pop, consumable, phase, seasonal_amp = _items(rng, n_items, n_categories, n_styles)
    rows: list[tuple] = []

    def emit(u, i, t, ev):
        ts = (START + timedelta(seconds=int(t))).isoformat().replace("+00:00", "Z")
        rows.append((f"u{u:05d}", f"p{i:05d}", ts, ev, f"c{cat[i]:02d}"))

    for u in range(n_users):
        aff = rng.dirichlet(np.full(n_categories, 0.3))
        taste = rng.dirichlet(np.full(n_styles, 0.5))
        base = pop * aff[cat] * taste[style]
        staple_pool = np.flatnonzero(consumable)
        sp_w = base[staple_pool] / base[staple_pool].sum()
        staples = rng.choice(staple_pool, size=min(len(staple_pool), rng.integers(2, 9)), replace=False, p=sp_w)
        p_repeat = rng.beta(3, 3)
        n_orders = 1 + rng.poisson(5)
        t = rng.random() * days * 0.5 * 86400
        bought: list[int] = []
        for _ in range(n_orders):
            if t > days * 86400:
                break
            season = 1 + seasonal_amp * np.sin(2 * np.pi * t / (365 * 86400) + phase)
            w = base * season
            w = w / w.sum()
            # What rng.choice(n_items, p=w) does, with the cumulative sum computed once per
            # order instead of once per draw (same draws, same items: much faster).
            cdf = np.cumsum(w)
            cdf /= cdf[-1]
            size = 1 + rng.poisson(3)
            basket: set[int] = set()
            for _ in range(size):
                if bought and rng.random() < p_repeat:
                    pool = np.concatenate([staples, np.array(bought)])
                    basket.add(int(rng.choice(pool)))
                else:
                    basket.add(int(cdf.searchsorted(rng.random(), side="right")))
            clock = t
            for i in basket:
                for _ in range(rng.integers(1, 3)):
                    emit(u, i, clock, "view")
                    clock += rng.integers(10, 120)
                emit(u, i, clock, "add_to_basket")
                clock += rng.integers(10, 60)
            for _ in range(rng.integers(0, 4)):
                j = int(cdf.searchsorted(rng.random(), side="right"))
                emit(u, j, clock, "view")
                clock += rng.integers(10, 60)
                if rng.random() < 0.2:
                    emit(u, j, clock, "add_to_basket")
                    emit(u, j, clock + 30, "remove")
                    clock += 60
            clock += 60
            for i in sorted(basket):
                emit(u, i, clock, "purchase")
                if rng.random() < 0.03:
                    emit(u, i, clock + 86400 * 3, "return")
            bought.extend(basket)
            t = clock + rng.exponential(30) * 86400 + 86400
        yield from rows
        rows.clear()


def write_csv(path, rows, with_category: bool = True) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["user_id", "item_id", "timestamp", "event"] + (["category"] if with_category else []))
        for r in rows:
            w.writerow(r if with_category else r[:4])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--items", type=int, default=800)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--purchases-only", action="store_true", help="keep only purchase rows (order data)")
    ap.add_argument("--items-csv", help="also write the items' catalogue (title, description, ...) here")
    a = ap.parse_args(argv)
    if a.items_csv:
        write_items_csv(a.items_csv, item_catalogue(a.items, seed=a.seed))
    rows = generate(a.users, a.items, seed=a.seed)
    if a.purchases_only:
        rows = [r for r in rows if r[3] == "purchase"]
    write_csv(a.out, rows)


if __name__ == "__main__":
    main()
