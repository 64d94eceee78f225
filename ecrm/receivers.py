"""Mark the people whose events tracking just stored (inside the consumer's transaction);
``ecrm.tasks.refresh_marked_profiles`` recomputes their profiles moments later."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from ecrm.models import ProfileRefresh
from ecrm.services import persons_of
from tracking.signals import events_stored


@receiver(events_stored, dispatch_uid="ecrm.events_stored")
def mark_profiles_of_stored_events(sender, events, **kwargs):
    # A savepoint: if this fails, the events are stored all the same (tracking logs the
    # error) and the scheduled rebuild brings the profiles back in line.
    with transaction.atomic():
        ProfileRefresh.objects.bulk_create(
            [ProfileRefresh(person_key=person) for person in persons_of(events)], ignore_conflicts=True)
