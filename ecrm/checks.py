"""System checks for the ``ECRM_*`` settings."""

from __future__ import annotations

import re

from django.core.checks import Error, register
from django.utils.module_loading import import_string

from ecrm.defaults import DEFAULTS, setting


@register()
def check_settings(app_configs=None, **kwargs) -> list[Error]:
    topics = setting("ECRM_CONSENT_TOPICS")
    valid = isinstance(topics, (list, tuple)) and topics and all(
        isinstance(t, (list, tuple)) and len(t) == 2 and isinstance(t[0], str)
        and re.fullmatch(r"[a-z0-9_-]{1,50}", t[0]) and t[0] != "all" and isinstance(t[1], str) for t in topics)
    if not valid:
        return [Error("ECRM_CONSENT_TOPICS must be a non-empty list of (slug, label) pairs; slugs are "
                      "lower-case letters, digits, - or _ (and not 'all').",
                      hint=f"The default is {DEFAULTS['ECRM_CONSENT_TOPICS']!r}.", id="ecrm.E001")]
    for path in setting("ECRM_PERSONAL_DATA"):
        try:
            provider = import_string(path)
            missing = [name for name in ("export", "plan", "erase") if not callable(getattr(provider, name, None))]
            if missing:
                raise ImportError(f"{path} has no {', '.join(missing)}")
        except ImportError as exc:  # an export or erasure must not find out at the last moment
            return [Error(f"ECRM_PERSONAL_DATA: {exc}", hint="Dotted paths to objects with export(person), "
                          "plan(person), erase(person) and optionally forget(person).", id="ecrm.E002")]
    return []


@register()
def check_report_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    bands = setting("ECRM_PRICE_BANDS")
    if not (isinstance(bands, (list, tuple)) and bands and all(
            isinstance(b, (int, float)) and not isinstance(b, bool) and b > 0 for b in bands)
            and list(bands) == sorted(set(bands))):
        errors.append(Error("ECRM_PRICE_BANDS must be a non-empty list of increasing positive prices.",
                            hint=f"The default is {DEFAULTS['ECRM_PRICE_BANDS']!r}.", id="ecrm.E002"))
    for name, low, high in (("ECRM_DIGEST_SEND_HOUR", 0, 23), ("ECRM_DIGEST_DEFAULT_WEEKDAY", 0, 6)):
        value = setting(name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors.append(Error(f"{name} must be a whole number from {low} to {high}.",
                                hint=f"The default is {DEFAULTS[name]!r}.", id="ecrm.E003"))
    site = setting("ECRM_SITE_URL")
    if not isinstance(site, str) or (site and not site.startswith(("http://", "https://"))):
        errors.append(Error("ECRM_SITE_URL must be empty or start with http:// or https://.", id="ecrm.E004"))
    return errors
