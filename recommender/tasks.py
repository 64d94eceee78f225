"""Celery tasks for the recommender."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="recommender.tasks.train", ignore_result=True)
def train() -> None:
    """Retrain and publish (nightly from beat, or on demand)."""
    call_command("recommender_train", verbosity=0)
