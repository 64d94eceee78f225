"""``manage.py ecrm_export_customer (--email E | --user-id U) --out FILE.zip``: everything held
on one customer as a ZIP of JSON files (a subject access or portability request)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ecrm.management.commands.ecrm_profile import find_profile
from ecrm.models import ProfileAccess
from ecrm.privacy import customer_export


def find_customer(*, email=None, user_id=None):
    """``find_profile``, with exit status 2 for an unknown customer (a usage error: the
    caller gave a wrong identifier, nothing failed)."""
    try:
        return find_profile(email=email, user_id=user_id)
    except CommandError as error:
        raise CommandError(str(error), returncode=2) from error


class Command(BaseCommand):
    help = "Write everything held on one customer to a ZIP archive of JSON files."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--user-id")
        parser.add_argument("--out", required=True, help="the ZIP file to write")

    def handle(self, *args, email, user_id, out, **options):
        profile = find_customer(email=email, user_id=user_id)
        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"No such directory: {path.parent}")
        data = customer_export(profile)
        path.write_bytes(data)
        # A command has no staff user: the audit log says it came from the command line.
        ProfileAccess.objects.create(profile=profile, person_key=profile.person_key, staff=None,
                                     action=ProfileAccess.EXPORT, detail="manage.py ecrm_export_customer")
        self.stdout.write(f"Wrote {len(data):,} bytes to {path}.")
