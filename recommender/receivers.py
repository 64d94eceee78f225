"""Keep each person's recent product activity current as tracking stores events
(``recommender.recent``), so serving answers for what a visitor did a moment ago."""

from __future__ import annotations

import time
from collections import defaultdict

from django.db import transaction
from django.dispatch import receiver

from recommender.defaults import setting
from recommender.recent import entries_of, recent_record
from recommender.store_data import event_person, person_of_visitor
from tracking.graph import guest_person
from tracking.signals import events_stored

GUEST_PREFIX = "guest:"  # tracking's anonymous id for a guest's order events (tracking.receivers)


def activity_of(events) -> dict[str, list[tuple[float, str]]]:
    """Person key -> (time, entry) for the product events among ``events``: under the person
    the event belongs to, and under ``anon:<anonymous id>`` too, the key serving uses for
    that browser when nobody is logged in. Two queries for the batch's identity links."""
    since = time.time() - setting("RECOMMENDER_RECENT_TTL_SECONDS")  # history (an import, a replay) is not recent
    product_events = [(event, entries) for event in events
                      if event.timestamp.timestamp() >= since and (entries := entries_of(event))]
    if not product_events:
        return {}
    visitors = {event.anonymous_id for event, _ in product_events if event.anonymous_id}
    users = {event.user_id for event, _ in product_events if event.user_id}
    people, aliases = person_of_visitor(visitors, users)
    activity: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for event, entries in product_events:
        anonymous = event.anonymous_id
        keys = set()
        if anonymous.startswith(GUEST_PREFIX):
            keys.add(event_person(event.user_id, "", people, aliases) if event.user_id
                     else guest_person(anonymous.removeprefix(GUEST_PREFIX)))
        else:
            keys.add(event_person(event.user_id, anonymous, people, aliases))
            if anonymous:
                keys.add(f"anon:{anonymous}")
        when = event.timestamp.timestamp()
        for person in keys - {"", "anon:"}:
            activity[person] += [(when, entry) for entry in entries]
    return dict(activity)


@receiver(events_stored, dispatch_uid="recommender.events_stored")
def remember_recent_activity(sender, events, **kwargs):
    # Identity links are read now, inside the consumer's transaction (they were written in it);
    # Redis is written once that transaction commits, so a rolled-back batch leaves no trace.
    activity = activity_of(events)
    if activity:
        transaction.on_commit(lambda: recent_record(activity), robust=True)  # Redis down: logged
