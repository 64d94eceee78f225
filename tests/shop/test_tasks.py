"""Periodic store jobs run on a real Celery worker through the Redis broker."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from shop.celery import app as celery_app
from tests.helpers import wait_for


def test_every_beat_entry_names_a_registered_task():
    celery_app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled
    assert scheduled <= set(celery_app.tasks)


def test_broker_is_redis_not_eager():
    assert settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "redis+socket://"))
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)


@pytest.mark.slow
def test_worker_publishes_a_scheduled_wagtail_page(site_pages, worker):
    from shop.pages.models import ContentPage, HomePage

    home = HomePage.objects.get()
    page = home.add_child(
        instance=ContentPage(title="Winter sale", slug="winter-sale", live=False,
                             go_live_at=timezone.now() + timedelta(seconds=2))
    )
    page.save_revision().publish()  # go-live is in the future: scheduled, not live
    page.refresh_from_db()
    assert not page.live
    time.sleep(2.5)  # the time comes

    from shop.tasks import publish_scheduled_pages

    publish_scheduled_pages.apply_async(queue=worker)

    assert wait_for(lambda: ContentPage.objects.get(pk=page.pk).live), (
        "the worker did not publish the page"
    )
