"""The Celery application. Run ``celery -A shop worker`` and ``celery -A shop beat``."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger

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
