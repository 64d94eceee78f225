"""Profiles are refreshed by a real Celery worker; its routine runs stay out of the log."""

import logging
from datetime import datetime, timezone

import pytest
from django.contrib.auth import get_user_model

from ecrm.models import Profile, ProfileRefresh
from ecrm.tasks import refresh_marked_profiles
from shop.celery import QuietFrequentTasks
from tests.helpers import wait_for
from tracking.consumer import consume_once, ensure_group
from tracking.messages import normalise
from tracking.stream import append


@pytest.mark.slow
def test_the_worker_refreshes_the_profiles_the_consumer_marked(worker, stream_name):
    ensure_group()
    user = get_user_model().objects.create_user("lin", "lin@example.com", "pw")
    now = datetime.now(timezone.utc)
    append([{**normalise({"type": "track", "event": "Product Added", "userId": str(user.pk),
                          "messageId": f"add-{i}", "properties": {"category": "Garden"}},
                         received_at=now), "source": "api", "write_key_id": None} for i in range(2)])
    while consume_once("test", block_ms=50):
        pass
    assert ProfileRefresh.objects.filter(person_key=str(user.pk)).exists()

    refresh_marked_profiles.apply_async(queue=worker)

    assert wait_for(lambda: Profile.objects.filter(person_key=str(user.pk), basket_adds=2).exists()), (
        "the worker did not refresh the profile")
    assert wait_for(lambda: not ProfileRefresh.objects.exists())


def _record(level, message, args):
    return logging.LogRecord("celery", level, __file__, 1, message, args, None)


def test_routine_runs_of_frequent_tasks_are_not_logged_but_their_failures_are():
    quiet = QuietFrequentTasks()
    task = "ecrm.tasks.refresh_marked_profiles"
    assert not quiet.filter(_record(logging.INFO, "Scheduler: Sending due task %s (%s)",
                                    ("refresh-marked-profiles", task)))
    assert not quiet.filter(_record(logging.INFO, "Task %(name)s[%(id)s] succeeded", ({"name": task, "id": "1"},)))
    assert quiet.filter(_record(logging.ERROR, "Task %(name)s[%(id)s] raised", ({"name": task, "id": "1"},)))
    assert quiet.filter(_record(logging.INFO, "Task %(name)s[%(id)s] succeeded",
                                ({"name": "shop.tasks.publish_scheduled_pages", "id": "2"},)))
