"""Every ``TRACKING_*`` setting with its one default. Read them through ``setting()``."""

from django.conf import settings

DEFAULTS = {
    # How long a web process trusts its copy of a write key (revocation applies within this).
    "TRACKING_WRITE_KEY_CACHE_SECONDS": 10,
    # Redis stream that the HTTP API appends to and the consumers read.
    "TRACKING_STREAM": "tracking:events",
    # The stream is split in shards by visitor, so that consumers given different shards
    # (``tracking_consume --shards``) never handle the same visitor and keep that
    # visitor's events in order. Changing it moves visitors between shards: drain first.
    "TRACKING_STREAM_SHARDS": 4,
    "TRACKING_CONSUMER_GROUP": "tracking-consumers",
    # Segment's limits.
    "TRACKING_MAX_EVENT_BYTES": 32 * 1024,
    "TRACKING_MAX_BATCH_BYTES": 500 * 1024,
    # A client timestamp further ahead of the server than this is refused.
    "TRACKING_MAX_FUTURE_SKEW_SECONDS": 24 * 3600,
    # How many entries a consumer takes per read, and after how long an entry
    # that a consumer took but never acknowledged is taken over by another.
    "TRACKING_CONSUMER_BATCH": 2000,  # larger batches amortise the per-batch round trips
    "TRACKING_CLAIM_IDLE_MS": 30_000,
    # First-party cookies shared by the server and the browser tracker.
    "TRACKING_ANONYMOUS_COOKIE": "ecrm_aid",
    "TRACKING_SESSION_COOKIE": "ecrm_sid",
    # Host names of the store itself: a referrer from one of them is a navigation inside
    # the store, not a traffic source. ``None``: the host names in ALLOWED_HOSTS (a leading
    # dot there covers subdomains, as in Django).
    "TRACKING_OWN_DOMAINS": None,
    # With consent required, no tracking cookie is set until the consent cookie says "yes".
    "TRACKING_REQUIRE_CONSENT": False,
    "TRACKING_CONSENT_COOKIE": "ecrm_consent",
    # Events older than this are deleted by ``tracking_purge``.
    "TRACKING_RETENTION_DAYS": 730,
    # User agents that are robots, not shoppers (a case-insensitive regular expression).
    "TRACKING_BOT_USER_AGENTS": (
        r"bot|crawl|spider|slurp|facebookexternalhit|headlesschrome|lighthouse|"
        r"python-requests|curl/|wget/|httpclient|monitor|pingdom|preview"
    ),
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def own_domains() -> frozenset[str]:
    """TRACKING_OWN_DOMAINS (or ALLOWED_HOSTS) as bare host names, without ``www.``."""
    hosts = setting("TRACKING_OWN_DOMAINS")
    if hosts is None:
        hosts = [host for host in settings.ALLOWED_HOSTS if host != "*"]
    return frozenset(host.lower().lstrip(".").removeprefix("www.") for host in hosts if host)
