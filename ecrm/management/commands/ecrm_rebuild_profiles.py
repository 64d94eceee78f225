"""``manage.py ecrm_rebuild_profiles``: recompute every known person's profile.

The consumer keeps profiles current batch by batch; this rebuilds them all (after an
import, a fix, or on a schedule) from tracking's identity graph and Oscar's orders.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from oscar.core.loading import get_model

from ecrm.services import profiles_refresh
from tracking.graph import guest_person
from tracking.models import Event, IdentityLink

Order = get_model("order", "Order")


def everybody() -> list[str]:
    """Every person key: accounts, users seen by tracking, guest checkouts."""
    persons = {str(pk) for pk in get_user_model().objects.filter(is_staff=False).values_list("pk", flat=True)}
    persons |= set(Event.objects.exclude(user_id="").values_list("user_id", flat=True).distinct())
    persons |= set(IdentityLink.objects.values_list("user_id", flat=True).distinct())
    persons |= {guest_person(email) for email in Order.objects.filter(user__isnull=True)
                .exclude(guest_email="").values_list("guest_email", flat=True).distinct()}
    return sorted(persons)


class Command(BaseCommand):
    help = "Recompute every customer profile from events, sessions, identities and orders."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            self.stderr.write("--batch-size must be at least 1")
            raise SystemExit(2)
        persons = everybody()
        done = 0
        for start in range(0, len(persons), batch_size):
            profiles_refresh(person_keys=set(persons[start:start + batch_size]))
            done = min(start + batch_size, len(persons))
            if options["verbosity"]:
                self.stdout.write(f"\r{done:,} of {len(persons):,} people", ending="")
                self.stdout.flush()
        if options["verbosity"]:
            self.stdout.write(f"\rRebuilt the profiles of {done:,} people.")
