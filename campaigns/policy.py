"""When a message may go: retry backoff, the frequency cap and quiet hours.

Plain Python over datetimes (no ORM), so the rules are tested in milliseconds and the
outbox, the tick and (later) broadcasts scheduled at local times share them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def retry_delay(attempts: int, *, base: float, maximum: float) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure: base, 2×base, 4×base, ... capped."""
    return timedelta(seconds=min(maximum, base * 2 ** max(attempts - 1, 0)))


def zone_of(name: str | None, default: str) -> ZoneInfo:
    """The customer's IANA zone when it is a real one, else the store's."""
    for candidate in (name, default):
        if candidate:
            try:
                return ZoneInfo(str(candidate))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def quiet_hours_end(now: datetime, quiet: tuple[int, int] | None, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (an aware datetime), or None when it does not.

    ``quiet`` is (start hour, end hour) on the local clock; start > end spans midnight.
    """
    if not quiet:
        return None
    start, end = quiet
    if start == end:
        return None
    local = now.astimezone(zone)
    hour = local.hour
    inside = (start <= hour < end) if start < end else (hour >= start or hour < end)
    if not inside:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    # Built on the wall clock, so a change of summer time does not shift it.
    return datetime(day.year, day.month, day.day, end, tzinfo=zone)


def frequency_cap_end(last_marketing_at: datetime | None, cap_hours: float) -> datetime | None:
    """When the next marketing message may go, if the last one was too recent to send now."""
    if not cap_hours or last_marketing_at is None:
        return None
    return last_marketing_at + timedelta(hours=cap_hours)


def next_allowed(now: datetime, *, last_marketing_at: datetime | None, cap_hours: float,
                 quiet: tuple[int, int] | None, zone: ZoneInfo) -> tuple[datetime, str] | None:
    """The earliest moment a marketing message may be sent, with the reason, or None if now.

    The cap is applied first and quiet hours after it: a message whose cap ends at 23:00
    waits until quiet hours end the next morning.
    """
    at, reasons = now, []
    cap_end = frequency_cap_end(last_marketing_at, cap_hours)
    if cap_end is not None and cap_end > at:
        at = cap_end
        reasons.append(f"frequency cap (one marketing message per {cap_hours:g} hours)")
    quiet_end = quiet_hours_end(at, quiet, zone)
    if quiet_end is not None:
        at = quiet_end
        reasons.append(f"quiet hours ({quiet[0]:02d}:00-{quiet[1]:02d}:00 {zone.key})")
    return (at, " then ".join(reasons)) if reasons else None
