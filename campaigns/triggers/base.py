"""The contract between trigger kinds and the flow engine.

A trigger is a set-based query: given its settings (the marketer's values merged over the
defaults of its ``params``) and a moment ``now``, it yields a ``Due`` for every customer for
whom the condition holds at ``now``. It is evaluated on every tick (and by ``campaigns_tick
--now``), so it must be cheap over 100,000 profiles (a few SQL queries, no per-customer
query) and must not depend on having run before: the flow engine makes a re-found ``Due``
one enrolment through the unique (flow, person_key, window).

``window`` is what makes two firings the same or different: the basket id for an abandoned
basket (a new basket is a new firing), the year for a birthday, the order number for a
post-purchase message, ``segment-id:joined-at`` for a segment entry.

``Due.context`` carries ids only (JSON): the flow engine stores it on the enrolment and
passes it to every message of the flow, whose rendering turns the well-known ids into
objects for the templates: ``basket_id`` -> ``basket``, ``order_id`` -> ``order``,
``product_ids`` -> ``products`` (in that order), ``category_id`` -> ``category``,
``segment_id`` -> ``segment``, ``occasion_id`` -> ``occasion``; every marketing message also
gets ``customer`` (the ecrm Profile), ``recommendations`` (the recommender's e-mail block for
the person, seeded with ``products``) and, after a voucher step, ``voucher``.

``flow_template`` is the ready flow a marketer starts from: a list of steps, each a dict
``{"wait_hours": float, "action": ..., ...}`` where the wait counts from the previous step
(from ``Due.at``, else the enrolment, for the first) and ``action`` is one of
``"email"`` (``template``: an Oscar communication event type code, or ``design:<slug>``),
``"sms"`` (``text``: a Django template string), ``"voucher"`` (``percent`` or ``amount``,
``valid_days``), ``"tag"`` (``add`` or ``remove``: a tag name), ``"webhook"`` (``url``).
``exits`` names the conditions that take a customer out of the flow at once
(``"order_placed"``, ``"unsubscribed"``, ``"left_segment"``, ``"basket_emptied"``,
``"product_added"``).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Due:
    person_key: str          # ecrm's person key (user id or "email:<address>")
    window: str              # what makes a re-fire the same firing (see the module docstring)
    context: dict = field(default_factory=dict)  # JSON-able ids for templates and conditions
    at: datetime | None = None  # when the condition became true (delays may count from it)


@dataclass(frozen=True)
class Param:
    """One setting a marketer adjusts for a trigger (rendered as a form field)."""
    name: str
    label: str
    kind: str                # "int", "float", "str", "bool", "choice", "segment", "product_class"
    default: Any = None
    help: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()

    def clean(self, value):
        if value in (None, ""):
            value = self.default
        try:
            if self.kind == "int":
                value = int(value)
            elif self.kind == "float":
                value = float(value)
            elif self.kind == "bool":
                value = value in (True, "true", "True", "on", "1", 1)
            elif self.kind == "choice" and value not in [c[0] for c in self.choices]:
                raise ValueError(f"choose one of {', '.join(str(c[0]) for c in self.choices)}")
            elif self.kind in RECORDS:
                value = _record_id(self.kind, value)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{self.label}: {exc}") from None
        if self.min is not None and value is not None and value < self.min:
            raise ValidationError(f"{self.label}: at least {self.min}")
        if self.max is not None and value is not None and value > self.max:
            raise ValidationError(f"{self.label}: at most {self.max}")
        return value


# Param kinds naming a record: (app label, model) that must hold the id.
RECORDS = {"segment": ("ecrm", "Segment"), "product_class": ("catalogue", "ProductClass")}


def _record_id(kind: str, value) -> int:
    """The id of an existing record of ``kind``; ValueError (so the label is added) if not."""
    from django.apps import apps

    if value in (None, ""):
        raise ValueError(f"choose a {kind.replace('_', ' ')}")
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a {kind.replace('_', ' ')} id") from None
    if not apps.get_model(*RECORDS[kind]).objects.filter(pk=value).exists():
        raise ValueError(f"there is no {kind.replace('_', ' ')} with id {value}")
    return value


@dataclass(frozen=True)
class Trigger:
    kind: str                # stable code stored on the flow, e.g. "abandoned_basket"
    label: str               # "Abandoned basket"
    description: str         # one sentence for the marketer
    params: tuple[Param, ...]
    find: Callable[[dict, datetime], Iterable[Due]]
    topic: str = "offers"    # the default consent topic of flows started by it
    transactional: bool = False
    flow_template: tuple[dict, ...] = ()
    exits: tuple[str, ...] = ("order_placed", "unsubscribed")

    def settings_clean(self, values: dict | None) -> dict:
        """The settings with defaults filled in and types checked; ValidationError names the field."""
        values = values or {}
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            raise ValidationError(f"unknown setting(s) for {self.label}: {', '.join(sorted(unknown))}")
        return {p.name: p.clean(values.get(p.name)) for p in self.params}

    def due(self, values: dict | None, now: datetime) -> Iterable[Due]:
        return self.find(self.settings_clean(values), now)


_REGISTRY: dict[str, Trigger] = {}
_MODULE_OF: dict[str, str] = {}  # kind -> the module that registered it


def register(trigger: Trigger) -> Trigger:
    """Called at import by a trigger module. The kind counts only while its module is listed in
    CAMPAIGNS_TRIGGER_MODULES (so a store, or a test, switches kinds on and off by the setting)."""
    if trigger.kind in _REGISTRY and _REGISTRY[trigger.kind] is not trigger:
        raise ValueError(f"trigger kind {trigger.kind!r} registered twice")
    _REGISTRY[trigger.kind] = trigger
    _MODULE_OF[trigger.kind] = sys._getframe(1).f_globals.get("__name__", "")
    return trigger


def trigger_modules_load() -> list[str]:
    """Import every module of CAMPAIGNS_TRIGGER_MODULES (each registers its triggers); the list."""
    from campaigns.defaults import setting

    modules = list(setting("CAMPAIGNS_TRIGGER_MODULES"))
    for path in modules:
        importlib.import_module(path)
    return modules


def _enabled() -> dict[str, Trigger]:
    modules = set(trigger_modules_load())
    return {kind: trigger for kind, trigger in _REGISTRY.items() if _MODULE_OF.get(kind) in modules}


def trigger_get(kind: str) -> Trigger:
    try:
        return _enabled()[kind]
    except KeyError:
        raise LookupError(f"no trigger kind {kind!r}") from None


def triggers_all() -> list[Trigger]:
    return sorted(_enabled().values(), key=lambda t: t.label)
