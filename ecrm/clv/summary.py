"""Transactions to the per-customer summary the BG/NBD and Gamma-Gamma models use.

The rules follow the models' standard formulation (Fader, Hardie & Lee 2005,
"Counting Your Customers the Easy Way", section 2; Fader & Hardie 2013, "The
Gamma-Gamma Model of Monetary Value"):

* purchases by one customer on the same day are one purchase whose amount is
  the sum of that day's amounts;
* time is measured in weeks, with the customer's first purchase day as time 0;
* ``frequency`` (x) is the number of *repeat* purchases, i.e. purchase days
  after the first one;
* ``recency`` (t_x) is the time of the last purchase, ``T`` the time of the
  observation end (the customer's "age");
* ``monetary`` (z-bar) is the mean amount of the repeat purchases (0 when
  there are none): the first purchase is left out, as in the Gamma-Gamma
  note;
* transactions after the observation end are ignored.

Nothing here imports Django; the input is a CSV file or plain tuples.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

REQUIRED_COLUMNS = ("customer_id", "date", "amount")
DAYS_PER_WEEK = 7.0
PROGRESS_EVERY = 200_000


class CLVInputError(ValueError):
    """Bad input: a one-line message meant for the person running the command."""


@dataclass(frozen=True)
class Purchases:
    """Purchases aggregated per customer and day: ``days[c]`` maps date -> amount."""

    days: dict[str, dict[date, float]]

    @property
    def first_date(self) -> date:
        return min(min(d) for d in self.days.values())

    @property
    def last_date(self) -> date:
        return max(max(d) for d in self.days.values())


@dataclass(frozen=True)
class CustomerSummary:
    """Per-customer RFM summary, aligned numpy arrays; times in weeks."""

    customer_ids: list[str]
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary: np.ndarray
    first_purchase: list[date]
    observation_end: date

    def __len__(self) -> int:
        return len(self.customer_ids)


def parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def _parse_amount(text: str, line: int) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise CLVInputError(f"line {line}: amount {text!r} is not a number") from None
    if not math.isfinite(value):
        raise CLVInputError(f"line {line}: amount {text!r} is not a finite number")
    if value < 0:
        raise CLVInputError(f"line {line}: amount {text!r} is negative")
    return value


def aggregate(rows) -> Purchases:
    """Sum ``(customer_id, date, amount)`` tuples per customer and day."""
    days: dict[str, dict[date, float]] = {}
    for customer, day, amount in rows:
        per_day = days.setdefault(str(customer), {})
        per_day[day] = per_day.get(day, 0.0) + float(amount)
    return Purchases(days)


def read_transactions(path: str | Path, progress=None) -> Purchases:
    """Read a ``customer_id,date,amount`` CSV (header required, extra columns ignored).

    Raises :class:`CLVInputError` with the line number for bad rows.
    ``progress`` (a file, e.g. ``sys.stderr``) receives a line every
    ``PROGRESS_EVERY`` rows.
    """
    path = Path(path)
    if not path.is_file():
        raise CLVInputError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise CLVInputError(f"{path}: the file is empty")
        names = [cell.strip().lower() for cell in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise CLVInputError(
                f"{path}: missing column(s) {', '.join(missing)}; "
                f"the header must name {', '.join(REQUIRED_COLUMNS)}")
        i_customer, i_date, i_amount = (names.index(c) for c in REQUIRED_COLUMNS)
        width = max(i_customer, i_date, i_amount) + 1

        def rows():
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) < width:
                    raise CLVInputError(f"line {line}: expected at least {width} columns, got {len(row)}")
                customer = row[i_customer].strip()
                if not customer:
                    raise CLVInputError(f"line {line}: empty customer_id")
                try:
                    day = parse_date(row[i_date])
                except ValueError:
                    raise CLVInputError(
                        f"line {line}: date {row[i_date]!r} is not YYYY-MM-DD") from None
                amount = _parse_amount(row[i_amount].strip(), line)
                if progress is not None and line % PROGRESS_EVERY == 0:
                    print(f"read {line:,} lines", file=progress, flush=True)
                yield customer, day, amount

        purchases = aggregate(rows())
    if not purchases.days:
        raise CLVInputError(f"{path}: no transactions in the file")
    return purchases


def summarise(purchases: Purchases, observation_end: date | None = None) -> CustomerSummary:
    """Frequency, recency, T (weeks) and repeat-purchase mean amount per customer.

    ``observation_end`` defaults to the last purchase date; later purchases
    are ignored and customers whose first purchase is later are left out.
    """
    if not purchases.days:
        raise CLVInputError("no transactions")
    end = observation_end or purchases.last_date
    ids, freq, rec, age, money, firsts = [], [], [], [], [], []
    for customer, per_day in purchases.days.items():
        kept = sorted(d for d in per_day if d <= end)
        if not kept:
            continue
        first = kept[0]
        repeats = kept[1:]
        ids.append(customer)
        firsts.append(first)
        freq.append(len(repeats))
        rec.append((kept[-1] - first).days / DAYS_PER_WEEK)
        age.append((end - first).days / DAYS_PER_WEEK)
        money.append(sum(per_day[d] for d in repeats) / len(repeats) if repeats else 0.0)
    if not ids:
        raise CLVInputError(
            f"the observation end {end.isoformat()} is before every transaction "
            f"(the first is on {purchases.first_date.isoformat()})")
    return CustomerSummary(
        customer_ids=ids,
        frequency=np.asarray(freq, dtype=float),
        recency=np.asarray(rec, dtype=float),
        T=np.asarray(age, dtype=float),
        monetary=np.asarray(money, dtype=float),
        first_purchase=firsts,
        observation_end=end,
    )


def holdout_counts(purchases: Purchases, summary: CustomerSummary, holdout_end: date) -> np.ndarray:
    """Purchase days of each summarised customer in (observation end, holdout end]."""
    start = summary.observation_end
    return np.asarray([
        sum(1 for d in purchases.days[c] if start < d <= holdout_end)
        for c in summary.customer_ids
    ], dtype=float)


def add_weeks(origin: date, weeks: float) -> date:
    return origin + timedelta(days=round(weeks * DAYS_PER_WEEK))


__all__ = [
    "CLVInputError", "CustomerSummary", "Purchases", "aggregate", "holdout_counts",
    "read_transactions", "summarise", "add_weeks", "parse_date",
]
