"""Mark the people whose events tracking just stored (inside the consumer's transaction), and count
the events into the reports' daily aggregates;
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


@receiver(events_stored, dispatch_uid="ecrm.events_stored.aggregates")
def add_stored_events_to_daily_aggregates(sender, events, **kwargs):
    """The reports' daily tables (``ecrm.aggregates``) count each event as it is stored."""
    from ecrm.aggregates import aggregates_apply

    with transaction.atomic():  # a failure is logged by tracking; ecrm_rebuild_aggregates repairs
        aggregates_apply(events)
