"""``manage.py ecrm_erase_customer (--email E | --user-id U) [--yes]``: erase one customer
everywhere (see ``ecrm.privacy``). Without ``--yes`` it only says what would go."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ecrm.management.commands.ecrm_export_customer import find_customer
from ecrm.privacy import PrivacyError, customer_erase, erasure_plan


class Command(BaseCommand):
    help = "Erase one customer: personal data deleted or anonymised, orders kept and scrubbed."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--user-id")
        parser.add_argument("--yes", action="store_true", help="really erase (it cannot be undone)")

    def handle(self, *args, email, user_id, yes, **options):
        profile = find_customer(email=email, user_id=user_id)
        if not yes:
            self.stdout.write(f"Would erase {profile.person_key} ({profile.email or 'no e-mail'}):")
            for what, n in erasure_plan(profile).items():
                self.stdout.write(f"  {what}: {n}")
            raise CommandError("Nothing was changed: run again with --yes to erase (it cannot be undone).")
        try:
            counts = customer_erase(profile, staff=None)
        except PrivacyError as error:
            raise CommandError(str(error)) from error
        for table, n in counts.items():
            self.stdout.write(f"{table:>32}: {n}")
        self.stdout.write("Erased.")
