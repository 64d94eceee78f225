"""``manage.py ecrm_import_orders FILE.csv``: bring a previous system's order history in.

One row per order line: ``email,order_number,date,sku,quantity,price`` (header required,
any order, any case), optionally ``currency``, ``status`` and ``title``. The orders become
Oscar orders (so profiles and the recommender count them) and the profiles of the
people in the file are refreshed. See ``ecrm.importer`` for the rules.

Exit status: 0 when every row was imported or already present, 1 when some rows were
refused (they are listed as ``line N: reason`` on stderr; the others are imported),
2 when the file itself cannot be imported (nothing is written).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ecrm.importer import ImportFileError, import_orders, parse_file, store_rules


class Command(BaseCommand):
    help = "Import historic orders from a CSV file (email,order_number,date,sku,quantity,price)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, UTF-8, one row per order line")

    def handle(self, *args, file: str, **options):
        try:
            parsed = parse_file(file, store_rules())
        except ImportFileError as error:
            raise CommandError(str(error), returncode=2) from None
        for refusal in parsed.refusals:
            self.stderr.write(str(refusal))
        verbose = options["verbosity"] > 0

        def progress(message: str) -> None:
            if verbose:
                self.stdout.write(f"\r{message:<40}", ending="")  # pad over a longer previous one
                self.stdout.flush()

        summary = import_orders(parsed, source=Path(file).name, progress=progress)
        if verbose and parsed.orders:
            self.stdout.write("")  # end the progress line
        for refusal in summary.clashes:
            self.stderr.write(str(refusal))
        refused = len(parsed.refusals) + len(summary.clashes)
        if verbose:
            self.stdout.write(
                f"Imported {summary.imported:,} orders ({summary.lines:,} lines); "
                f"{summary.skipped:,} already present, skipped; {refused:,} rows refused.\n"
                f"Customers: {len(summary.registered):,} registered, {len(summary.guests):,} guests. "
                f"Profiles refreshed: {summary.refreshed:,}.")
            if summary.unknown_skus:
                shown = sorted(summary.unknown_skus)
                more = f" and {len(shown) - 10:,} more" if len(shown) > 10 else ""
                self.stdout.write(
                    f"{summary.unlinked_lines:,} lines have a SKU that is not in the catalogue; they were "
                    f"imported without a product link: {', '.join(shown[:10])}{more}.")
        if refused:
            raise CommandError(f"{refused:,} rows refused (listed above); the rest were imported.",
                               returncode=1)
