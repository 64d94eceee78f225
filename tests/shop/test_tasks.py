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


def test_the_consumers_catch_up_tasks_go_to_the_low_priority_workers_queue():
    """Refreshing marked profiles and counting stored batches wait on their own queue, which
    only the niced catch-up worker takes (shop.processes); everything else stays on the
    default queue the other worker takes."""
    import redis

    from ecrm.tasks import apply_pending_aggregates, refresh_marked_profiles
    from shop.processes import BACKGROUND_QUEUE, DEFAULT_QUEUE, celery_commands

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    before = broker.llen(BACKGROUND_QUEUE), broker.llen(DEFAULT_QUEUE)
    try:
        refresh_marked_profiles.delay()
        apply_pending_aggregates.delay()
        assert broker.llen(BACKGROUND_QUEUE) == before[0] + 2
        assert broker.llen(DEFAULT_QUEUE) == before[1]
    finally:
        for _ in range(2):
            broker.lpop(BACKGROUND_QUEUE)  # kombu pushes on the left and workers take from the right
    catchup, default = celery_commands("python")["catchup"], celery_commands("python")["worker"]
    assert catchup[catchup.index("-Q") + 1] == BACKGROUND_QUEUE and catchup[:3] == ["nice", "-n", "19"]
    assert default[default.index("-Q") + 1] == DEFAULT_QUEUE
