"""``manage.py ecrm_profile (--email E | --user-id U | --anonymous-id A) [--json]``: one
customer's 360° profile, through the API's serializer."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from ecrm.api.serializers import ProfileSerializer
from ecrm.models import Profile
from ecrm.services import _owners
from tracking.models import IdentityLink


def find_profile(*, email=None, user_id=None, anonymous_id=None) -> Profile:
    if email:
        profiles = list(Profile.objects.filter(email__iexact=email.strip())[:2])
        if len(profiles) > 1:
            raise CommandError(f"More than one customer has the e-mail {email}; use --user-id.")
        profile = profiles[0] if profiles else None
    elif user_id:
        profile = Profile.objects.filter(person_key__in=_owners({user_id.strip()})).first()
    else:
        persons = set(IdentityLink.objects.filter(kind=IdentityLink.ANONYMOUS, identifier=anonymous_id.strip())
                      .values_list("user_id", flat=True))
        profile = Profile.objects.filter(person_key__in=_owners(persons)).first() if persons else None
    if profile is None:
        given = email or user_id or anonymous_id
        raise CommandError(f"No customer profile for {given!r} (anonymous visitors have none until they "
                           "identify; a new customer's profile appears within seconds of their events).")
    return profile


class Command(BaseCommand):
    help = "Print one customer's 360° profile (the API's JSON with --json)."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--user-id")
        who.add_argument("--anonymous-id")
        parser.add_argument("--json", action="store_true", help="print the profile as JSON")

    def handle(self, *args, email, user_id, anonymous_id, **options):
        profile = find_profile(email=email, user_id=user_id, anonymous_id=anonymous_id)
        data = ProfileSerializer(profile).data
        if options["json"]:
            self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
            return
        for field in ("person_key", "email", "first_name", "last_name", "phone", "order_count", "revenue",
                      "last_order_at", "session_count", "last_seen_at", "tags", "segments"):
            value = data[field]
            if field == "segments":
                value = ", ".join(segment["name"] for segment in value)
            elif isinstance(value, list):
                value = ", ".join(value)
            self.stdout.write(f"{field:>15}: {value if value not in (None, '') else '—'}")
