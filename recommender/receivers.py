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


def activity_of(events, identities=None) -> dict[str, list[tuple[float, str]]]:
    """Person key -> (time, entry) for the product events among ``events``: under the person
    the event belongs to, and under ``anon:<anonymous id>`` too, the key serving uses for
    that browser when nobody is logged in. Who the visitors are comes from tracking's
    ``identities`` (read once for every receiver of the batch), or two queries without it."""
    since = time.time() - setting("RECOMMENDER_RECENT_TTL_SECONDS")  # history (an import, a replay) is not recent
    product_events = [(event, entries) for event in events
                      if event.timestamp.timestamp() >= since and (entries := entries_of(event))]
    if not product_events:
        return {}
    if identities is not None:
        aliases = identities.aliases
        people = {visitor: aliases.get(person, person) for visitor, person in identities.people.items()}
    else:
        people, aliases = person_of_visitor({e.anonymous_id for e, _ in product_events if e.anonymous_id},
                                            {e.user_id for e, _ in product_events if e.user_id})
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
def remember_recent_activity(sender, events, identities=None, **kwargs):
    # Inside the consumer's transaction only plain Python over the batch and tracking's shared
    # read of who its visitors are; Redis is written once that transaction commits, in one
    # command for the whole batch, so a rolled-back batch leaves no trace.
    activity = activity_of(events, identities)
    if activity:
        transaction.on_commit(lambda: recent_record(activity), robust=True)  # Redis down: logged
