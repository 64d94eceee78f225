"""Funnels over sessions (plain Python over plain data).

A funnel is an ordered list of steps; a session reaches step k when it reached step k-1
and then did step k's thing:

* ``{"session": true}`` — any session (the usual first step);
* ``{"qualified_visit": N}`` — a session with at least N events;
* ``{"event": "Product Added"}`` — the event happened, after the previous step's moment.

Each step's moment is the first time the session did it after the previous step's
moment, so "viewed, then added, then checked out" counts only in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_STEPS = [{"session": True}, {"event": "Product Viewed"}, {"event": "Product Added"},
                 {"event": "Cart Viewed"}, {"event": "Checkout Started"}, {"event": "Order Completed"}]


class FunnelError(ValueError):
    """A step that is not understood; the text says which and why."""


@dataclass
class SessionTrace:
    key: str
    event_count: int
    events: list[tuple[datetime, str]] = field(default_factory=list)  # in time order
    group: str = ""


def step_label(step: dict) -> str:
    if step.get("session"):
        return "Session"
    if "qualified_visit" in step:
        return f"Qualified visit (≥ {step['qualified_visit']} events)"
    return step["event"]


def steps_text(steps: list[dict]) -> str:
    """The steps as ``parse_steps`` reads them, one per line."""
    return "\n".join("session" if step.get("session") else
                     f"qualified visit {step['qualified_visit']}" if "qualified_visit" in step else step["event"]
                     for step in steps)


def parse_steps(text: str) -> list[dict]:
    """One step per line: ``session``, ``qualified visit 5`` or an event name."""
    steps = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        lowered = line.lower()
        if lowered == "session":
            steps.append({"session": True})
        elif lowered.startswith("qualified visit"):
            count = lowered.removeprefix("qualified visit").strip()
            if not count.isdigit() or int(count) < 1:
                raise FunnelError(f"line {number}: write “qualified visit N” with N a whole number, at least 1")
            steps.append({"qualified_visit": int(count)})
        elif len(line) > 200:
            raise FunnelError(f"line {number}: an event name is at most 200 characters")
        else:
            steps.append({"event": line})
    if not steps:
        raise FunnelError("a funnel needs steps: write at least two, one per line")
    if len(steps) < 2:
        raise FunnelError("a funnel needs at least two steps, one per line")
    if len(steps) > 12:
        raise FunnelError("a funnel has at most 12 steps")
    return steps


def _reached(trace: SessionTrace, steps: list[dict]) -> int:
    """How many steps this session reached."""
    moment = None
    for index, step in enumerate(steps):
        if step.get("session"):
            continue
        if "qualified_visit" in step:
            if trace.event_count < step["qualified_visit"]:
                return index
            continue
        moment = next((when for when, name in trace.events
                       if name == step["event"] and (moment is None or when >= moment)), None)
        if moment is None:
            return index
    return len(steps)


def funnel(traces: list[SessionTrace], steps: list[dict]) -> dict[str, list[dict]]:
    """Per group (the traces' ``group``; "" when not split): one row per step with the
    sessions that reached it, conversion from the previous step and from the first, and
    the drop-off."""
    counts: dict[str, list[int]] = {}
    for trace in traces:
        reached = _reached(trace, steps)
        row = counts.setdefault(trace.group, [0] * len(steps))
        for index in range(reached):
            row[index] += 1
    result = {}
    for group, row in sorted(counts.items()):
        result[group] = [{
            "step": step_label(step), "sessions": count,
            "from_previous": count / row[i - 1] if i and row[i - 1] else (1.0 if i == 0 else None),
            "from_first": count / row[0] if row[0] else None,
            "drop_off": (row[i - 1] - count) if i else 0,
        } for i, (step, count) in enumerate(zip(steps, row))]
    return result
