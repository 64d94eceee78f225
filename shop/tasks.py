"""Periodic jobs that an Oscar + Wagtail store otherwise runs from cron.

Each task only calls the command that owns the work, so an operator can still
run the same job by hand with ``manage.py``.
"""

from celery import shared_task
from django.core.management import call_command


@shared_task(name="shop.tasks.publish_scheduled_pages")
def publish_scheduled_pages() -> None:
    """Publish Wagtail pages whose go-live time has come, unpublish expired ones."""
    call_command("publish_scheduled", verbosity=0)


@shared_task(name="shop.tasks.send_product_alerts")
def send_product_alerts() -> None:
    """Tell customers who asked that a product is back in stock (Oscar's product alerts)."""
    call_command("oscar_send_alerts", verbosity=0)


@shared_task(name="shop.tasks.cleanup_product_alerts")
def cleanup_product_alerts() -> None:
    """Remove product alerts that were never confirmed."""
    call_command("oscar_cleanup_alerts", verbosity=0)


@shared_task(name="shop.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    call_command("clearsessions", verbosity=0)
