"""Training and publishing at scale: what the shop runs, against implicit's bare ALS in the same run.

1,000,000 interactions from ``recommender.synthetic`` (12,000 customers, 5,000 products,
views, basket adds and removals, orders, returns). Timed on our side, as
``recommender.training.train_version`` does after reading the store, two runs:

* a full search (weekly, on demand, or when the data changed; timed and reported, with
  its ratio): tuning on a validation split within the shop's time budget, the chosen
  models fitted on everything, item-to-item lists, the model directory written, every
  list published to Redis;
* the scheduled retrain, a refit of that search's choice (the ratio the goal is about):
  the chosen models fitted on all data but a holdout of 2,000 customers' last baskets and
  measured on it, then serving everyone's history through the same weights, the list ALS
  warm-started from the search's item factors (one sweep), item-to-item lists, the
  directory written and every list published.

Lists go under a private Redis prefix, deleted afterwards. The baseline is ``implicit``'s
``AlternatingLeastSquares()`` with its defaults, fitted on the same user x item matrix,
plus one batch ``recommend`` of the top 50 for every user; it runs just before and just
after the refit and the ratio uses the mean of the two. Goal: at most 1.5.

Figures (docs/benchmarks.md): on a quiet 2-core machine the refit's ratio was 1.61 before
the refit got cheaper (2026-12-02 evening); after it, on the shared machine at load 10-12,
the refit took 4.2 CPU seconds against 5.5-5.6 before (same data, same process
clock, main and the change run one after the other), a CPU ratio of 1.35-1.38 against
1.77-1.80; wall-clock at that load is the machine's, not the code's (one run: 1.62,
implicit's bare run 21-27 s against 2 s quiet). At a near-quiet moment (load 1.4 -> 3.4):
implicit 1.9 s, the refit 2.5 s (holdout 1.2, final fit 0.1, item lists 0.5, save 0.1,
publish 0.5), ratio 1.31; main straight after: refit 3.6 s.

Then peak memory: ``python -m recommender train`` on a CSV of 10,000,000 interactions
(about 118,000 customers, 20,000 products) in a subprocess, its ``ru_maxrss``; then
``train --refit`` of that model on the same CSV, likewise. That CSV comes from
:func:`scaled_rows`, a vectorised generator (the shop simulator would take most of an
hour for it): Zipf-popular products, each customer keeping mostly to two
categories, buying again what they bought before, views, basket adds, removals and
returns, timestamps to the second over a year. Set ``BENCH_TRAINING_MEMORY_ROWS=0`` to
skip that part (it takes several minutes), or to another number of rows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np

from bench.server import ROOT

USERS, ITEMS = 12_000, 5_000  # about 1.04 million interactions
MEMORY_ITEMS, MEMORY_CATEGORIES = 20_000, 40
ROWS_PER_USER = 85
EVENTS = np.array(["view", "add_to_basket", "purchase", "remove", "return"])
EVENT_SHARES = [0.62, 0.2, 0.15, 0.02, 0.01]


def _interactions(cfg):
    from recommender.data import Interactions, parse_timestamp
    from recommender.synthetic import iter_rows

    users, items, times, events, cats = [], [], [], [], []
    stamps: dict[str, float] = {}
    for u, i, ts, ev, c in iter_rows(USERS, ITEMS, seed=1):
        users.append(u)
        items.append(i)
        t = stamps.get(ts)
        times.append(t if t is not None else stamps.setdefault(ts, parse_timestamp(ts)))
        events.append(ev)
        cats.append(c)
    return Interactions.from_records(users, items, times, events, cfg, categories=cats)


def _bare_implicit(X) -> tuple[float, float]:
    """implicit's defaults: fit, then the top 50 for every user in one batch (seconds each)."""
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # as implicit itself advises
        started = time.perf_counter()
        model = AlternatingLeastSquares(random_state=0)
        model.fit(X, show_progress=False)
        fitted = time.perf_counter()
        model.recommend(np.arange(X.shape[0]), X, N=50)
    return fitted - started, time.perf_counter() - fitted


