"""The Celery application. Run ``celery -A shop worker`` and ``celery -A shop beat``."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Housekeeping that beat runs every few seconds: its routine "sent / received /
# succeeded" lines would drown the log at INFO. Its warnings and failures still show.
FREQUENT_TASKS = {"ecrm.tasks.refresh_marked_profiles", "ecrm.tasks.apply_pending_aggregates", "campaigns.tasks.tick"}


class QuietFrequentTasks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        args = record.args
        names = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else ()
        return not any(isinstance(value, str) and value in FREQUENT_TASKS for value in names)


@after_setup_logger.connect
def quiet_frequent_tasks(**kwargs) -> None:
    for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
        logging.getLogger(name).addFilter(QuietFrequentTasks())


@worker_process_init.connect
def worker_process_prepare(**_kwargs) -> None:
    """A worker process starts with some 375,000 objects (Django, Oscar, Wagtail, compiled
    templates) that live as long as it does: leave them out of Python's full collections, as
    the tracking consumer does (``tracking.consumer.heap_freeze``). As a delivery worker's
    caches grow (products, recommendation blocks, skeletons), those collections otherwise
    rescan all of them: in a broadcast, about a fifth of each message's rendering time."""
    from tracking.consumer import heap_freeze

    heap_freeze()
