"""System checks for the ``RECOMMENDER_*`` settings of real-time serving and of the serving
rules: a typo is reported by ``manage.py check`` (and at start-up), not found later by a
shopper's empty slot."""

from __future__ import annotations

from decimal import Decimal

from django.core.checks import Error, register

from recommender.defaults import DEFAULTS, setting

POSITIVE_INTEGERS = ("RECOMMENDER_RECENT_ITEMS", "RECOMMENDER_RECENT_TTL_SECONDS", "RECOMMENDER_SESSION_ITEMS")


def _error(name: str, message: str) -> Error:
    return Error(f"{name} {message}", hint=f"The default is {DEFAULTS[name]!r}.",
                 id=f"recommender.E{list(DEFAULTS).index(name) + 1:03d}")


@register()
def check_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for name in POSITIVE_INTEGERS:
        value = setting(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(_error(name, f"must be an integer of at least 1, not {value!r}."))
    decay = setting("RECOMMENDER_SESSION_DECAY")
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay <= 1:
        errors.append(_error("RECOMMENDER_SESSION_DECAY", f"must be a number above 0 and at most 1, not {decay!r}."))
    ratio = setting("RECOMMENDER_UPSELL_PRICE_RATIO")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, Decimal)) or ratio <= 1:
        errors.append(_error("RECOMMENDER_UPSELL_PRICE_RATIO", f"must be a number above 1 (the highest up-sell "
                             f"price as a multiple of the product's), not {ratio!r}."))
    cap = setting("RECOMMENDER_CATEGORY_CAP")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        errors.append(_error("RECOMMENDER_CATEGORY_CAP", f"must be a whole number of items (0 or None: no cap), "
                             f"not {cap!r}."))
    days = setting("RECOMMENDER_SEARCH_EVERY_DAYS")
    if isinstance(days, bool) or not isinstance(days, (int, float)) or days < 0:
        errors.append(_error("RECOMMENDER_SEARCH_EVERY_DAYS", f"must be a number of days of at least 0 (0: every "
                             f"retrain searches), not {days!r}."))
    for name in ("RECOMMENDER_SEARCH_ON_GROWTH", "RECOMMENDER_SEARCH_ON_DROP"):
        share = setting(name)
        if isinstance(share, bool) or not isinstance(share, (int, float)) or share < 0:
            errors.append(_error(name, f"must be a share of at least 0 (0.25: 25 %), not {share!r}."))
    if setting("RECOMMENDER_SLOT_RENDERING") not in ("inline", "deferred"):
        errors.append(_error("RECOMMENDER_SLOT_RENDERING", f"must be \"inline\" or \"deferred\", not "
                             f"{setting('RECOMMENDER_SLOT_RENDERING')!r}."))
    if not isinstance(setting("RECOMMENDER_REPEATABLE_DEFAULT"), bool):
        errors.append(_error("RECOMMENDER_REPEATABLE_DEFAULT", "must be True or False (False: products of "
                             "classes without a repeat-purchase policy are bought once)."))
    return errors
