"""Training configuration: one flat dict of defaults, overridable from a JSON file.

A flat, JSON-serialisable dict (rather than a class hierarchy) so the exact
values used for a model can be written into its ``model.json`` and read back
by the shop without importing anything but the standard library.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from recommender.errors import InputError

#: Canonical event names and how strongly each counts as evidence of interest.
#: Negative weights are removals: a removal from the basket or a return cancels
#: part of the positive evidence that came before it.
DEFAULT_EVENT_WEIGHTS = {
    "view": 1.0,
    "add_to_basket": 3.0,
    "purchase": 5.0,
    "remove": -2.0,
    "return": -5.0,
}

#: Tracking (Segment-style) event names mapped to the canonical ones, so a
#: CSV exported from the tracking app can be trained on unchanged.
DEFAULT_EVENT_ALIASES = {
    "Product Viewed": "view",
    "Product Clicked": "view",
    "Product Added": "add_to_basket",
    "Product Removed": "remove",
    "Order Completed": "purchase",
    "Order Refunded": "return",
}

DEFAULTS: dict = {
    "event_weights": DEFAULT_EVENT_WEIGHTS,
    "event_aliases": DEFAULT_EVENT_ALIASES,
    # Weight for event names that are neither canonical nor aliased.
    "other_event_weight": 0.5,
    # Half-life of interaction evidence in days (None: no decay).
    "half_life_days": None,
    # Half-life for "trending" popularity.
    "trending_half_life_days": 7.0,
    # How a held-out basket is formed: purchases on the user's last purchase
    # "day" (UTC) or at exactly the last purchase "timestamp".
    "basket": "day",
    # Tuning happens on a validation split carved from the training data.
    "time_budget_seconds": 60.0,
    "k": 10,
    # Validation users are sampled to keep each candidate's evaluation cheap.
    "max_validation_users": 5000,
    # A refit (the chosen configurations of an earlier search fitted again) is measured on
    # the last basket of this many sampled customers, held out of its fit.
    "refit_holdout_users": 2000,
    # EASE inverts an items x items matrix: only the most frequent N items get
    # EASE scores (the rest are ranked by the other signals).
    "ease_max_items": 5000,
    "seed": 0,
    # Optional restriction of candidate families (None: all).
    "candidates": None,
    # Number of neighbours stored for item-to-item lists.
    "item_neighbours": 20,
    # Weights of the item feature fields in content similarity (None: recommender.items.FIELD_WEIGHTS);
    # keys: title, description, category, brand, attributes.
    "content_field_weights": None,
    # The serving version's chosen configurations ({"next": spec, "new": spec}): measured
    # on the same validation split as the candidates, for the promotion gate.
    "incumbent": None,
    # A configuration given instead of tuned ({"next": spec, "new": spec}), e.g. a candidate
    # staff train for an A/B test: it is measured on the validation split but not searched.
    "fixed": None,
}


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """Defaults, updated by a JSON object in ``path`` and then by ``overrides``."""
    cfg = copy.deepcopy(DEFAULTS)
    updates: dict = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"config file not found: {p}")
        try:
            updates = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"config file {p} is not valid JSON: {exc}") from None
        if not isinstance(updates, dict):
            raise InputError(f"config file {p} must hold a JSON object")
    updates = {**updates, **(overrides or {})}
    for key, value in updates.items():
        if key not in cfg:
            raise InputError(f"unknown config key {key!r} (known: {', '.join(sorted(cfg))})")
        if isinstance(cfg[key], dict) and isinstance(value, dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    if cfg["basket"] not in ("day", "timestamp"):
        raise InputError("config 'basket' must be 'day' or 'timestamp'")
    return cfg
