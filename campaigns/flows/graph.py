"""The shape of a flow, as plain data: where each step goes, and what is wrong with it.

A step is ``{"id", "kind", "next", "else"}`` in the flow's order; ``next`` (and, for a
condition that does not hold, ``else``) is "" for the following step, "end", or another
step's id. A flow must be a tree of paths from its first step: no loop (a customer would
go round it for ever) and no step that no path reaches (it would never run).
"""

from __future__ import annotations

END = "end"
NEXT = ""


def successors(steps: list[dict]) -> dict[str, list[str]]:
    """step id -> the step ids it can go to (END included). KeyError-free: unknown targets
    are reported by ``problems``."""
    ids = [str(step["id"]) for step in steps]
    following = {sid: (ids[i + 1] if i + 1 < len(ids) else END) for i, sid in enumerate(ids)}
    out = {}
    for step in steps:
        sid = str(step["id"])
        targets = [step.get("next", NEXT)]
        if step["kind"] == "condition":
            targets.append(step.get("else", END))
        out[sid] = [following[sid] if t in (NEXT, None) else str(t) for t in targets]
    return out


def target_of(steps: list[dict], step_id, branch: bool = True) -> str:
    """Where the step goes next (a step id or END); ``branch`` False: a condition's else."""
    step_id = str(step_id)
    for step in steps:
        if str(step["id"]) == step_id:
            index = 0 if branch or step["kind"] != "condition" else 1
            return successors([*steps])[step_id][index]
    raise LookupError(f"no step {step_id} in this flow")


def problems(steps: list[dict], labels: dict[str, str] | None = None) -> list[str]:
    """What is wrong with the flow's shape, in words a marketer can act on."""
    if not steps:
        return ["The flow has no steps: add at least one."]
    labels = labels or {}

    def name(sid: str) -> str:
        return labels.get(sid, f"step {sid}")

    found = []
    graph = successors(steps)
    known = set(graph)
    for sid, targets in graph.items():
        for target in targets:
            if target != END and target not in known:
                found.append(f"{name(sid).capitalize()} goes to a step that no longer exists: choose another.")
    first = str(steps[0]["id"])
    reached, stack = set(), [first]
    while stack:
        sid = stack.pop()
        if sid in reached or sid not in known:
            continue
        reached.add(sid)
        stack.extend(graph[sid])
    for step in steps:
        sid = str(step["id"])
        if sid not in reached:
            found.append(f"{name(sid).capitalize()} can never be reached: no step leads to it. "
                         "Point a step or a branch at it, or delete it.")
    cycle = _cycle(graph, first)
    if cycle:
        path = " → ".join(name(sid) for sid in cycle)
        found.append(f"The flow loops ({path}): a customer would go round for ever. "
                     "Make one of these steps go on, or end the flow.")
    return found


def _cycle(graph: dict[str, list[str]], start: str) -> list[str] | None:
    """The first loop found from ``start`` (its steps, the first repeated at the end)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = {sid: WHITE for sid in graph}
    path: list[str] = []

    def visit(sid: str):
        colour[sid] = GREY
        path.append(sid)
        for target in graph[sid]:
            if target not in graph:
                continue
            if colour[target] == GREY:
                return path[path.index(target):] + [target]
            if colour[target] == WHITE:
                found = visit(target)
                if found:
                    return found
        path.pop()
        colour[sid] = BLACK
        return None

    return visit(start) if start in graph else None
