"""``manage.py recommender_train``: train on the shop's data and publish the new version."""

from django.core.management.base import BaseCommand, CommandError

from recommender.models import ModelVersion
from recommender.training import train_version


class Command(BaseCommand):
    help = "Train the recommender on the store's events and orders, then serve the new version."

    def add_arguments(self, parser):
        parser.add_argument("--if-none-serving", action="store_true",
                            help="do nothing when a version is already serving (first start of a demo)")
        parser.add_argument("--search", action="store_true",
                            help="search the configurations again on a validation split, even when a refit of "
                                 "the serving version's would do (refits run between weekly searches)")

    def handle(self, *args, **options):
        if options["if_none_serving"] and ModelVersion.objects.filter(status=ModelVersion.SERVING).exists():
            if options["verbosity"]:
                self.stdout.write("A version is already serving; nothing to do.")
            return
        def progress(message):
            if options["verbosity"]:
                self.stderr.write(message)

        version = train_version(progress=progress, search=options["search"])
        if version.status == ModelVersion.FAILED:
            raise CommandError(f"training failed: {version.note}")
        mode = "full search" if (version.metrics or {}).get("mode") == "search" else "refit"
        summary = (f"v{version.pk} ({mode}): {version.interactions:,} interactions, {version.users:,} people, "
                   f"{version.items:,} products, {version.seconds:.0f} s")
        if version.status == ModelVersion.REJECTED:
            self.stdout.write(f"{summary}; not served, worse than the serving version ({version.note}).")
        else:
            self.stdout.write(f"{summary}; now serving.")
