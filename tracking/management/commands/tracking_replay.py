"""``manage.py tracking_replay``: try quarantined events again (after a fix)."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tracking.consumer import to_event
from tracking.models import Event, QuarantinedEvent

STORABLE_ERRORS = (ValueError, KeyError, TypeError)


class Command(BaseCommand):
    help = "Store quarantined events again; those that still fail stay quarantined with the new reason."

    def handle(self, *args, **options):
        replayed = failed = 0
        for entry in QuarantinedEvent.objects.filter(replayed_at__isnull=True).order_by("id"):
            try:
                event = to_event(entry.payload)
            except STORABLE_ERRORS as exc:
                entry.reason = f"{type(exc).__name__}: {exc}"
                entry.save(update_fields=["reason"])
                failed += 1
                continue
            with transaction.atomic():
                Event.objects.bulk_create([event], ignore_conflicts=True)
                entry.replayed_at = timezone.now()
                entry.save(update_fields=["replayed_at"])
            replayed += 1
        self.stdout.write(f"Replayed {replayed} events; {failed} still quarantined.")
