"""Command line: ``train``, ``recommend``, ``evaluate`` (``python -m recommender ...``).

This is the same code path the shop uses (the Django side builds the same
``Interactions`` from tracking events and calls the same pipeline). Progress
goes to stderr; bad input ends with one line ``error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time


from recommender.errors import InputError


def progress(msg: str) -> None:
    print(f"[recommender] {msg}", file=sys.stderr, flush=True)


def _load(args, cfg):
    from recommender.data import load_csv

    t = time.monotonic()
    progress(f"reading {args.interactions}")
    inter = load_csv(args.interactions, cfg, progress)
    progress(f"{len(inter):,} interactions, {inter.n_users:,} users, {inter.n_items:,} items "
             f"({time.monotonic() - t:.1f}s)")
    if getattr(args, "items", None):
        from recommender.items import load_items_csv, with_catalogue

        progress(f"reading {args.items}")
        features = load_items_csv(args.items)
        before = inter.n_items
        inter = with_catalogue(inter, features)
        progress(f"{len(features):,} items with features, {inter.n_items - before:,} of them without "
                 "interactions (recommendable by content)")
    return inter


def cmd_train(args) -> int:
    from recommender import artifact
    from recommender.config import load_config
    from recommender.pipeline import Pipeline

    cfg = load_config(args.config)
    refit = artifact.refit_inputs(args.refit) if args.refit else None  # a bad directory fails before the read
    inter = _load(args, cfg)
    pipe = Pipeline(cfg).fit(inter, progress, refit=refit)
    out = artifact.save(pipe, args.out)
    progress(f"model written to {out}")
    return 0


def read_users(path) -> list[str]:
    from recommender.data import csv_with_columns

    with csv_with_columns(path, "users", ("user_id",)) as (p, header, reader):
        col = header.index("user_id")
        users = [row[col] for row in reader if row and len(row) > col]
    if not users:
        raise InputError(f"{p}: no users (header but no rows)")
    return users


def cmd_recommend(args) -> int:
    from recommender import artifact

    if args.k < 1:
        raise InputError("--k must be at least 1")
    model = artifact.load(args.model)
    users = read_users(args.users)
    idx = model.user_indices(users)
    unknown = int((idx < 0).sum())
    progress(f"{len(users):,} users ({unknown:,} unknown to the model: popular fallback)")
    items, scores = model.recommend(idx, args.k, exclude_seen=args.exclude_seen)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["user_id", "item_id", "rank", "score"])
        for uid, row_i, row_s in zip(users, items, scores):
            rank = 0
            for i, s in zip(row_i, row_s):
                if i < 0:
                    continue
                rank += 1
                w.writerow([uid, model.item_ids[i], rank, f"{s:.6g}"])
    progress(f"recommendations written to {args.out}")
    return 0


def cmd_evaluate(args) -> int:
    from recommender.config import load_config
    from recommender.data import TrainData
    from recommender.evaluation import TASKS, baselines, evaluate, format_table, task_targets
    from recommender.pipeline import Pipeline
    from recommender.split import last_basket_split

    cfg = load_config(args.config)
    k = int(args.k or cfg["k"])
    cfg["k"] = k
    inter = _load(args, cfg)
    split = last_basket_split(inter, cfg["basket"])
    if len(split) == 0:
        raise InputError(f"{args.interactions}: no user has two or more baskets, nothing to evaluate")
    progress(f"test split: last basket of {len(split):,} users held out")
    data = TrainData.build(split.train, cfg)
    targets = {t: task_targets(split, data, t) for t in TASKS}
    pipe = Pipeline(cfg).fit(split.train, progress, with_lists=False)
    models = {"pipeline (default)": {"next": pipe.rankers["for_you"], "new": pipe.rankers["discover"]}}
    extra = {}
    if inter.item_features is not None:  # not a baseline: shows what content alone does
        from recommender.rankers import Content

        extra["content (tf-idf cosine)"] = Content()
    for name, r in {**baselines(cfg), **extra}.items():
        progress(f"baseline: {name}")
        r.fit(data)
        models[name] = {"next": r, "new": r}
    results = {}
    for name, per_task in models.items():
        results[name] = {t: evaluate(per_task[t], data, *targets[t], k, t) for t in TASKS}
    print(format_table(results, k))
    print(f"pipeline chose: next basket = {pipe.rankers['for_you'].describe()}; "
          f"new items = {pipe.rankers['discover'].describe()}")
    return 0


ITEMS_HELP = ("CSV of item features: item_id and any of title,description,category,brand; other columns "
              "are attributes. Items without interactions become recommendable by content similarity")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m recommender", description="Offline recommender: train, recommend, evaluate.")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="tune and fit a model on an interactions CSV")
    t.add_argument("--interactions", required=True, help="CSV with user_id,item_id,timestamp,event[,category]")
    t.add_argument("--out", required=True, help="model directory to write")
    t.add_argument("--config", help="JSON file overriding recommender.config.DEFAULTS")
    t.add_argument("--items", help=ITEMS_HELP)
    t.add_argument("--refit", metavar="MODEL_DIR",
                   help="no search: fit the configurations an earlier model directory chose (and measure them on "
                        "a holdout of customers' last baskets), warm-starting its item factors")
    t.set_defaults(func=cmd_train)
    r = sub.add_parser("recommend", help="top-k lists for users")
    r.add_argument("--model", required=True)
    r.add_argument("--users", required=True, help="CSV with a user_id column")
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--exclude-seen", action="store_true", help="never recommend items the user already bought")
    r.add_argument("--out", required=True, help="CSV to write: user_id,item_id,rank,score")
    r.set_defaults(func=cmd_recommend)
    e = sub.add_parser("evaluate", help="temporal split, pipeline vs baselines on both tasks")
    e.add_argument("--interactions", required=True)
    e.add_argument("--config")
    e.add_argument("--k", type=int, default=None)
    e.add_argument("--items", help=ITEMS_HELP)
    e.set_defaults(func=cmd_evaluate)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
