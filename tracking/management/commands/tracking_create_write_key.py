"""``manage.py tracking_create_write_key NAME [--browser]``: create a key and print it once."""

from django.core.management.base import BaseCommand, CommandError

from tracking.models import WriteKey


class Command(BaseCommand):
    help = "Create a write key for the tracking API and print it (it is not shown again)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--browser", action="store_true",
                            help="a public key for the browser: page/track/identify of the visitor only")

    def handle(self, *args, name, browser, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters.")
        _key, raw = WriteKey.generate(name=name, kind=WriteKey.BROWSER if browser else WriteKey.SERVER)
        self.stdout.write(raw)
