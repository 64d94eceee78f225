"""Celery tasks for the recommender."""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="recommender.tasks.train", ignore_result=True)
def train(search: bool = False) -> None:
    """Retrain and publish (nightly from beat, or on demand): a refit of the serving version's
    configurations, or a full search when one is due or ``search`` asks for it."""
    call_command("recommender_train", verbosity=0, search=search)


@shared_task(name="recommender.tasks.train_candidate", ignore_result=True)
def train_candidate(candidate: dict, note: str) -> None:
    """Train a version with the configuration staff chose, kept for an A/B test, not served."""
    from recommender.training import train_version

    train_version(candidate=candidate, note=note)
