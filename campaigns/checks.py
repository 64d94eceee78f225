"""System checks for the ``CAMPAIGNS_*`` settings."""

from __future__ import annotations

from urllib.parse import urlparse

from django.core.checks import Error, Warning, register

from campaigns.defaults import DEFAULTS, setting

POSITIVE = ("CAMPAIGNS_MAX_ATTEMPTS", "CAMPAIGNS_RETRY_BASE_SECONDS", "CAMPAIGNS_RETRY_MAX_SECONDS",
            "CAMPAIGNS_SEND_LEASE_SECONDS", "CAMPAIGNS_REQUEUE_AFTER_SECONDS", "CAMPAIGNS_FLOW_TRIGGER_SECONDS",
            "CAMPAIGNS_WEBHOOK_TIMEOUT_SECONDS", "CAMPAIGNS_ATTRIBUTION_DAYS", "CAMPAIGNS_FANOUT_CHUNK",
            "CAMPAIGNS_DELIVERY_BATCH")


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
    problems += _check_sms()
    base = urlparse(str(setting("CAMPAIGNS_BASE_URL")))
    if base.scheme not in ("http", "https") or not base.netloc:
        problems.append(_error("CAMPAIGNS_BASE_URL", f"must be an absolute URL, not {setting('CAMPAIGNS_BASE_URL')!r}."))
    return problems


def _check_sms() -> list:
    from django.utils.module_loading import import_string

    problems = []
    backend = setting("CAMPAIGNS_SMS_BACKEND")
    try:
        import_string(backend)
    except ImportError as exc:
        problems.append(_error("CAMPAIGNS_SMS_BACKEND", f"cannot be imported: {exc}."))
    if str(backend).endswith("filebased.SmsBackend") and not setting("CAMPAIGNS_SMS_FILE_PATH"):
        problems.append(_error("CAMPAIGNS_SMS_FILE_PATH",
                               "must name a folder when CAMPAIGNS_SMS_BACKEND is the file backend."))
    share = setting("CAMPAIGNS_HOLDOUT_DEFAULT")
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share < 1:
        problems.append(_error("CAMPAIGNS_HOLDOUT_DEFAULT",
                               f"must be a share from 0 to below 1 (0.1 = 10 %), not {share!r}."))
    return problems


@register(deploy=True)
def check_https_links(app_configs=None, **kwargs) -> list:
    """``check --deploy``: links in e-mails must be HTTPS in production (a local demo is not)."""
    if urlparse(str(setting("CAMPAIGNS_BASE_URL"))).scheme != "https":
        return [Warning("CAMPAIGNS_BASE_URL (SITE_URL in the reference store) is not HTTPS: RFC 8058 one-click "
                        "unsubscribe needs an https:// List-Unsubscribe URL, and mailbox providers ignore others.",
                        hint="Set SITE_URL to the store's public https:// address.", id="campaigns.W001")]
    return []


@register()
def check_sent_mail_folder(app_configs=None, **kwargs) -> list:
    """The demo's folder backend needs a folder to write to."""
    from django.conf import settings

    from campaigns.sent_mail import BACKEND

    if getattr(settings, "EMAIL_BACKEND", "") == BACKEND and not getattr(settings, "EMAIL_FILE_PATH", ""):
        return [Error(f"EMAIL_BACKEND is {BACKEND} but EMAIL_FILE_PATH is not set.",
                      hint="Set EMAIL_FILE_PATH to the folder each message is written to as an .eml file.",
                      id="campaigns.E101")]
    return []


@register()
def check_trigger_modules(app_configs=None, **kwargs) -> list:
    """Every module of CAMPAIGNS_TRIGGER_MODULES imports (and so registers its trigger kinds)."""
    import importlib

    modules = setting("CAMPAIGNS_TRIGGER_MODULES")
    if not isinstance(modules, (list, tuple)) or not all(isinstance(m, str) for m in modules):
        return [_error("CAMPAIGNS_TRIGGER_MODULES", f"must be a list of module paths, not {modules!r}.")]
    problems = []
    for path in modules:
        try:
            importlib.import_module(path)
        except Exception as exc:  # noqa: BLE001 - any import failure is the operator's to see
            problems.append(_error("CAMPAIGNS_TRIGGER_MODULES", f"lists {path!r}, which cannot be imported: {exc}"))
    return problems
