"""Identity stitching and sessions for a batch of new events (the consumer's second step)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from tracking.models import Event, IdentityLink, Session
from tracking.sessions import TIMEOUT, OpenSession, Source, assign


def link_identities(events: list[Event]) -> None:
    """Record which anonymous ids (and aliased user ids) belong to which user id."""
    links = {}
    for event in events:
        if event.user_id and event.anonymous_id:
            links[(IdentityLink.ANONYMOUS, event.anonymous_id, event.user_id)] = (event.timestamp, event.type)
        previous = event.properties.get("previous_id") if event.type == "alias" else None
        if previous and event.user_id and previous != event.user_id:
            links[(IdentityLink.ALIAS, previous, event.user_id)] = (event.timestamp, "alias")
    IdentityLink.objects.bulk_create(
        [IdentityLink(kind=kind, identifier=identifier, user_id=user_id, first_seen_at=when, via=via)
         for (kind, identifier, user_id), (when, via) in links.items()],
        ignore_conflicts=True,
    )


def _open_sessions(visitors: set[str], since) -> dict[str, OpenSession]:
    latest: dict[str, Session] = {}
    for session in Session.objects.filter(visitor__in=visitors, last_event_at__gte=since).order_by(
        "visitor", "-last_event_at"
    ):
        latest.setdefault(session.visitor, session)
    return {
        visitor: OpenSession(
            key=s.key, visitor=visitor, started_at=s.started_at, last_at=s.last_event_at,
            source=Source(s.source, s.medium, s.campaign, s.referrer_domain, s.search_terms),
            user_id=s.user_id, entry_path=s.entry_path, page_count=s.page_count,
            event_count=s.event_count, converted=s.converted,
        )
        for visitor, s in latest.items()
    }


def sessionise(events: list[Event]) -> None:
    """Set each event's ``session_id`` and create or update the sessions they belong to."""
    events = [e for e in events if e.anonymous_id or e.user_id]
    if not events:
        return
    events.sort(key=lambda e: (e.anonymous_id or e.user_id, e.timestamp))
    visitors = {e.anonymous_id or e.user_id for e in events}
    open_sessions = _open_sessions(visitors, min(e.timestamp for e in events) - TIMEOUT)
    known = {s.key for s in open_sessions.values()}
    items = [{"visitor": e.anonymous_id or e.user_id, "timestamp": e.timestamp, "type": e.type,
              "event": e.event, "context": e.context, "user_id": e.user_id} for e in events]
    touched: dict[str, OpenSession] = {}
    for event, key in zip(events, assign(items, open_sessions, touched=touched)):
        event.session_id = key
    new, existing = [], []
    for state in touched.values():
        row = Session(
            key=state.key, visitor=state.visitor, user_id=state.user_id, started_at=state.started_at,
            last_event_at=state.last_at, entry_path=state.entry_path[:500],
            source=state.source.source[:100], medium=state.source.medium[:100],
            campaign=state.source.campaign[:200], referrer_domain=state.source.referrer_domain[:200],
            search_terms=state.source.search_terms[:200], page_count=state.page_count,
            event_count=state.event_count, converted=state.converted,
        )
        (existing if state.key in known else new).append(row)
    Session.objects.bulk_create(new, ignore_conflicts=True)
    if existing:
        ids = dict(Session.objects.filter(key__in=[s.key for s in existing]).values_list("key", "id"))
        for row in existing:
            row.id = ids[row.key]
        Session.objects.bulk_update(existing, ["user_id", "last_event_at", "page_count",
                                               "event_count", "converted"])


def events_of_user(user_id: str):
    """All of a person's events: under their user id, an aliased one, or a linked anonymous id."""
    aliases = set(IdentityLink.objects.filter(user_id=user_id, kind=IdentityLink.ALIAS)
                  .values_list("identifier", flat=True))
    user_ids = {user_id, *aliases}
    anonymous = IdentityLink.objects.filter(user_id__in=user_ids, kind=IdentityLink.ANONYMOUS)
    return Event.objects.filter(
        Q(user_id__in=user_ids) | Q(anonymous_id__in=anonymous.values("identifier"))
    ).order_by("timestamp")
