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
    for path in setting("ECRM_ERASURE_HOOKS"):
        try:
            if not callable(import_string(path)):
                raise ImportError(f"{path} is not a function")
        except ImportError as exc:  # an erasure must not find out at the last moment
            return [Error(f"ECRM_ERASURE_HOOKS: {exc}", hint="Dotted paths to functions "
                          "f(*, person_keys, anonymous_ids).", id="ecrm.E002")]
    return []
