"""Advancing flow enrolments: 100,000 customers at a flow's wait step, due now, moved through
a condition and an e-mail step into outbox rows, as one ``campaigns_tick`` does.

Generates (COPY, prefix ``fbench``) 100,000 guest profiles with an address, half of them
with an order (the condition "has ordered" branches on that), and one active flow —
exits "order placed" and "unsubscribed", a 10 % holdout —

    1. wait 24 h  →  2. condition: order_count ≥ 1  →  yes: 3. e-mail "come back"
                                                     →  no:  4. e-mail "first order"

every customer with e-mail consent and enrolled at step 1 and due a minute ago. Then it times
``campaigns.flows.engine.enrolments_advance(now)`` — the engine's real path: batches of
rows locked ``FOR UPDATE SKIP LOCKED``, exit checks per batch, the condition, the outbox
rows of the sends in one INSERT per batch, every enrolment's move — until nobody is due
(three steps per customer; the held-out 10 % wait and branch but get no message). It
checks the outcome (one outbox row per customer not held out, under its unique key;
every enrolment completed) and counts SQL statements.

Baseline, in the same run: the same number of plain outbox inserts (``Message`` rows built
as the engine builds them, ``bulk_create`` in transactions of the engine's batch size) —
the floor for "a step that sends", with no locking, exits, conditions or enrolment moves.
Printed: both times, per customer, and their ratio. Everything generated is deleted.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone

from bench.common import copy_rows

P = "fbench"
CUSTOMERS = int(os.environ.get("BENCH_FLOWS_CUSTOMERS", "100000"))
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _ids_pairs(sql: str) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _cleanup() -> None:
    from django.db import connection, transaction

    flows = f"SELECT id FROM campaigns_flow WHERE name LIKE '{P} %%'"
    statements = [
        f"DELETE FROM campaigns_message WHERE key LIKE '{P}-baseline:%%'",
        f"DELETE FROM campaigns_message WHERE campaign IN (SELECT 'flow:' || id FROM campaigns_flow "
        f"WHERE name LIKE '{P} %%')",
        f"DELETE FROM campaigns_holdoutmember WHERE campaign IN (SELECT 'flow:' || id FROM campaigns_flow "
        f"WHERE name LIKE '{P} %%')",
        f"DELETE FROM campaigns_flowenrolment WHERE flow_id IN ({flows})",
        f"DELETE FROM campaigns_flowstep WHERE flow_id IN ({flows})",
        f"DELETE FROM campaigns_flow WHERE name LIKE '{P} %%'",
        f"DELETE FROM ecrm_consent WHERE source = '{P}'",
        f"DELETE FROM ecrm_profile WHERE region = '{P}'",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _profiles() -> dict[str, int]:
    def row(i):
        key = f"email:{P}-{i}@example.invalid"
        return (key, key.removeprefix("email:"), "", f"C{i}", "", "{}", 0, 0, 0, i % 2, 40 * (i % 2), 0,
                NOW - timedelta(days=90) if i % 2 else None, "[]", "[]", "{}", "{}", "[]", P, "")
    copy_rows("ecrm_profile", ["person_key", "email", "phone", "first_name", "last_name", "traits",
                               "session_count", "product_views", "basket_adds", "order_count", "revenue",
                               "average_order_value", "last_order_at", "favourite_categories", "favourite_brands",
                               "first_touch", "last_touch", "devices", "region", "rfm_group"],
              (row(i) for i in range(CUSTOMERS)))
    ids = dict(_ids_pairs(f"SELECT person_key, id FROM ecrm_profile WHERE region = '{P}'"))
    # e-mail consent for all marketing (else the flow's "unsubscribed" exit takes everybody out)
    copy_rows("ecrm_consent", ["profile_id", "channel", "topic", "granted", "recorded_at", "source", "evidence"],
              ((pk, "email", "all", True, NOW - timedelta(days=30), P, "{}") for pk in ids.values()))
    return ids


def _flow():
    from campaigns.flow_models import Flow, FlowStep

    flow = Flow.objects.create(name=f"{P} win-back", trigger_kind="win_back", status=Flow.ACTIVE, topic="offers",
                               holdout_share=0.1, exits=["order_placed", "unsubscribed"], activated_at=NOW,
                               triggered_at=NOW)
    wait = FlowStep.objects.create(flow=flow, position=1, kind=FlowStep.WAIT, wait_hours=24)
    condition = FlowStep.objects.create(flow=flow, position=2, kind=FlowStep.CONDITION,
                                        config={"rule": {"attribute": "order_count", "op": "gte", "value": 1}})
    buyers = FlowStep.objects.create(flow=flow, position=3, kind=FlowStep.EMAIL, next_target="end",
                                     config={"template": "CAMPAIGN_WIN_BACK"})
    FlowStep.objects.filter(pk=condition.pk).update(next_target=str(buyers.pk))
    others = FlowStep.objects.create(flow=flow, position=4, kind=FlowStep.EMAIL, next_target="end",
                                     config={"template": "CAMPAIGN_WELCOME"})
    FlowStep.objects.filter(pk=condition.pk).update(else_target=str(others.pk))
    return flow, wait


def _enrol(flow, wait, keys: list[str]) -> int:
    from campaigns.holdout import in_holdout

    held = 0

    def row(key):
        nonlocal held
        out = in_holdout(flow.campaign, key, flow.holdout_share)
        held += out
        return (flow.pk, key, "2026", json.dumps({}), NOW - timedelta(hours=25), NOW - timedelta(hours=25), wait.pk,
                NOW - timedelta(minutes=1), "active", out, "", 0, "", "[]")
    copy_rows("campaigns_flowenrolment", ["flow_id", "person_key", "\"window\"", "context", "started_at", "enrolled_at",
                                          "step_id", "next_run_at", "status", "held_out", "exited_because",
                                          "attempts", "last_error", "history"], (row(k) for k in keys))
    return held


class _Counter:
    """Counts the SQL statements the engine sends (``connection.execute_wrapper``)."""

    def __init__(self):
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def _baseline(n: int, profiles: dict[str, int]) -> float:
    """``n`` plain outbox inserts, in transactions of the engine's batch size."""
    from django.db import transaction

    from campaigns.flows.engine import BATCH
    from campaigns.models import Message

    keys = list(profiles)[:max(n, 1)]
    started = time.perf_counter()
    for start in range(0, n, BATCH):
        with transaction.atomic():
            Message.objects.bulk_create([
                Message(key=f"{P}-baseline:{key}", source_kind="flow-step", source_id="0", campaign="",
                        kind=Message.MARKETING, topic="offers", person_key=key, to_email=key.removeprefix("email:"),
                        template="CAMPAIGN_WIN_BACK", context={"flow_id": 0, "step_id": 0, "enrolment_id": 0},
                        due_at=NOW) for key in keys[start:start + BATCH]], batch_size=1000)
    return time.perf_counter() - started


