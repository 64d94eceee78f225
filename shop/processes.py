"""The Celery processes a deployment runs, as one definition: the demo (``scripts/demo.py``)
starts these, the pipeline benchmark (``bench/pipeline.py``) starts these, and the README's
"Running in production" lists the same command lines.

Two workers, not one: the catch-up work the tracking consumers hand on every few seconds
(refreshing the profiles they marked, counting the batches they stored into the reports'
aggregates) goes to its own queue, ``BACKGROUND_QUEUE`` (``CELERY_TASK_ROUTES`` in
``shop.settings``), taken by one worker process at the lowest CPU priority (``nice -n 19``).
On a small machine where it shares the cores with ``tracking_consume``, it then only gets
the CPU the consumers leave: counting and refreshing may lag by seconds, storing may not
(docs/benchmarks.md measured consumers storing less than before the work moved off their
path when the catch-up process ran at normal priority). The other worker takes
everything else (campaign ticks, e-mails, training) at normal priority.
"""

from __future__ import annotations

DEFAULT_QUEUE = "celery"  # Celery's default queue name
BACKGROUND_QUEUE = "background"
LOWEST_PRIORITY = ["nice", "-n", "19"]


def celery_commands(python: str, *, concurrency: int = 2, schedule: str | None = None) -> dict[str, list[str]]:
    """The command lines by the name the demo prefixes their output with. ``schedule``: where
    beat keeps its state (default: ``CELERY_BEAT_SCHEDULE_FILENAME``)."""
    celery = [python, "-m", "celery", "-A", "shop"]
    return {
        "worker": [*celery, "worker", "-Q", DEFAULT_QUEUE, "--loglevel", "INFO",
                   "--concurrency", str(concurrency), "-n", "default@%h"],
        "catchup": [*LOWEST_PRIORITY, *celery, "worker", "-Q", BACKGROUND_QUEUE, "--loglevel", "INFO",
                    "--concurrency", "1", "-n", "background@%h"],
        "beat": [*celery, "beat", "--loglevel", "INFO", *(["--schedule", schedule] if schedule else [])],
    }
