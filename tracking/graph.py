"""Identity stitching and sessions for a batch of new events (the consumer's second step)."""

from __future__ import annotations


from functools import cached_property

from django.db import connection
from django.db.models import Q

from tracking.defaults import own_domains
from tracking.models import Event, IdentityLink, Session
from tracking.sessions import TIMEOUT, OpenSession, Source, assign


def guest_person(email: str) -> str:
    """The person key of a customer known only by the e-mail of a guest checkout."""
    return f"email:{email.strip().lower()}"


def link_identities(events: list[Event]) -> None:
    """Record which anonymous ids (and aliased user ids, and e-mail addresses) are which person.

    A person is a user id, or for a guest checkout ``email:<address>``; a customer's
    e-mail (from ``identify`` traits) joins their guest purchases to them. Only the
    server and server-side SDKs may tie a visitor to an e-mail: a public browser key
    could otherwise attach its own history to someone else's address.
    """
    links = {}
    for event in events:
        when = event.timestamp
        if event.user_id and event.anonymous_id:
            links[(IdentityLink.ANONYMOUS, event.anonymous_id, event.user_id)] = (when, event.type)
        previous = event.properties.get("previous_id") if event.type == "alias" else None
        if previous and event.user_id and previous != event.user_id:
            links[(IdentityLink.ALIAS, previous, event.user_id)] = (when, "alias")
        if event.source == "browser":
            continue
        email = _email(event.traits.get("email")) if event.type == "identify" else ""
        if email and event.user_id:
            links[(IdentityLink.EMAIL, email, event.user_id)] = (when, "identify")
        email = _email(event.properties.get("email")) if event.event == "Order Completed" else ""
        if email and event.anonymous_id and not event.user_id:
            links[(IdentityLink.ANONYMOUS, event.anonymous_id, guest_person(email))] = (when, "checkout")
    IdentityLink.objects.bulk_create(
        [IdentityLink(kind=kind, identifier=identifier, user_id=user_id, first_seen_at=when, via=via)
         for (kind, identifier, user_id), (when, via) in links.items()],
        ignore_conflicts=True,
    )


class BatchIdentities:
    """Who a stored batch's visitors are, read once for every ``events_stored`` receiver (the
    profiles' marks, the recommender's recent activity) instead of once by each, and only if
    one asks. Read inside the batch's transaction, after its own links were written.

    ``people``: anonymous id -> the person it is linked to (a user id, or ``email:…`` for a
    guest checkout), for the batch's visitors. ``aliases``: earlier user id -> user id, for
    the batch's user ids and those people.
    """

    def __init__(self, events: list[Event]):
        self.visitors = {e.anonymous_id for e in events if e.anonymous_id}
        self.users = {e.user_id for e in events if e.user_id}

    @cached_property
    def people(self) -> dict[str, str]:
        return _links(IdentityLink.ANONYMOUS, self.visitors)

    @cached_property
    def aliases(self) -> dict[str, str]:
        return _links(IdentityLink.ALIAS, self.users | set(self.people.values()))


def _links(kind: str, identifiers: set[str]) -> dict[str, str]:
    """identifier -> user id for links of ``kind``. On PostgreSQL one array parameter: a
    batch names ~2,000 visitors, and an ``IN`` list of that many placeholders cost more to
    build and parse than the indexed read itself."""
    if not identifiers:
        return {}
    if connection.vendor != "postgresql":
        return dict(IdentityLink.objects.filter(kind=kind, identifier__in=identifiers)
                    .values_list("identifier", "user_id"))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT identifier, user_id FROM {IdentityLink._meta.db_table} "
                       "WHERE kind = %s AND identifier = ANY(%s)", [kind, list(identifiers)])
        return dict(cursor.fetchall())


def _email(value) -> str:
    return value.strip().lower()[:254] if isinstance(value, str) and "@" in value else ""


def _open_sessions(visitors: set[str], since) -> dict[str, OpenSession]:
    """Each visitor's latest session that may still be open."""
    columns = ("key", "visitor", "started_at", "last_event_at", "source", "medium", "campaign",
               "referrer_domain", "search_terms", "user_id", "entry_path", "page_count",
               "event_count", "converted", "device")
    latest: dict[str, OpenSession] = {}
    if connection.vendor == "postgresql":  # one array parameter for the batch's ~2,000 visitors
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM {Session._meta.db_table} WHERE visitor = ANY(%s) "
                "AND last_event_at >= %s ORDER BY visitor, last_event_at DESC", [list(visitors), since])
            rows = cursor.fetchall()
    else:
        rows = Session.objects.filter(visitor__in=visitors, last_event_at__gte=since).order_by(
            "visitor", "-last_event_at").values_list(*columns)
    for (key, visitor, started_at, last_at, source, medium, campaign, referrer_domain,
         search_terms, user_id, entry_path, page_count, event_count, converted, device) in rows:
        if visitor not in latest:
            latest[visitor] = OpenSession(
                key=key, visitor=visitor, started_at=started_at, last_at=last_at,
                source=Source(source, medium, campaign, referrer_domain, search_terms),
                user_id=user_id, entry_path=entry_path, page_count=page_count,
                event_count=event_count, converted=converted, device=device)
    return latest


