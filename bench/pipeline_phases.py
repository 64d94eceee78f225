"""Where one tracking consumer batch spends its time, phase by phase: the profile behind
``bench/run.py --only pipeline`` (``python bench/run.py --only pipeline_phases``).

Events of the pipeline bench's traffic (5,000 visitors, 10 % signed in, batches of 100 as
the API receives them) are appended to the bench's own stream through tracking's
``append``; one consumer then stores them with ``consume_once`` in batches of
``TRACKING_CONSUMER_BATCH``. The first batches open the visitors' sessions; the measured
ones continue them, as in the steady state of the pipeline bench. Each phase of
``tracking.consumer`` is timed around the real functions (wall and CPU time of this
process; the rest of a phase's wall time is PostgreSQL or Redis working), every
``events_stored`` receiver separately, and the callbacks run after the commit.

Figures are medians over the measured batches, with the per-batch share of the whole.
It reads its own stream but stores the pipeline bench's visitors ("bench-…") and deletes
them afterwards: run it alone, not beside ``--only pipeline``.
"""

from __future__ import annotations

import cProfile
import gc
import os
import pstats
import statistics
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager

WARM_BATCHES = 3
MEASURED_BATCHES = 8


class Timer:
    """Wall and CPU seconds per phase name, for the batch being measured."""

    def __init__(self):
        self.batch: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        self.batches: list[dict[str, list[float]]] = []

    @contextmanager
    def phase(self, name: str):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = self.batch[name]
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    def wrap(self, module, attribute: str, name: str | None = None):
        original = getattr(module, attribute)

        def timed(*args, **kwargs):
            with self.phase(name or attribute):
                return original(*args, **kwargs)

        setattr(module, attribute, timed)
        return original

    def next_batch(self) -> None:
        self.batches.append(dict(self.batch))
        self.batch = defaultdict(lambda: [0.0, 0.0])


def _instrument(timer: Timer) -> None:
    """Time the consumer's steps where ``tracking.consumer`` calls them."""
    import redis.client
    from django.db import transaction

    from tracking import consumer
    from tracking.signals import events_stored

    for attribute, name in (("parse", "parse (JSON -> Event)"), ("lock_visitors", "lock visitors"),
                            ("_new_only", "_new_only (repeats)"), ("link_identities", "link_identities"),
                            ("sessionise", "sessionise"), ("_copy", "COPY events"),
                            ("_forget_deleted_write_keys", "write keys"), ("_trim", "trim stream")):
        timer.wrap(consumer, attribute, name)

    read = redis.client.Redis.xreadgroup
    autoclaim = redis.client.Redis.xautoclaim
    ack = redis.client.Redis.xack

    def timed_method(method, name):
        def timed(self, *args, **kwargs):
            with timer.phase(name):
                return method(self, *args, **kwargs)
        return timed

    redis.client.Redis.xreadgroup = timed_method(read, "read stream (XREADGROUP)")
    redis.client.Redis.xautoclaim = timed_method(autoclaim, "claim idle (XAUTOCLAIM)")
    redis.client.Redis.xack = timed_method(ack, "ack (XACK)")

    class TimedSignal:
        """``events_stored`` with each receiver timed on its own."""

        def send_robust(self, sender, **kwargs):
            responses = []
            for receiver in events_stored._live_receivers(sender)[0]:
                label = f"receiver {receiver.__module__}.{receiver.__name__}"
                with timer.phase(label):
                    try:
                        responses.append((receiver, receiver(signal=events_stored, sender=sender, **kwargs)))
                    except Exception as exc:  # as send_robust does
                        responses.append((receiver, exc))
            return responses

    consumer.events_stored = TimedSignal()

    original_atomic = transaction.atomic

    class TimedAtomic:
        """The outermost ``atomic()`` of a batch: its exit is the COMMIT and the on-commit
        callbacks, told apart by timing the callbacks themselves."""

        def __init__(self, *args, **kwargs):
            self.inner = original_atomic(*args, **kwargs)

        def __enter__(self):
            return self.inner.__enter__()

        def __exit__(self, *exc):
            with timer.phase("commit + after-commit callbacks"):
                return self.inner.__exit__(*exc)

    consumer.transaction = type("T", (), {"atomic": TimedAtomic})

    from django.db.backends.base import base

    run_on_commit = base.BaseDatabaseWrapper.run_and_clear_commit_hooks

    def timed_hooks(self):
        with timer.phase("after-commit callbacks"):
            return run_on_commit(self)

    base.BaseDatabaseWrapper.run_and_clear_commit_hooks = timed_hooks

    collecting = {}

    def garbage_collection(phase, info):  # inside whichever phase allocated: counted apart
        if phase == "start":
            collecting["at"] = (time.perf_counter(), time.process_time())
        elif "at" in collecting:
            wall, cpu = collecting.pop("at")
            spent = timer.batch[f"garbage collection (generation {info['generation']}, inside the phases above)"]
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    gc.callbacks.append(garbage_collection)


