"""The shop's business rules at serving time, applied to a slot's candidates.

Whatever list a candidate comes from, it is shown only when:

* it is public and Oscar's strategy lets it be bought now (``recommender.catalogue``);
* it is not banned by a merchandiser for this slot and context, not in the basket and
  not the product the page is about;
* the person has not bought it, unless its product class can be bought again
  (``RepurchasePolicy``, else ``RECOMMENDER_REPEATABLE_DEFAULT``); ``discover`` shows
  nothing bought at all and ``buy_again`` only products that can be bought again;
* its category has fewer than ``RECOMMENDER_CATEGORY_CAP`` items in the slot already; the
  cap gives way only when too few other candidates are left to fill the slot.

A slot may *prefer* some candidates (up-sell: priced above the page's product within
``RECOMMENDER_UPSELL_PRICE_RATIO``; "trending in <category>": in that category): those
come first and the others only fill up. Merchandisers' pins go to their position ahead
of everything, exempt from preferences and the cap but not from availability, bans, the
basket or what the person bought.

Rules and policies are read once per process (two queries) and reloaded when anything
changes: a change appends ``rules`` to the catalogue's change log in Redis, which every
process follows (``recommender.catalogue.ChangeFollower``), so serving everywhere sees it
within seconds and makes no query in between.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from oscar.core.loading import get_model

from recommender.catalogue import MISSING, RESET, ChangeFollower, Entry, log_change
from recommender.defaults import setting
from recommender.models import MerchandisingRule, RepurchasePolicy

MARKER = "rules"  # the change log entry that tells every process to reload the rules


@dataclass(frozen=True)
class Context:
    """What a slot is being asked about: its name, the products it is about (the page's
    product, or the basket's for "complete your order") and their categories' tree paths."""

    slot: str
    products: frozenset[str] = frozenset()
    category_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """Where a pin or ban reaches, and when."""

    product: str
    slot: str = ""  # "": every slot
    on_product: str | None = None
    on_category: str | None = None  # a category's tree path: it and its subcategories
    position: int = 1
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def applies(self, context: Context, now: datetime) -> bool:
        return ((not self.slot or self.slot == context.slot)
                and (self.on_product is None or self.on_product in context.products)
                and (self.on_category is None
                     or any(path.startswith(self.on_category) for path in context.category_paths))
                and (self.starts_at is None or self.starts_at <= now)
                and (self.ends_at is None or now < self.ends_at))


class Rules:
    """One snapshot of the merchandisers' pins and bans and the repeat-purchase policies."""

    def __init__(self, pins: Iterable[Scope] = (), bans: Iterable[Scope] = (), repeatable: dict | None = None):
        self.pins = sorted(pins, key=lambda s: s.position)
        self.bans = list(bans)
        self.repeatable = repeatable or {}

    def pinned(self, context: Context, now: datetime) -> list[tuple[str, int]]:
        """(product id, position) of the pins that apply, first position first."""
        return [(s.product, s.position) for s in self.pins if s.applies(context, now)]

    def banned(self, context: Context, now: datetime) -> set[str]:
        return {s.product for s in self.bans if s.applies(context, now)}

    def can_repeat(self, product_class_id) -> bool:
        """May products of this class be recommended again to someone who bought them?"""
        return self.repeatable.get(product_class_id, setting("RECOMMENDER_REPEATABLE_DEFAULT"))


def load_rules() -> Rules:
    """The rules from the database; rules that have ended are left out."""
    now = timezone.now()
    pins, bans = [], []
    rows = MerchandisingRule.objects.exclude(ends_at__lte=now).values_list(
        "action", "product_id", "slot", "on_product_id", "on_category__path", "position", "starts_at", "ends_at")
    for action, product, slot, on_product, on_category, position, starts_at, ends_at in rows:
        scope = Scope(str(product), slot, str(on_product) if on_product else None, on_category or None,
                      position, starts_at, ends_at)
        (pins if action == MerchandisingRule.PIN else bans).append(scope)
    return Rules(pins, bans, dict(RepurchasePolicy.objects.values_list("product_class_id", "can_be_bought_again")))


class RulesCache:
    """The current ``Rules`` in this process, reloaded after a change anywhere."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: Rules | None = None
        self._follower = ChangeFollower()

    def current(self) -> Rules:
        with self._lock:
            changed = self._follower.poll()
            if changed is RESET or MARKER in changed:
                self._rules = None
            if self._rules is None:
                self._rules = load_rules()
            return self._rules

    def invalidate(self) -> None:
        with self._lock:
            self._rules = None

    def clear(self) -> None:
        with self._lock:
            self._rules = None
            self._follower.reset()


rules = RulesCache()


def _committed() -> None:
    log_change(MARKER)  # every process, within CHECK_SECONDS
    rules.invalidate()  # and this one again, in case it reloaded before the commit


@receiver([post_save, post_delete], sender=MerchandisingRule, dispatch_uid="recommender.merchandising_changed")
@receiver([post_save, post_delete], sender=RepurchasePolicy, dispatch_uid="recommender.repurchase_changed")
def rules_changed(sender, instance, **kwargs) -> None:
    rules.invalidate()  # this process knows at once
    transaction.on_commit(_committed)


@receiver([post_save, post_delete], sender=get_model("catalogue", "Category"), dispatch_uid="recommender.rules_category")
def category_changed(sender, instance, **kwargs) -> None:
    rules.invalidate()  # rules hold category paths; other processes reload on the log's "*"


def pick(candidates: Iterable[tuple[str, str]], entries: dict[str, Entry], *, k: int, rules: Rules,
         context: Context, excluded: set[str] = frozenset(), bought: set[str] = frozenset(),
         exclude_bought: bool = False, repeatable_only: bool = False,
         prefer: Callable[[Entry, str], bool] | None = None, cap: int | None = None,
         now: datetime | None = None) -> list[tuple[Entry, str]]:
    """Up to ``k`` (entry, source) from ``candidates`` ((product id, source list) in rank
    order) and the pins, under the rules above. ``entries`` must know every candidate and
    pinned id (``rules.pinned``); ``excluded``: the basket and the page's product."""
    now = now or timezone.now()
    banned = rules.banned(context, now)

    def allowed(item: str) -> Entry | None:
        entry = entries.get(item, MISSING)
        if entry.product is None or not entry.available or item in excluded or item in banned:
            return None
        if item in bought and (exclude_bought or not rules.can_repeat(entry.product_class_id)):
            return None
        return entry

    pins, pinned = [], set()
    for item, position in rules.pinned(context, now):
        entry = allowed(item)
        if entry is not None and item not in pinned:
            pins.append((position, entry))
            pinned.add(item)
    ordered = [(item, source) for item, source in candidates if item not in pinned]
    if prefer is not None:
        first = [prefer(entries.get(item, MISSING), source) for item, source in ordered]
        ordered = [c for c, f in zip(ordered, first) if f] + [c for c, f in zip(ordered, first) if not f]
    counts = Counter(entry.category for _position, entry in pins if entry.category)
    wanted = k - len(pins)
    chosen, over_cap, seen = [], [], set()
    for item, source in ordered:
        if len(chosen) >= wanted:
            break
        if item in seen:
            continue
        seen.add(item)
        entry = allowed(item)
        if entry is None or (repeatable_only and not rules.can_repeat(entry.product_class_id)):
            continue
        if cap and entry.category and counts[entry.category] >= cap:
            over_cap.append((entry, source))
            continue
        counts[entry.category] += 1
        chosen.append((entry, source))
    chosen += over_cap[:max(0, wanted - len(chosen))]  # the cap gives way rather than leave gaps
    at = -1
    for position, entry in pins:  # by position; pins sharing one keep their order
        at = max(min(position - 1, len(chosen)), at + 1)
        chosen.insert(at, (entry, "pinned"))
    return chosen[:k]
