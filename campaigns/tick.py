"""The tick: everything in campaigns that is due as of a moment, in one function that beat
(``campaigns.tasks.tick``) and ``campaigns_tick [--now]`` both run."""

from __future__ import annotations

from datetime import datetime

from campaigns.broadcasts import broadcasts_run
from campaigns.outbox import outbox_dispatch


def tick_run(*, now: datetime | None = None) -> dict:
    """Fan out due broadcasts (their due messages are queued as each chunk commits), then
    queue every other due outbox message. Returns what it did, in counts."""
    broadcasts = broadcasts_run(now=now)
    queued = outbox_dispatch(now=now)
    return {"broadcasts": broadcasts, "queued": queued}