def _traffic(run_id: str, events: int) -> list[dict]:
    """The pipeline bench's messages, as the API appends them (a server key's, no key row)."""
    import json
    import random

    from django.utils import timezone

    from bench.pipeline import BATCH_SIZE, _batch
    from tracking.messages import normalise

    rng = random.Random(7)
    messages = []
    for first in range(0, events, BATCH_SIZE):
        received_at = timezone.now()
        for message in json.loads(_batch(run_id, first, rng))["batch"]:
            messages.append({**normalise(message, received_at=received_at), "source": "api", "write_key_id": None})
    return messages


def run(*, requests: int, **_kwargs) -> int:  # noqa: ARG001
    from django.db import connection
    from django.test import override_settings

    from tracking.defaults import setting

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (the consumer's COPY and advisory locks)")
        return 2
    batch = setting("TRACKING_CONSUMER_BATCH")
    run_id = f"phases-{uuid.uuid4().hex[:8]}"
    # A stream of its own: the pipeline bench's consumers read (and it deletes) bench.settings'.
    with override_settings(TRACKING_STREAM=f"bench:phases:{run_id}"):
        return _measure(run_id, batch)


def _measure(run_id: str, batch: int) -> int:
    from bench.pipeline import _cleanup
    from tracking.consumer import consume_once, ensure_group, heap_freeze
    from tracking.stream import append

    ensure_group()
    timer = Timer()
    _instrument(timer)
    messages = _traffic(run_id, batch * (WARM_BATCHES + MEASURED_BATCHES))
    totals = []
    if not os.environ.get("PHASES_NO_FREEZE"):
        heap_freeze()  # as tracking_consume does (PHASES_NO_FREEZE=1: as it did before)
    profile = cProfile.Profile() if os.environ.get("PHASES_CPROFILE") else None
    try:
        for number in range(WARM_BATCHES + MEASURED_BATCHES):
            append(messages[number * batch:(number + 1) * batch])
            wall, cpu = time.perf_counter(), time.process_time()
            if profile is not None and number >= WARM_BATCHES:
                profile.enable()
            handled = consume_once("phases", block_ms=100, count=batch)
            if profile is not None:
                profile.disable()
            totals.append((time.perf_counter() - wall, time.process_time() - cpu, handled))
            timer.next_batch()
    finally:
        _cleanup(run_id)
    measured = timer.batches[WARM_BATCHES:]
    whole = statistics.median(t[0] for t in totals[WARM_BATCHES:])
    whole_cpu = statistics.median(t[1] for t in totals[WARM_BATCHES:])
    print(f"one consumer, batches of {batch:,} events of the pipeline bench's traffic "
          f"({WARM_BATCHES} warm-up batches, medians of {MEASURED_BATCHES}); wall / CPU of this process")
    names = list(dict.fromkeys(name for b in measured for name in b))
    hooks = statistics.median(b.get("after-commit callbacks", [0, 0])[0] for b in measured)
    hooks_cpu = statistics.median(b.get("after-commit callbacks", [0, 0])[1] for b in measured)
    for name in names:
        walls = statistics.median(b.get(name, [0, 0])[0] for b in measured)
        cpus = statistics.median(b.get(name, [0, 0])[1] for b in measured)
        label = name
        if name == "commit + after-commit callbacks":
            label, walls, cpus = "COMMIT", max(0.0, walls - hooks), max(0.0, cpus - hooks_cpu)
        print(f"  {label:<62} {walls * 1000:>7.1f} ms  {cpus * 1000:>7.1f} ms CPU  {walls / whole:>5.0%}")
    print(f"  {'whole batch (consume_once)':<62} {whole * 1000:>7.1f} ms  {whole_cpu * 1000:>7.1f} ms CPU"
          f"  -> {batch / whole:,.0f} events/s for one consumer")
    if profile is not None:  # PHASES_CPROFILE=1: the functions behind the phases
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(25)
        stats.print_callees("store_events|_write|consume_once")
    return 0
