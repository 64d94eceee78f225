"""Keep profiles current as tracking stores events (inside the consumer's transaction)."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from ecrm.services import persons_of, profiles_refresh
from tracking.signals import events_stored


@receiver(events_stored, dispatch_uid="ecrm.events_stored")
def refresh_profiles_of_stored_events(sender, events, **kwargs):
    # A savepoint: if this fails, the events are stored all the same (tracking logs the
    # error) and the scheduled rebuild brings the profiles back in line.
    with transaction.atomic():
        profiles_refresh(person_keys=persons_of(events))
