"""Celery tasks of the outbox. Retries are not Celery's: a failed send is put back in the
outbox with its backoff (``due_at``) and the tick queues it again when due, so a retry
survives a broker restart and is never an ETA message that Redis redelivers early."""

from __future__ import annotations

from celery import shared_task
from django.utils.dateparse import parse_datetime

from campaigns.outbox import message_deliver, messages_deliver
from campaigns.tick import tick_run


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(message_id: int, now: str | None = None) -> str:
    """Send one outbox message (idempotent: a second run finds it claimed or sent).
    ``now``: the moment ``campaigns_tick --now`` acts as of (None: the clock)."""
    return message_deliver(message_id, now=parse_datetime(now) if now else None)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_batch(message_ids: list[int], now: str | None = None) -> dict:
    """Send a chunk of outbox messages, each claimed on its own exactly as ``deliver`` does
    (a redelivered batch finds the ones already sent claimed or sent, and skips them)."""
    return messages_deliver(message_ids, now=parse_datetime(now) if now else None)


@shared_task(ignore_result=True)
def tick(now: str | None = None) -> dict:
    """What beat runs: fan out due broadcasts, enrol and advance flows, then queue every message that is due."""
    return tick_run(now=parse_datetime(now) if now else None)


