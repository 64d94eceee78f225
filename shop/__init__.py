"""The reference store: Oscar + Wagtail wired to the eCRM apps.

Importing the Celery app here makes ``@shared_task`` use it in every process.
"""

from shop.celery import app as celery_app

__all__ = ["celery_app"]
