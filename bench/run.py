"""Run the benchmarks and print their figures: ``python bench/run.py [--only NAME]``.

Every benchmark compares against a baseline measured in the same run and
reports ratios, so the figures mean the same on a fast or a slow machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCHMARKS = {
    "broadcast": "bench.broadcast",
    "customers": "bench.customers",
    "flows": "bench.flows",
    "ingest": "bench.ingest",
    "storefront": "bench.storefront",
    "pipeline": "bench.pipeline",
    "pipeline_phases": "bench.pipeline_phases",
    "recommend": "bench.recommend",
    "product_page": "bench.product_page",
    "support": "bench.support",
    "reports": "bench.reports",
    "training": "bench.training",
    "scores": "bench.scores",
    "triggers": "bench.triggers",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--requests", type=int, default=100, help="measured requests per page")
    parser.add_argument("--migrate", action="store_true",
                        help="apply migrations first (for a fresh database, e.g. a throwaway one)")
    args = parser.parse_args(argv)
    if args.requests < 5:
        parser.error("--requests must be at least 5")

    import warnings

    warnings.filterwarnings("ignore", message="Whoosh does not handle query faceting")
    warnings.filterwarnings("ignore", message="No directory at")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    import importlib

    problem = _database_problem(migrate=args.migrate)
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    if args.migrate:
        from django.core.management import call_command

        print("Applying migrations to the benchmark database…", flush=True)
        call_command("migrate", verbosity=0)

    status = 0
    for name in args.only or sorted(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        print(f"== {name} ==")
        status = max(status, module.run(requests=args.requests))
    return status


def _database_problem(*, migrate: bool) -> str | None:
    """Why no benchmark can run on the configured database, in one line (None: it can)."""
    from django.db import OperationalError, connection
    from django.db.migrations.executor import MigrationExecutor

    name = connection.settings_dict.get("NAME")
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (f"cannot open the benchmark database {name!r} ({reason}); create it "
                f"(e.g. createdb {name}) or point DATABASE_URL at one")
    if not migrate:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return f"the benchmark database {name!r} has unapplied migrations; run with --migrate"
    return None


if __name__ == "__main__":
    sys.exit(main())
