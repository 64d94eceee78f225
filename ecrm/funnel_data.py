"""The funnel report's data: sessions of a period as ``ecrm.funnels.SessionTrace``, grouped
by traffic source, week, device or the customer's segments; and the check that a
funnel's events exist."""

from __future__ import annotations

import difflib
from collections import defaultdict

from ecrm.funnels import FunnelError, SessionTrace
from tracking.models import Event, IdentityLink, Session

# Segment's e-commerce spec (v2), plus the page-level facts the tracker sends: events a
# funnel may name before the store has recorded one.
SPEC_EVENTS = {
    "Products Searched", "Product List Viewed", "Product List Filtered", "Promotion Viewed", "Promotion Clicked",
    "Product Clicked", "Product Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started",
    "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered", "Order Updated", "Order Completed",
    "Order Refunded", "Order Cancelled", "Coupon Entered", "Coupon Applied", "Coupon Denied", "Coupon Removed",
    "Product Added to Wishlist", "Product Removed from Wishlist", "Wishlist Product Added to Cart",
    "Product Shared", "Cart Shared", "Product Reviewed", "Signed Up", "Signed In",
}
SPLITS = {"": "nothing", "medium": "medium", "source": "source", "campaign": "campaign", "week": "week",
          "device": "device", "segment": "customer segment"}
ANONYMOUS, NO_SEGMENT, CHUNK = "(not a known customer)", "(in no segment)", 5000


def check_events(steps: list[dict]) -> None:
    """Refuse event steps naming an event that is neither in the e-commerce spec nor ever
    recorded (a typo would otherwise show an empty funnel), with the closest names."""
    for number, step in enumerate(steps, start=1):
        name = step.get("event")
        if not name or name in SPEC_EVENTS or Event.objects.filter(event=name).exists():
            continue
        recorded = set(Event.objects.exclude(event="").order_by().values_list("event", flat=True).distinct()[:1000])
        close = difflib.get_close_matches(name, sorted(SPEC_EVENTS | recorded), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(f'“{c}”' for c in close)}?" if close else ""
        raise FunnelError(f"step {number}: no “{name}” event has been recorded and it is not a standard "
                          f"e-commerce event{hint}")


def funnel_traces(steps: list[dict], since, until, split: str) -> list[SessionTrace]:
    """The sessions that started in [since, until), with the steps' events in time order.
    Split by segment, a session counts in each current segment of its customer."""
    rows = list(Session.objects.filter(started_at__gte=since, started_at__lt=until).values_list(
        "key", "visitor", "user_id", "event_count", "started_at", "source", "medium", "campaign", "device"
    ).iterator(chunk_size=CHUNK))
    segments = _segments_of_sessions(rows) if split == "segment" else {}
    traces: dict[str, list[SessionTrace]] = {}
    for key, _visitor, _user, count, started, source, medium, campaign, device in rows:
        if split == "segment":
            groups = segments.get(key) or [ANONYMOUS]
        else:
            groups = [{"": "", "medium": medium, "source": source, "campaign": campaign, "week": f"{started:%G-W%V}",
                       "device": device}[split] or ("" if not split else "(none)")]
        traces[key] = [SessionTrace(key, count, [], group) for group in groups]
    names = [step["event"] for step in steps if "event" in step]
    if names and traces:
        keys = list(traces)
        for start in range(0, len(keys), CHUNK):
            events = Event.objects.filter(event__in=names, timestamp__gte=since,
                                          session_id__in=keys[start:start + CHUNK]).order_by(
                "timestamp").values_list("session_id", "timestamp", "event")
            for session_id, when, name in events.iterator(chunk_size=CHUNK):
                for trace in traces[session_id]:
                    trace.events.append((when, name))
    return [trace for group in traces.values() for trace in group]


def _segments_of_sessions(rows) -> dict[str, list[str]]:
    """Session key -> the names of its customer's current segments (``NO_SEGMENT`` for a
    customer in none); sessions of visitors who are nobody known are left out."""
    from ecrm.models import Profile, SegmentMembership
    from ecrm.services import owners_of
    from tracking.graph import guest_person

    visitors = {visitor for _key, visitor, user, *_rest in rows if not user}
    person_of_visitor: dict[str, str] = {}
    visitor_list = list(visitors)
    for start in range(0, len(visitor_list), CHUNK):
        for identifier, person in IdentityLink.objects.filter(
                kind=IdentityLink.ANONYMOUS, identifier__in=visitor_list[start:start + CHUNK]).order_by(
                "first_seen_at").values_list("identifier", "user_id"):
            person_of_visitor.setdefault(identifier, person)
    for visitor in visitors:
        if visitor.startswith("guest:"):  # the order-status events of a guest order
            person_of_visitor.setdefault(visitor, guest_person(visitor.removeprefix("guest:")))
    person_of_session = {key: user or person_of_visitor.get(visitor) for key, visitor, user, *_rest in rows}
    owner = owners_of({person for person in person_of_session.values() if person})
    profiles = dict(Profile.objects.filter(person_key__in=set(owner.values())).values_list("person_key", "pk"))
    names = defaultdict(list)
    for profile_id, name in SegmentMembership.objects.filter(
            left_at=None, profile_id__in=profiles.values()).values_list("profile_id", "segment__name"):
        names[profile_id].append(name)
    result = {}
    for key, person in person_of_session.items():
        profile_id = profiles.get(owner.get(person)) if person else None
        if profile_id is not None:
            result[key] = sorted(names.get(profile_id, [])) or [NO_SEGMENT]
    return result
