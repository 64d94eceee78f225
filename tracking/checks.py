"""System checks for the ``TRACKING_*`` settings: a typo is reported by ``manage.py check``
(and at start-up) with what a good value looks like, not found later by a consumer."""

from __future__ import annotations

import re

from django.core.checks import Error, register

from tracking.defaults import DEFAULTS, setting

POSITIVE_INTEGERS = ("TRACKING_WRITE_KEY_CACHE_SECONDS", "TRACKING_STREAM_SHARDS",
                     "TRACKING_MAX_EVENT_BYTES", "TRACKING_MAX_BATCH_BYTES",
                     "TRACKING_MAX_FUTURE_SKEW_SECONDS", "TRACKING_CONSUMER_BATCH",
                     "TRACKING_CLAIM_IDLE_MS", "TRACKING_RETENTION_DAYS")
NAMES = ("TRACKING_STREAM", "TRACKING_CONSUMER_GROUP", "TRACKING_ANONYMOUS_COOKIE",
         "TRACKING_SESSION_COOKIE", "TRACKING_CONSENT_COOKIE")


def _error(name: str, message: str) -> Error:
    return Error(f"{name} {message}", hint=f"The default is {DEFAULTS[name]!r}.",
                 id=f"tracking.E{list(DEFAULTS).index(name) + 1:03d}")


@register()
def check_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    for name in POSITIVE_INTEGERS:
        value = setting(name)
        minimum = 0 if name == "TRACKING_WRITE_KEY_CACHE_SECONDS" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            errors.append(_error(name, f"must be an integer of at least {minimum}, not {value!r}."))
    for name in NAMES:
        value = setting(name)
        if not isinstance(value, str) or not value or any(c.isspace() for c in value):
            errors.append(_error(name, f"must be a non-empty name without spaces, not {value!r}."))
    if not isinstance(setting("TRACKING_REQUIRE_CONSENT"), bool):
        errors.append(_error("TRACKING_REQUIRE_CONSENT", "must be True or False."))
    try:
        re.compile(setting("TRACKING_BOT_USER_AGENTS"))
    except (re.error, TypeError) as exc:
        errors.append(_error("TRACKING_BOT_USER_AGENTS", f"is not a regular expression: {exc}."))
    domains = setting("TRACKING_OWN_DOMAINS")
    if domains is not None and (isinstance(domains, str) or not all(
            isinstance(domain, str) for domain in domains)):
        errors.append(_error("TRACKING_OWN_DOMAINS", "must be None or a list of host names."))
    if setting("TRACKING_MAX_BATCH_BYTES") < setting("TRACKING_MAX_EVENT_BYTES"):
        errors.append(_error("TRACKING_MAX_BATCH_BYTES", "must not be smaller than TRACKING_MAX_EVENT_BYTES."))
    return errors
