"""The tracking pipeline under load: /tracking/v1/batch at a target rate, consumers into
PostgreSQL, and the latency from acceptance to the event stored with its session.

A paced producer posts batches of 100 events (Segment's batch call) at
``--rate`` events per second for ``--seconds``; ``--consumers`` processes of
``manage.py tracking_consume`` store them. Printed: the rate accepted, the
rate stored, the largest backlog, how long the backlog took to drain after
the load stopped, and the p50/p95/max latency from ``received_at`` (when the
API accepted the event) to ``stored_at`` (when the consumer wrote it, in the
transaction that also writes its session and identity links).

What the consumers hand on runs beside them as production runs it (``shop.processes``, the
same command lines the demo starts and the README lists): Celery beat, the default worker,
and the catch-up worker at the lowest CPU priority (``nice -n 19``) taking the queue of
beat's ``ecrm.tasks.apply_pending_aggregates`` (every 2 s: the stored batches counted into
the reports' daily aggregates) and ``ecrm.tasks.refresh_marked_profiles`` (every 5 s: the
profiles of the people whose events were stored). The bench prints how long after the
load stopped every stored batch had been counted and every marked profile refreshed.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from urllib.parse import urlsplit

from bench.server import ROOT, gunicorn, write_key

BATCH_SIZE = 100
PRODUCERS = 4
VISITORS = 5_000
EVENTS = ["Product Viewed"] * 6 + ["Product List Viewed"] * 2 + ["Product Added", "Cart Viewed"]


def _batch(run_id: str, first: int, rng: random.Random) -> bytes:
    messages = []
    for n in range(first, first + BATCH_SIZE):
        visitor = rng.randrange(VISITORS)
        message = {"type": "track", "event": rng.choice(EVENTS), "messageId": f"{run_id}-{n}",
                   "anonymousId": f"bench-{visitor}",
                   "context": {"page": {"path": f"/catalogue/product_{visitor % 500}/"},
                               "userAgent": "Mozilla/5.0 (X11; Linux x86_64) bench"},
                   "properties": {"product_id": str(visitor % 500), "price": 12.5}}
        if visitor % 10 == 0:
            message["userId"] = f"bench-user-{visitor}"
        messages.append(message)
    return json.dumps({"batch": messages}).encode()


class Producer:
    """Posts batches on keep-alive connections at a fixed pace; counts what was accepted."""

    def __init__(self, base: str, auth: str, run_id: str, rate: int, seconds: float):
        self.base, self.auth, self.run_id = urlsplit(base), auth, run_id
        self.interval = PRODUCERS * BATCH_SIZE / rate  # seconds between one thread's batches
        self.batches = int(rate * seconds / BATCH_SIZE / PRODUCERS)
        self.accepted = 0
        self.failed = 0
        self._lock = threading.Lock()

    def _thread(self, index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=10)
        headers = {"Content-Type": "application/json", "Authorization": f"Basic {self.auth}"}
        start = time.monotonic()
        for number in range(self.batches):
            delay = start + number * self.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            first = (index * self.batches + number) * BATCH_SIZE
            connection.request("POST", "/tracking/v1/batch", _batch(self.run_id, first, rng), headers)
            response = connection.getresponse()
            response.read()
            with self._lock:
                if response.status == 200:
                    self.accepted += BATCH_SIZE
                else:
                    self.failed += BATCH_SIZE

    def run(self) -> float:
        threads = [threading.Thread(target=self._thread, args=(i,)) for i in range(PRODUCERS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started


def _stored(run_id: str) -> int:
    from tracking.models import Event

    return Event.objects.filter(message_id__startswith=f"{run_id}-").count()


def _latencies(run_id: str) -> tuple[float, float, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY d), max(d) FROM ("
            " SELECT extract(epoch FROM stored_at - received_at) AS d FROM tracking_event"
            " WHERE message_id LIKE %s) AS latencies", [f"{run_id}-%"])
        return tuple(float(value or 0) for value in cursor.fetchone())


def _consumers(count: int) -> list[subprocess.Popen]:
    """``count`` consumers, each with its own shards of the stream, as production runs them."""
    from tracking.defaults import setting

    shards = setting("TRACKING_STREAM_SHARDS")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    return [subprocess.Popen(
        [sys.executable, "manage.py", "tracking_consume", "--name", f"bench-{i}",
         "--shards", ",".join(str(shard) for shard in range(i, shards, count))],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL) for i in range(count)]


def _celery(directory: str) -> list[subprocess.Popen]:
    """Beat and both workers, as production runs them (beat's state in ``directory``)."""
    from shop.processes import celery_commands

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    commands = celery_commands(sys.executable, schedule=os.path.join(directory, "celerybeat-schedule"))
    return [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for command in commands.values()]


def _behind() -> tuple[int, int]:
    """Stored batches not counted yet, people marked whose profile is not refreshed yet."""
    from ecrm.models import PendingAggregates, ProfileRefresh

    return PendingAggregates.objects.count(), ProfileRefresh.objects.filter(person_key__startswith="bench-").count()


def _cleanup(run_id: str) -> None:
    from django.utils import timezone

    from ecrm.aggregates import aggregates_rebuild
    from tracking.models import Event, IdentityLink, Session
    from tracking.stream import client, shard_streams

    from ecrm.models import Profile, ProfileRefresh

    Event.objects.filter(message_id__startswith=f"{run_id}-").delete()
    ProfileRefresh.objects.filter(person_key__startswith="bench-user-").delete()
    Profile.objects.filter(person_key__startswith="bench-user-").delete()
    Session.objects.filter(visitor__startswith="bench-").delete()
    IdentityLink.objects.filter(user_id__startswith="bench-user-").delete()
    client().delete(*shard_streams())
    today = timezone.localdate()
    aggregates_rebuild(today, today)  # the bench's sessions out of the reports' aggregates


def run(*, requests: int, rate: int = 10_000, seconds: float = 20, consumers: int = 2) -> int:  # noqa: ARG001
    from django.db import connection

    from tracking.consumer import ensure_group

    if connection.vendor != "postgresql":
        print("needs PostgreSQL: run `make bench` (it starts a throwaway server) "
              "or set DATABASE_URL to a PostgreSQL database")
        return 2
    run_id = f"pipe-{uuid.uuid4().hex[:8]}"
    ensure_group()
    beat_state = tempfile.TemporaryDirectory(prefix="bench-beat-")
    workers = [*_consumers(consumers), *_celery(beat_state.name)]
    backlog_max, samples = 0, []

    def stop_and_clean() -> None:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        beat_state.cleanup()
        _cleanup(run_id)

    try:
        with write_key("bench-pipeline") as auth, gunicorn() as base:
            try:
                producer = Producer(base, auth, run_id, rate, seconds)
                thread = threading.Thread(target=lambda: samples.append(producer.run()))
                thread.start()
                while thread.is_alive():
                    time.sleep(1)
                    backlog_max = max(backlog_max, producer.accepted - _stored(run_id))
                elapsed = samples[0]
                load_end = time.monotonic()
                while _stored(run_id) < producer.accepted and time.monotonic() - load_end < 120:
                    time.sleep(0.2)
                drain = time.monotonic() - load_end
                stored = _stored(run_id)
                counted_after = refreshed_after = None
                while time.monotonic() - load_end < 180:
                    batches, people = _behind()
                    if not batches and counted_after is None:
                        counted_after = time.monotonic() - load_end
                    if not people and refreshed_after is None:
                        refreshed_after = time.monotonic() - load_end
                    if counted_after is not None and refreshed_after is not None:
                        break
                    time.sleep(0.2)
                left, people_left = _behind()
                p50, p95, worst = _latencies(run_id)
            finally:
                # Before the write key goes: events still arriving would refer to it.
                stop_and_clean()
    except Exception:
        if any(worker.poll() is None for worker in workers):
            stop_and_clean()
        raise
    # Keeping up: everything accepted is stored, and the backlog is gone within 2 s of the end.
    kept_up = stored == producer.accepted and drain < 2
    print(f"{consumers} consumers (manage.py tracking_consume --shards ...) into PostgreSQL; producer "
          f"{PRODUCERS} threads, batches of {BATCH_SIZE}, target {rate:,} events/s for {seconds:.0f} s")
    print(f"accepted        {producer.accepted / elapsed:>10,.0f} events/s   "
          f"({producer.accepted:,} events, {producer.failed:,} refused)")
    print(f"stored          {stored / (elapsed + drain):>10,.0f} events/s   ({stored:,} events)")
    print(f"largest backlog {backlog_max:>10,} events;  drained {drain:.1f} s after the load stopped")
    print(f"acceptance -> stored latency: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {worst * 1000:.0f} ms (goal p95 < 1 s: {'met' if p95 < 1 else 'NOT met'})")
    print(f"consumers keep up: {'yes' if kept_up else 'NO'}")
    print("off the consumers' path, on the catch-up worker (nice 19, queue background): "
          + (f"every stored batch counted into the daily aggregates {counted_after:.1f} s after the load stopped"
             if counted_after is not None else f"{left} stored batches still not counted after 180 s")
          + ("; every marked profile refreshed {:.1f} s after".format(refreshed_after)
             if refreshed_after is not None else f"; {people_left} marked profiles still not refreshed after 180 s"))
    return 0