def sessionise(events: list[Event]) -> None:
    """Set each event's ``session_id`` and create or update the sessions they belong to."""
    events = [e for e in events if e.anonymous_id or e.user_id]
    if not events:
        return
    events.sort(key=lambda e: (e.anonymous_id or e.user_id, e.timestamp))
    visitors = {e.anonymous_id or e.user_id for e in events}
    open_sessions = _open_sessions(visitors, min(e.timestamp for e in events) - TIMEOUT)
    items = [{"visitor": e.anonymous_id or e.user_id, "timestamp": e.timestamp, "type": e.type,
              "event": e.event, "context": e.context, "user_id": e.user_id} for e in events]
    touched: dict[str, OpenSession] = {}
    for event, key in zip(events, assign(items, open_sessions, own_domains=own_domains(),
                                                 touched=touched)):
        event.session_id = key
    # One upsert for new and continued sessions. The caller holds each visitor's lock
    # (tracking.consumer.lock_visitors), so the totals computed here are the whole truth.
    if connection.vendor == "postgresql":
        _sessions_upsert(list(touched.values()))
        return
    Session.objects.bulk_create(
        [Session(key=state.key, visitor=state.visitor, user_id=state.user_id,
                 started_at=state.started_at, last_event_at=state.last_at,
                 entry_path=state.entry_path[:500], source=state.source.source[:100],
                 medium=state.source.medium[:100], campaign=state.source.campaign[:200],
                 referrer_domain=state.source.referrer_domain[:200],
                 search_terms=state.source.search_terms[:200], page_count=state.page_count,
                 event_count=state.event_count, converted=state.converted, device=state.device)
         for state in touched.values()],
        update_conflicts=True, unique_fields=["key"],
        update_fields=["user_id", "last_event_at", "page_count", "event_count", "converted", "device"],
    )


SESSION_COLUMNS = (  # column, PostgreSQL array type, value of an OpenSession
    ("key", "text", lambda s: s.key), ("visitor", "text", lambda s: s.visitor),
    ("user_id", "text", lambda s: s.user_id), ("started_at", "timestamptz", lambda s: s.started_at),
    ("last_event_at", "timestamptz", lambda s: s.last_at), ("entry_path", "text", lambda s: s.entry_path[:500]),
    ("source", "text", lambda s: s.source.source[:100]), ("medium", "text", lambda s: s.source.medium[:100]),
    ("campaign", "text", lambda s: s.source.campaign[:200]),
    ("referrer_domain", "text", lambda s: s.source.referrer_domain[:200]),
    ("search_terms", "text", lambda s: s.source.search_terms[:200]), ("page_count", "int", lambda s: s.page_count),
    ("event_count", "int", lambda s: s.event_count), ("converted", "bool", lambda s: s.converted),
    ("device", "text", lambda s: s.device),
)
SESSION_UPDATED = ("user_id", "last_event_at", "page_count", "event_count", "converted", "device")


def _sessions_upsert(states: list[OpenSession]) -> None:
    """The batch's sessions in one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT`` with one
    array per column: the same statement as ``bulk_create(update_conflicts=True)``, without
    its ~25,000 placeholders for a batch's ~1,700 sessions, which cost the consumer more CPU
    to build and send than PostgreSQL took to run it."""
    if not states:
        return
    columns = ", ".join(column for column, _type, _value in SESSION_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _column, kind, _value in SESSION_COLUMNS)
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in SESSION_UPDATED)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Session._meta.db_table} ({columns}) SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT (key) DO UPDATE SET {updates}",
            [[value(state) for state in states] for _column, _kind, value in SESSION_COLUMNS])


def events_of_user(user_id: str):
    """All of a person's events: under their user id, an aliased one, a linked anonymous id,
    or a guest checkout made with their e-mail address before they had an account."""
    aliases = set(IdentityLink.objects.filter(user_id=user_id, kind=IdentityLink.ALIAS)
                  .values_list("identifier", flat=True))
    emails = IdentityLink.objects.filter(user_id=user_id, kind=IdentityLink.EMAIL).values_list(
        "identifier", flat=True)
    people = {user_id, *aliases, *(guest_person(email) for email in emails)}
    anonymous = IdentityLink.objects.filter(user_id__in=people, kind=IdentityLink.ANONYMOUS)
    return Event.objects.filter(
        Q(user_id__in=people) | Q(anonymous_id__in=anonymous.values("identifier"))
    ).order_by("timestamp")