def _ours(inter, cfg, directory, refit: dict | None = None) -> dict:
    """One training run as ``train_version`` does it after reading the store: a full search
    (``refit`` None) or a refit of an earlier run's choice; its seconds per stage."""
    from django.test import override_settings

    from recommender import artifact
    from recommender.defaults import setting
    from recommender.pipeline import Pipeline
    from recommender.publish import client, publish

    marks: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(message: str) -> None:
        for stage in ("fitting the chosen models", "item-to-item lists"):
            if message.startswith(stage):
                marks.append((stage, time.perf_counter()))

    prefix = f"bench-train-{uuid.uuid4().hex[:8]}"
    with override_settings(RECOMMENDER_REDIS_PREFIX=prefix):
        try:
            pipe = Pipeline(cfg).fit(inter, progress, refit=refit)
            fitted = time.perf_counter()
            _directory, model = artifact.save_and_open(pipe, directory)
            saved = time.perf_counter()
            publish(1, model, top_n=setting("RECOMMENDER_PUBLISH_TOP_N"))
            published = time.perf_counter()
        finally:
            stale = list(client().scan_iter(match=f"{prefix}:*", count=1000))
            if stale:
                client().delete(*stale)
    final, lists = (dict(marks).get(s, fitted) for s in ("fitting the chosen models", "item-to-item lists"))
    return {"search" if refit is None else "holdout": final - started, "final fit": lists - final,
            "item lists": fitted - lists, "save": saved - fitted, "publish to Redis": published - saved,
            "total": published - started, "chosen": pipe.tuning["chosen"], "rows": len(pipe.tuning["validation"]),
            "ndcg": {task: next((row[task]["ndcg"] for row in pipe.tuning["validation"]
                                 if row["spec"] == pipe.tuning["chosen"][task] and task in row), None)
                     for task in ("next", "new")}}


