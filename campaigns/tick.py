"""One tick of campaigns as of a moment: what beat runs every few seconds
(``campaigns.tasks.tick``) and ``manage.py campaigns_tick [--now]`` runs on demand — the same
function, so operators catching up and tests moving time run exactly what production runs.

Broadcasts fan out first, then flows run: the messages both queue are dispatched in the same tick.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.broadcasts import broadcasts_run
from campaigns.flows.engine import flows_run
from campaigns.outbox import outbox_dispatch


def tick_run(*, now: datetime | None = None) -> dict:
    broadcasts = broadcasts_run(now=now)
    flows = flows_run(now=now)
    return {"broadcasts": broadcasts, **flows, "queued": outbox_dispatch(now=now)}
