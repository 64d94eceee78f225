"""The daily aggregates are counted after the tracking consumer, by real Celery workers: the
consumer only records its batch; a worker killed mid-count, duplicated tasks on two workers
and a rebuild running while consumers store batches all leave every event counted once."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from ecrm.aggregates import aggregates_rebuild
from ecrm.aggregates_pending import pending_apply
from ecrm.dashboard.report_views import report_period
from ecrm.models import PendingAggregates, TrafficDay
from ecrm.tasks import apply_pending_aggregates
from ecrm.traffic import traffic_rows
from tests.ecrm.test_traffic import _agrees_with_raw, _by_value, page, script, send
from tests.helpers import celery_worker_start, processes_stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(connection.vendor != "postgresql", reason="locks and snapshots are PostgreSQL's")]


@pytest.fixture
def workers():
    """Start real Celery workers (``start()``) on a private queue; ``start.queue``."""
    queue = f"test-aggregates-{uuid.uuid4().hex[:8]}"
    processes = []

    def start() -> subprocess.Popen:
        process = celery_worker_start(queue)
        processes.append(process)
        return process

    start.queue = queue
    yield start
    processes_stop(processes)


def _waiting_for_a_lock_on(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table])
        return cursor.fetchone()[0] > 0


def _sessions_by_referrer():
    return {k: r["sessions"] for k, r in _by_value(traffic_rows("referrer", *report_period(30))).items()}


def test_the_consumer_records_its_batch_and_a_worker_counts_it(products, workers):
    events = script(*products)
    send(*events[:9], count=False)
    send(*events[9:], count=False)
    assert PendingAggregates.objects.count() == 2 and not TrafficDay.objects.exists()  # nothing counted in the consumer
    workers()
    apply_pending_aggregates.apply_async(queue=workers.queue)
    assert wait_for(lambda: not PendingAggregates.objects.exists()), "the worker did not count the batches"
    _agrees_with_raw()


def test_a_worker_killed_mid_count_leaves_its_batches_pending_and_they_are_counted_once(products, workers):
    send(*script(*products), count=False)
    worker = workers()
    with transaction.atomic():
        with connection.cursor() as cursor:  # hold the worker inside its transaction, at its first write
            cursor.execute(f"LOCK TABLE {TrafficDay._meta.db_table} IN EXCLUSIVE MODE")
        apply_pending_aggregates.apply_async(queue=workers.queue)
        assert wait_for(lambda: _waiting_for_a_lock_on(TrafficDay._meta.db_table), timeout=60), "the count never began"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    # Its transaction never commits: the batch is still pending and nothing was counted.
    assert wait_for(lambda: not _waiting_for_a_lock_on(TrafficDay._meta.db_table))
    assert PendingAggregates.objects.count() == 1 and not TrafficDay.objects.exists()
    workers()
    # (The killed worker's database session may hold the runner lock a moment longer: ask again.)
    assert wait_for(lambda: apply_pending_aggregates.apply_async(queue=workers.queue) and time.sleep(1) is None
                    and not PendingAggregates.objects.exists(), timeout=60)
    _agrees_with_raw()


def test_duplicated_tasks_on_two_workers_count_each_batch_once(products, workers):
    events = script(*products)
    for start in range(0, len(events), 3):
        send(*events[start:start + 3], count=False)
    workers(), workers()
    for _ in range(6):
        apply_pending_aggregates.apply_async(queue=workers.queue)
    assert wait_for(lambda: not PendingAggregates.objects.exists())
    time.sleep(2)  # the last tasks taken finish
    _agrees_with_raw()
    assert sum(_sessions_by_referrer().values()) == 5


def test_a_batch_stored_while_a_rebuild_runs_does_not_wait_and_is_counted_once(products):
    send(*script(*products))
    first, last = report_period(30)
    newcomer = {"messageId": "newcomer", "type": "page", "anonymousId": "e1",
                "timestamp": (timezone.now() - timedelta(seconds=30)).isoformat(),
                "context": page("/new/", referrer="https://news.example.net/today")}
    failures = []

    def rebuild():
        try:
            aggregates_rebuild(first - timedelta(days=5), last)
        except Exception as exc:  # noqa: BLE001  reported below
            failures.append(exc)
        finally:
            connection.close()

    products_table = "ecrm_productday"
    thread = threading.Thread(target=rebuild)
    with transaction.atomic():
        with connection.cursor() as cursor:  # stop the rebuild after its snapshot, before it reads the events
            cursor.execute(f"LOCK TABLE {products_table} IN EXCLUSIVE MODE")
        thread.start()
        assert wait_for(lambda: _waiting_for_a_lock_on(products_table), timeout=30), "the rebuild never began"
        started = time.monotonic()
        send(newcomer, count=False)  # a consumer stores a batch meanwhile, without waiting
        assert time.monotonic() - started < 5
    thread.join(60)
    assert not failures
    # The rebuild read the events as they were when it began: the newcomer is still pending.
    assert PendingAggregates.objects.count() == 1 and "news.example.net" not in _sessions_by_referrer()
    pending_apply()
    assert _sessions_by_referrer()["news.example.net"] == 1
    _agrees_with_raw()


@pytest.fixture
def products(product_in_stock):
    from oscar.test.factories import create_product

    return str(product_in_stock.pk), str(create_product(title="Enamel Pan", upc="TEST-PAN").pk)
