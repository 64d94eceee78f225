"""Command line: ``python -m ecrm.clv fit --transactions FILE [...]``.

``fit`` fits BG/NBD and Gamma-Gamma on a ``customer_id,date,amount`` CSV and
prints the estimates (``--json`` for machine-readable output) and optionally
writes per-customer predictions. ``holdout`` fits on the purchases up to the
observation end and compares predicted with actual repeat purchases after it.
Bad input gives a one-line ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date
from pathlib import Path

from ._fit import FitError
from .diagnostics import holdout
from .summary import CLVInputError, read_transactions, summarise
from .value import PREDICTION_COLUMNS, fit_models, predictions

BIG = 50_000  # customers; above this the command reports its progress on stderr


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ecrm.clv", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fit = commands.add_parser("fit", help="fit BG/NBD and Gamma-Gamma, predict per customer")
    fit.add_argument("--transactions", required=True, metavar="FILE",
                     help="CSV with customer_id,date,amount (dates YYYY-MM-DD)")
    fit.add_argument("--observation-end", type=_iso_date, metavar="YYYY-MM-DD",
                     help="ignore later transactions (default: the last transaction date)")
    fit.add_argument("--predictions", metavar="OUT.csv", help="write per-customer predictions here")
    fit.add_argument("--horizon-months", type=int, default=12, help="CLV horizon in months (default 12)")
    fit.add_argument("--discount-rate", type=float, default=0.1,
                     help="annual discount rate for the CLV (default 0.1)")
    fit.add_argument("--json", action="store_true", help="print the estimates as JSON")
    check = commands.add_parser("holdout", help="predicted vs actual repeat purchases after the observation end")
    check.add_argument("--transactions", required=True, metavar="FILE")
    check.add_argument("--observation-end", type=_iso_date, required=True, metavar="YYYY-MM-DD")
    check.add_argument("--holdout-end", type=_iso_date, metavar="YYYY-MM-DD",
                       help="default: the last transaction date")
    check.add_argument("--json", action="store_true", help="print the whole comparison as JSON")
    return parser


def _write_predictions(path: str, rows: list[dict]) -> None:
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(PREDICTION_COLUMNS)
        for row in rows:
            cells = []
            for column in PREDICTION_COLUMNS:
                value = row[column]
                if value is None:
                    cells.append("")
                elif isinstance(value, float):
                    cells.append(f"{value:.6f}")
                elif isinstance(value, date):
                    cells.append(value.isoformat())
                else:
                    cells.append(value)
            writer.writerow(cells)


def _fit(args, err) -> int:
    if args.horizon_months < 0:
        raise CLVInputError("--horizon-months must not be negative")
    if args.discount_rate <= -1:
        raise CLVInputError("--discount-rate must be greater than -1")
    purchases = read_transactions(args.transactions, progress=err)
    summary = summarise(purchases, args.observation_end)
    big = len(summary) > BIG
    if big:
        print(f"fitting on {len(summary):,} customers", file=err, flush=True)
    fitted = fit_models(summary)
    for warning in fitted.warnings():
        print(f"warning: {warning}", file=err, flush=True)
    rows = None
    if args.predictions or not args.json:
        if big:
            print("predicting per customer", file=err, flush=True)
        rows = predictions(fitted, horizon_months=args.horizon_months, discount_rate=args.discount_rate)
    if args.predictions:
        _write_predictions(args.predictions, rows)
    if args.json:
        print(json.dumps(fitted.as_dict()))
        return 0
    bg, gg = fitted.bgnbd, fitted.gamma_gamma
    repeaters = int((summary.frequency > 0).sum())
    print(f"customers      {len(summary):,} ({repeaters:,} with repeat purchases), "
          f"observation end {summary.observation_end.isoformat()}")
    print(f"BG/NBD         r={bg.r:.4f} alpha={bg.alpha:.4f} a={bg.a:.4f} b={bg.b:.4f}")
    print(f"Gamma-Gamma    p={gg.p:.4f} q={gg.q:.4f} gamma={gg.gamma:.4f}")
    n = len(rows)
    print(f"next 90 days   {sum(r['expected_purchases_90d'] for r in rows):,.1f} expected purchases; "
          f"next 365 days {sum(r['expected_purchases_365d'] for r in rows):,.1f}")
    print(f"P(alive)       mean {sum(r['probability_alive'] for r in rows) / n:.3f}")
    print(f"CLV            {sum(r['predicted_clv'] for r in rows):,.2f} in total over "
          f"{args.horizon_months} months at {args.discount_rate:g}/year")
    if args.predictions:
        print(f"predictions    {args.predictions}")
    return 0


def _holdout(args, err) -> int:
    purchases = read_transactions(args.transactions, progress=err)
    end = args.holdout_end or purchases.last_date
    if end <= args.observation_end:
        raise CLVInputError(f"the holdout end {end.isoformat()} is not after the observation end")
    report = holdout(purchases, args.observation_end, end)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"holdout        {report['holdout_weeks']:.1f} weeks after {args.observation_end.isoformat()}")
    print(f"repeat purchases: actual {report['actual_total']:.0f}, predicted {report['predicted_total']:.1f}")
    print("frequency  customers  actual  predicted")
    for row in report["by_frequency"]:
        print(f"{row['frequency']:>9}  {row['customers']:>9}  {row['actual']:6.2f}  {row['predicted']:9.2f}")
    return 0


def main(argv=None, out=None, err=None) -> int:
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    saved = sys.stdout
    if out is not None:
        sys.stdout = out
    try:
        return (_fit if args.command == "fit" else _holdout)(args, err)
    except (CLVInputError, FitError, OSError) as error:
        print(f"error: {error}", file=err)
        return 2
    finally:
        sys.stdout = saved
