"""System checks for the ``CAMPAIGNS_*`` settings."""

from __future__ import annotations

from urllib.parse import urlparse

from django.core.checks import Error, Warning, register

from campaigns.defaults import DEFAULTS, setting

POSITIVE = ("CAMPAIGNS_MAX_ATTEMPTS", "CAMPAIGNS_RETRY_BASE_SECONDS", "CAMPAIGNS_RETRY_MAX_SECONDS",
            "CAMPAIGNS_SEND_LEASE_SECONDS", "CAMPAIGNS_REQUEUE_AFTER_SECONDS", "CAMPAIGNS_ATTRIBUTION_DAYS",
            "CAMPAIGNS_FANOUT_CHUNK", "CAMPAIGNS_DELIVERY_BATCH")


def _error(name: str, message: str) -> Error:
    return Error(f"{name} {message}", hint=f"The default is {DEFAULTS[name]!r}.",
                 id=f"campaigns.E{list(DEFAULTS).index(name) + 1:03d}")


@register()
def check_settings(app_configs=None, **kwargs) -> list:
    problems = []
    for name in POSITIVE:
        value = setting(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append(_error(name, f"must be a positive number, not {value!r}."))
    cap = setting("CAMPAIGNS_FREQUENCY_CAP_HOURS")
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or cap < 0:
        problems.append(_error("CAMPAIGNS_FREQUENCY_CAP_HOURS", f"must be a number of hours (0: no cap), not {cap!r}."))
    quiet = setting("CAMPAIGNS_QUIET_HOURS")
    if quiet is not None and not (isinstance(quiet, (list, tuple)) and len(quiet) == 2
                                  and all(isinstance(h, int) and 0 <= h <= 23 for h in quiet)):
        problems.append(_error("CAMPAIGNS_QUIET_HOURS", f"must be None or (start hour, end hour), 0-23, not {quiet!r}."))
    share = setting("CAMPAIGNS_HOLDOUT_DEFAULT")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share < 1:
        problems.append(_error("CAMPAIGNS_HOLDOUT_DEFAULT", f"must be a share from 0 to below 1 (0.1 = 10 %), not {share!r}."))
    secret = setting("CAMPAIGNS_WEBHOOK_SECRET")
    if not isinstance(secret, str) or (secret and ":" not in secret):
        problems.append(_error("CAMPAIGNS_WEBHOOK_SECRET", "must be 'user:password' (or empty to disable the webhook)."))
    urls = setting("CAMPAIGNS_CARRIER_TRACKING_URLS")
    if not isinstance(urls, dict) or not all(isinstance(k, str) and k == k.lower() and isinstance(v, str)
                                             and "{number}" in v for k, v in urls.items()):
        problems.append(_error("CAMPAIGNS_CARRIER_TRACKING_URLS",
                               "must map lower-case carrier names to URLs containing {number}."))
    base = urlparse(str(setting("CAMPAIGNS_BASE_URL")))
    if base.scheme not in ("http", "https") or not base.netloc:
        problems.append(_error("CAMPAIGNS_BASE_URL", f"must be an absolute URL, not {setting('CAMPAIGNS_BASE_URL')!r}."))
    return problems


@register(deploy=True)
def check_https_links(app_configs=None, **kwargs) -> list:
    """``check --deploy``: links in e-mails must be HTTPS in production (a local demo is not)."""
    if urlparse(str(setting("CAMPAIGNS_BASE_URL"))).scheme != "https":
        return [Warning("CAMPAIGNS_BASE_URL (SITE_URL in the reference store) is not HTTPS: RFC 8058 one-click "
                        "unsubscribe needs an https:// List-Unsubscribe URL, and mailbox providers ignore others.",
                        hint="Set SITE_URL to the store's public https:// address.", id="campaigns.W001")]
    return []
