"""Replay quarantined events (after a fix) through the consumer's own storing path,
so that a replayed event gets its session and identity links like any other."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from tracking.consumer import store_events, to_event
from tracking.models import QuarantinedEvent

UNSTORABLE = (ValueError, KeyError, TypeError, AttributeError)


def replay(entries: Iterable[QuarantinedEvent] | None = None) -> tuple[int, int]:
    """Try the given (default: all not yet replayed) entries again. Returns (replayed, failed);
    an entry that still fails keeps its place in the quarantine with the new reason."""
    if entries is None:
        entries = QuarantinedEvent.objects.filter(replayed_at__isnull=True).order_by("id")
    replayed = failed = 0
    for entry in entries:
        if entry.replayed_at is not None:
            continue
        try:
            refused = store_events([(to_event(entry.payload), entry.payload)], save_refused=False)
            reason = refused[0].reason if refused else ""
        except UNSTORABLE as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if reason:
            entry.reason = reason
            entry.save(update_fields=["reason"])
            failed += 1
        else:
            entry.replayed_at = timezone.now()
            entry.save(update_fields=["replayed_at"])
            replayed += 1
    return replayed, failed