def run(*, requests: int) -> int:
    from django.db import connection
    from django.db.models import Count

    from campaigns.flow_models import FlowEnrolment
    from campaigns.flows.engine import enrolments_advance
    from campaigns.models import Message

    if connection.vendor != "postgresql":
        print("needs PostgreSQL (COPY): run it with DATABASE_URL set to a PostgreSQL database")
        return 2
    _cleanup()
    status, load_before = 0, os.getloadavg()[0]
    try:
        print(f"Generating {CUSTOMERS:,} customers enrolled in a 4-step flow…", flush=True)
        generated = time.monotonic()
        profiles = _profiles()
        flow, wait = _flow()
        held = _enrol(flow, wait, list(profiles))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ecrm_profile")
            cursor.execute("ANALYZE campaigns_flowenrolment")
        print(f"  {len(profiles):,} enrolments ({held:,} in the holdout); generated in "
              f"{time.monotonic() - generated:.1f} s", flush=True)

        counter = _Counter()
        load_before = os.getloadavg()[0]
        cpu, started = time.process_time(), time.perf_counter()
        with connection.execute_wrapper(counter):
            steps = enrolments_advance(now=NOW, limit=10 * CUSTOMERS)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu

        sent = Message.objects.filter(campaign=flow.campaign).count()
        statuses = dict(FlowEnrolment.objects.filter(flow=flow).values_list("status").annotate(n=Count("pk")))
        expected = len(profiles) - held
        ok = sent == expected and statuses == {FlowEnrolment.COMPLETED: len(profiles)} and steps == 3 * len(profiles)
        if not ok:
            status = 1
            print(f"  WRONG OUTCOME: {sent:,} outbox rows (expected {expected:,}), enrolments {statuses}, "
                  f"{steps:,} steps (expected {3 * len(profiles):,})")

        baseline = _baseline(sent, profiles)
        print(f"  flow advance: {steps:,} steps for {len(profiles):,} customers → {sent:,} outbox rows in "
              f"{elapsed:.1f} s wall / {cpu:.1f} s CPU in this process "
              f"({elapsed / len(profiles) * 1000:.3f} ms per customer; {counter.statements:,} SQL statements, "
              f"{counter.statements / len(profiles):.2f} per customer)")
        print(f"  baseline: {sent:,} plain outbox inserts in {baseline:.1f} s "
              f"({baseline / max(sent, 1) * 1000:.3f} ms per row)")
        print(f"  ratio: advancing the flow takes {elapsed / max(baseline, 1e-9):.1f}× the plain inserts of its "
              "messages")
    finally:
        started = time.monotonic()
        _cleanup()
        print(f"  generated data deleted in {time.monotonic() - started:.1f} s", flush=True)
    print(f"machine: load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} "
          "cores (other work slows every figure)")
    return status