def scaled_rows(rows: int, n_items: int = MEMORY_ITEMS, seed: int = 2, chunk: int = 1_000_000):
    """CSV lines (with their newline) of about ``rows`` interactions, ``chunk`` rows at a time."""
    rng = np.random.default_rng(seed)
    n_users = max(1, rows // ROWS_PER_USER)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.9
    rng.shuffle(popularity)
    category = rng.integers(0, MEMORY_CATEGORIES, n_items)
    by_category = [np.flatnonzero(category == c) for c in range(MEMORY_CATEGORIES)]
    cdf = [np.cumsum(popularity[items]) / popularity[items].sum() for items in by_category]
    overall = np.cumsum(popularity) / popularity.sum()
    favourites = rng.integers(0, MEMORY_CATEGORIES, (n_users, 2))
    start = np.datetime64("2025-01-01T00:00:00")
    item_names = np.char.add("p", np.arange(n_items).astype(str))
    category_names = np.char.add("c", category.astype(str))
    done = 0
    while done < rows:
        n = min(chunk, rows - done)
        users = rng.integers(0, n_users, n)
        items = overall.searchsorted(rng.random(n))
        loyal = rng.random(n) < 0.6  # most events in one of the customer's two categories
        fav = favourites[users[loyal], rng.integers(0, 2, loyal.sum())]
        items[loyal] = [by_category[c][cdf[c].searchsorted(x)] for c, x in zip(fav, rng.random(loyal.sum()))]
        again = rng.random(n) < 0.25  # buying again: the customer's staple, a hash of who they are
        items[again] = (users[again] * 7919 + rng.integers(0, 4, again.sum())) % n_items
        events = EVENTS[rng.choice(len(EVENTS), n, p=EVENT_SHARES)]
        stamps = np.datetime_as_string(start + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]"), unit="s")
        yield "".join(f"u{u},{item_names[i]},{t}Z,{e},{category_names[i]}\n"
                      for u, i, t, e in zip(users.tolist(), items.tolist(), stamps.tolist(), events.tolist()))
        done += n


def _train(args: list[str]) -> tuple[str, float, float] | None:
    """``python -m recommender train ARGS`` in a subprocess: (its progress, peak RSS in GB,
    seconds), or None (and the error printed) when it failed."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "recommender", "train", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()  # progress; read as it comes so the pipe never fills
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        print(f"training failed: {stderr.strip().splitlines()[-1:]}")
        return None
    return stderr, usage.ru_maxrss / 1024 ** 2, time.perf_counter() - started


def _peak_memory(rows: int) -> None:
    """The full search, then a refit of its choice, each in its own process."""
    work = tempfile.mkdtemp(prefix="bench-train-mem-")
    try:
        path = os.path.join(work, "interactions.csv")
        started = time.perf_counter()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("user_id,item_id,timestamp,event,category\n")
            for lines in scaled_rows(rows):
                fh.write(lines)
        print(f"peak memory: {rows:,} interactions ({rows // ROWS_PER_USER:,} customers, {MEMORY_ITEMS:,} products) "
              f"written in {time.perf_counter() - started:.0f} s ({os.path.getsize(path) / 1024 ** 2:,.0f} MB); "
              "training with `python -m recommender train` …", flush=True)
        searched = _train(["--interactions", path, "--out", os.path.join(work, "searched")])
        if searched is None:
            return
        stderr, peak, seconds = searched
        for line in stderr.splitlines():
            if "interactions," in line or "chosen for" in line:
                print(f"  {line[:160]}")
        print(f"peak memory (ru_maxrss of the training process), full search: {peak:.2f} GB; trained in "
              f"{seconds:.0f} s", flush=True)
        refit = _train(["--interactions", path, "--out", os.path.join(work, "refit"),
                        "--refit", os.path.join(work, "searched")])
        if refit is not None:
            print(f"peak memory, refit of that choice (`train --refit`): {refit[1]:.2f} GB; trained in {refit[2]:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(*, requests: int) -> int:  # noqa: ARG001 - fixed sizes
    from recommender.config import load_config
    from recommender.data import interaction_matrix
    from recommender.defaults import setting

    cfg = load_config(overrides=setting("RECOMMENDER_TRAINING"))  # the shop's configuration
    started = time.perf_counter()
    inter = _interactions(cfg)
    print(f"{len(inter):,} interactions, {inter.n_users:,} customers, {inter.n_items:,} products "
          f"(generated in {time.perf_counter() - started:.0f} s); time budget for tuning "
          f"{cfg['time_budget_seconds']:.0f} s", flush=True)
    X = interaction_matrix(inter)
    with tempfile.TemporaryDirectory(prefix="bench-train-") as directory:
        searched = _ours(inter, cfg, os.path.join(directory, "searched"))  # what the weekly search runs
        from recommender import artifact

        refit = artifact.refit_inputs(os.path.join(directory, "searched"))
        before = _bare_implicit(X)
        ours = _ours(inter, cfg, os.path.join(directory, "refit"), refit)  # what the nightly retrain runs
        after = _bare_implicit(X)
    fit, recommend = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    baseline = fit + recommend
    print(f"implicit ALS defaults, bare: fit {fit:.1f} s + recommend top 50 for all {recommend:.1f} s = "
          f"{baseline:.1f} s (runs: {sum(before):.1f} s before, {sum(after):.1f} s after the refit)")
    print(f"full search ({searched['rows']} validation rows; weekly, on demand, or when the data changed):")
    for stage in ("search", "final fit", "item lists", "save", "publish to Redis", "total"):
        print(f"  {stage:<18} {searched[stage]:>7.1f} s")
    print(f"  chosen: next order {searched['chosen']['next']}")
    print(f"          new items {searched['chosen']['new']}")
    print(f"  ratio full search / implicit bare: {searched['total'] / baseline:.2f}")
    print(f"refit of that choice (the scheduled retrain; holdout NDCG@10 next {ours['ndcg']['next']:.4f}, "
          f"new {ours['ndcg']['new']:.4f}; the search measured {searched['ndcg']['next']:.4f}, "
          f"{searched['ndcg']['new']:.4f}):")
    for stage in ("holdout", "final fit", "item lists", "save", "publish to Redis", "total"):
        print(f"  {stage:<18} {ours[stage]:>7.1f} s")
    ratio = ours["total"] / baseline
    print(f"ratio refit / implicit bare: {ratio:.2f} (goal at most 1.5: {'met' if ratio <= 1.5 else 'NOT met'})",
          flush=True)
    rows = int(os.environ.get("BENCH_TRAINING_MEMORY_ROWS", "10000000"))
    if rows > 0:
        del inter, X
        _peak_memory(rows)
    return 0
