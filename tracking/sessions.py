"""Sessionisation and traffic sources (plain Python, no ORM).

A visitor's session ends after 30 minutes without events, or when an event
arrives from a new campaign. Each session remembers where it came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

TIMEOUT = timedelta(minutes=30)
SEARCH_ENGINES = {"google": "q", "bing": "q", "duckduckgo": "q", "yahoo": "p", "ecosia": "q",
                  "baidu": "wd", "yandex": "text"}
PAGE_LIKE_EVENTS = {"Product Viewed", "Products Searched", "Product List Viewed", "Cart Viewed"}
# Facts about a customer that are not the customer visiting (staff ship an order).
NOT_VISITS = {"Order Updated", "Order Cancelled", "Order Refunded"}


@dataclass(frozen=True)
class Source:
    source: str
    medium: str
    campaign: str = ""
    referrer_domain: str = ""
    search_terms: str = ""


def traffic_source(context: dict, *, own_domains: frozenset = frozenset()) -> Source | None:
    """Where an event's visit came from; ``None`` for an internal navigation."""
    campaign = context.get("campaign") or {}
    referrer = (context.get("referrer") or {}).get("url") or (context.get("page") or {}).get(
        "referrer", "")
    domain = (urlsplit(referrer).hostname or "").removeprefix("www.") if referrer else ""
    if campaign.get("source") or campaign.get("medium"):
        return Source(campaign.get("source", ""), campaign.get("medium", ""), campaign.get("name", ""),
                      domain, campaign.get("term", ""))
    if not domain:
        return Source("direct", "none")
    if domain in own_domains or any(domain.endswith("." + own) for own in own_domains):
        return None
    for engine, parameter in SEARCH_ENGINES.items():
        if engine in domain.split("."):
            terms = parse_qs(urlsplit(referrer).query).get(parameter, [""])[0]
            return Source(engine, "organic", "", domain, terms)
    return Source(domain, "referral", "", domain)


@dataclass
class OpenSession:
    key: str
    visitor: str
    started_at: datetime
    last_at: datetime
    source: Source
    user_id: str = ""
    entry_path: str = ""
    page_count: int = 0
    event_count: int = 0
    converted: bool = False
    device: str = ""
    changed: bool = field(default=False, compare=False)


def device_of(user_agent: str) -> str:
    """desktop, mobile or tablet, from a user agent (as analytics tools bucket them)."""
    agent = (user_agent or "").lower()
    if not agent:
        return ""
    if "ipad" in agent or "tablet" in agent or ("android" in agent and "mobile" not in agent):
        return "tablet"
    if "mobile" in agent or "iphone" in agent or "android" in agent:
        return "mobile"
    return "desktop"


def session_key(visitor: str, started_at: datetime) -> str:
    return hashlib.sha1(f"{visitor}|{started_at.isoformat()}".encode()).hexdigest()[:20]


def assign(events: list[dict], open_sessions: dict[str, OpenSession],
           *, own_domains: frozenset = frozenset(),
           touched: dict[str, OpenSession] | None = None) -> list[str]:
    """Give each event (dicts with visitor, timestamp, type, event, context, user_id) a session
    key, updating ``open_sessions`` (visitor -> their latest session) in place. Every session
    an event lands in is added to ``touched``. Events must be in time order per visitor.
    A session's device is that of the first user agent seen in it."""
    touched = {} if touched is None else touched
    keys = []
    for item in events:
        if item.get("event") in NOT_VISITS:
            keys.append("")
            continue
        visitor, when, context = item["visitor"], item["timestamp"], item.get("context") or {}
        current = open_sessions.get(visitor)
        source = traffic_source(context, own_domains=own_domains)
        new_campaign = (current is not None and source is not None and source.campaign
                        and source.campaign != current.source.campaign)
        if current is None or when - current.last_at > TIMEOUT or new_campaign:
            current = OpenSession(
                key=session_key(visitor, when), visitor=visitor, started_at=when, last_at=when,
                source=source or Source("direct", "none"),
                entry_path=(context.get("page") or {}).get("path", ""),
            )
            open_sessions[visitor] = current
        current.last_at = max(current.last_at, when)
        current.event_count += 1
        current.user_id = item.get("user_id") or current.user_id
        current.device = current.device or device_of(str(context.get("userAgent") or ""))
        if item["type"] == "page" or item.get("event") in PAGE_LIKE_EVENTS:
            current.page_count += 1
        if item.get("event") == "Order Completed":
            current.converted = True
        current.changed = True
        touched[current.key] = current
        keys.append(current.key)
    return keys
