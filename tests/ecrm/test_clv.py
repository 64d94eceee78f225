"""BG/NBD and Gamma-Gamma (ecrm.clv): the published CDNOW estimates, the summary rules,
predictions, the holdout diagnostic and the command line. Pure: no database."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from ecrm.clv import bgnbd, diagnostics, gamma_gamma
from ecrm.clv.cli import main
from ecrm.clv.summary import aggregate, read_transactions, summarise
from ecrm.clv.value import PREDICTION_COLUMNS, customer_lifetime_value, fit_models

ROOT = Path(__file__).resolve().parents[2]
CDNOW = Path(__file__).parent / "data" / "cdnow_sample.csv"
CALIBRATION_END = date(1997, 9, 30)  # weeks 1-39 of the CDNOW sample

# Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", CDNOW calibration fit.
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
# Fader, Hardie & Lee (2005), "RFM and CLV"; Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value".
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow_purchases():
    return read_transactions(CDNOW)


@pytest.fixture(scope="module")
def cdnow(cdnow_purchases):
    return fit_models(summarise(cdnow_purchases, CALIBRATION_END))


def _within_1_percent(estimates: dict, published: dict) -> dict:
    return {k: estimates[k] / v - 1 for k, v in published.items() if abs(estimates[k] / v - 1) > 0.01}


# --- acceptance: the published estimates -----------------------------------------------------

def test_cdnow_summary_matches_the_published_calibration_data(cdnow):
    s = cdnow.summary
    assert len(s) == 2357
    assert int(s.frequency.sum()) == 2457  # repeat purchases in weeks 1-39
    assert int((s.frequency > 0).sum()) == 946  # the Gamma-Gamma customers
    one = s.customer_ids.index("1")  # 1997-01-01, 01-18, 08-02 (and 12-12, after the end)
    assert (s.frequency[one], s.recency[one], s.T[one], s.monetary[one]) == (
        2, 213 / 7, 272 / 7, pytest.approx((29.73 + 14.96) / 2))


def test_bgnbd_agrees_with_fader_hardie_lee_2005_within_1_percent(cdnow):
    estimates = cdnow.bgnbd.as_dict()
    assert _within_1_percent(estimates, PUBLISHED_BGNBD) == {}
    # The paper reports a log-likelihood of -9582.4 at its optimum.
    s = cdnow.summary
    ll = bgnbd.log_likelihood(cdnow.bgnbd.params, s.frequency, s.recency, s.T).sum()
    assert ll == pytest.approx(-9582.4, abs=0.1)


def test_gamma_gamma_agrees_with_the_published_estimates_within_1_percent(cdnow):
    assert _within_1_percent(cdnow.gamma_gamma.as_dict(), PUBLISHED_GAMMA_GAMMA) == {}


# --- the summary rules -----------------------------------------------------------------------

TINY = [
    ("c1", date(2024, 1, 1), 10.0), ("c1", date(2024, 1, 1), 5.0),    # one first purchase of 15
    ("c1", date(2024, 1, 15), 20.0), ("c1", date(2024, 1, 15), 4.0),  # one repeat purchase of 24
    ("c1", date(2024, 1, 29), 30.0),
    ("c1", date(2024, 3, 1), 100.0),                                   # after the observation end
    ("c2", date(2024, 1, 8), 50.0),
    ("c3", date(2024, 2, 20), 7.0),                                    # first purchase after the end
]


def test_summary_rules_on_a_tiny_dataset():
    s = summarise(aggregate(TINY), date(2024, 2, 12))
    assert s.customer_ids == ["c1", "c2"]
    assert s.frequency.tolist() == [2, 0]  # same-day purchases count once; repeats only
    assert s.recency.tolist() == [4.0, 0.0]  # weeks from the first purchase
    assert s.T.tolist() == [6.0, 5.0]  # weeks from the first purchase to the observation end
    assert s.monetary.tolist() == [27.0, 0.0]  # mean of the repeat days' sums (24, 30)


def test_summary_defaults_to_the_last_transaction_date():
    s = summarise(aggregate(TINY))
    assert s.observation_end == date(2024, 3, 1)
    assert s.customer_ids == ["c1", "c2", "c3"]
    assert s.frequency.tolist() == [3, 0, 0]
    assert s.monetary[0] == pytest.approx((24 + 30 + 100) / 3)


# --- predictions -----------------------------------------------------------------------------

def test_probability_alive_is_one_without_repeat_purchases(cdnow):
    s = cdnow.summary
    alive = bgnbd.probability_alive(cdnow.bgnbd.params, s.frequency, s.recency, s.T)
    assert np.all(alive[s.frequency == 0] == 1.0)
    assert np.all((alive > 0) & (alive <= 1))
    # A recent buyer is more likely alive than one who has been silent for months.
    recent, silent = bgnbd.probability_alive(cdnow.bgnbd.params, [3, 3], [38, 5], [39, 39])
    assert recent > 0.8 > 0.1 > silent


def test_expected_purchases_increase_with_time(cdnow):
    params = cdnow.bgnbd.params
    t = np.array([1, 4, 13, 26, 52, 104, 260.0])
    for x, t_x, T in [(0, 0, 39), (2, 30, 39), (10, 38, 39)]:
        expected = bgnbd.conditional_expected_purchases(params, t, x, t_x, T)
        assert np.all(np.diff(expected) > 0)
    assert np.all(np.diff(bgnbd.expected_purchases(params, t)) > 0)


def test_expected_next_order_reaches_one_expected_purchase(cdnow):
    params = cdnow.bgnbd.params
    weeks = bgnbd.weeks_to_next_purchase(params, np.array([10.0, 0.0]), np.array([38.0, 0.0]), np.array([39.0, 39.0]))
    assert 0 < weeks[0] < 26
    assert bgnbd.conditional_expected_purchases(params, weeks[0], 10, 38, 39) == pytest.approx(1.0, abs=1e-6)
    assert np.isnan(weeks[1])  # a one-off buyer is not expected to reach one more order in five years


def test_clv_decreases_with_a_higher_discount_rate_and_grows_with_the_horizon(cdnow):
    s, bg, gg = cdnow.summary, cdnow.bgnbd, cdnow.gamma_gamma
    args = (bg, gg, s.frequency, s.recency, s.T, s.monetary)
    base = customer_lifetime_value(*args, horizon_months=12, discount_rate=0.1)
    assert np.all(customer_lifetime_value(*args, horizon_months=12, discount_rate=0.3) < base)
    assert np.all(customer_lifetime_value(*args, horizon_months=24, discount_rate=0.1) > base)
    assert np.all(customer_lifetime_value(*args, horizon_months=0, discount_rate=0.1) == 0)
    # Undiscounted, the CLV is expected purchases times expected spend.
    flat = customer_lifetime_value(*args, horizon_months=12, discount_rate=0.0)
    purchases = bgnbd.conditional_expected_purchases(bg.params, 12 * 365.25 / 12 / 7, s.frequency, s.recency, s.T)
    spend = gamma_gamma.conditional_expected_spend(gg.params, s.frequency, s.monetary)
    assert np.allclose(flat, purchases * spend)


def test_expected_spend_shrinks_towards_the_population_mean(cdnow):
    gg = cdnow.gamma_gamma
    assert gamma_gamma.conditional_expected_spend(gg.params, 0, 0) == pytest.approx(gg.population_mean)
    few, many = gamma_gamma.conditional_expected_spend(gg.params, [1, 20], [100, 100])
    assert gg.population_mean < few < many < 100


# --- the holdout diagnostic ------------------------------------------------------------------

def test_holdout_weeks_40_to_78_on_cdnow(cdnow_purchases):
    report = diagnostics.holdout(cdnow_purchases, CALIBRATION_END, date(1998, 6, 30))
    assert report["holdout_weeks"] == 39
    assert report["actual_total"] == 1882
    # Measured: the sum of conditional expectations is 1653.4, 12.1 % under the actual 1882
    # (the under-forecast for customers with 1-2 calibration repeat purchases, as in the
    # paper's conditional-expectation figure).
    assert report["predicted_total"] == pytest.approx(1882, rel=0.15)
    weekly = report["weekly"]
    assert len(weekly) == 78 and weekly[38]["date"] == "1997-09-30" and weekly[-1]["date"] == "1998-06-30"
    assert weekly[38]["actual"] == 2457 and weekly[-1]["actual"] == 4339
    # Cumulative repeat purchases tracked week by week: within 5 % at week 39 (measured +1.5 %)
    # and at week 78 (measured -4.1 %).
    assert weekly[38]["expected"] == pytest.approx(2457, rel=0.05)
    assert weekly[-1]["expected"] == pytest.approx(4339, rel=0.05)
    buckets = {row["frequency"]: row for row in report["by_frequency"]}
    assert list(buckets) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert sum(row["customers"] for row in buckets.values()) == 2357
    assert buckets["0"]["predicted"] == pytest.approx(buckets["0"]["actual"], rel=0.1)
    assert buckets["7+"]["predicted"] == pytest.approx(buckets["7+"]["actual"], rel=0.1)


# --- the command line ------------------------------------------------------------------------

def test_command_line_end_to_end(tmp_path):
    out = tmp_path / "predictions.csv"
    result = subprocess.run(
        [sys.executable, "-m", "ecrm.clv", "fit", "--transactions", str(CDNOW),
         "--observation-end", "1997-09-30", "--predictions", str(out), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # 946 repeat buyers, q well above 1
    printed = json.loads(result.stdout)
    assert list(printed) == ["bgnbd", "gamma_gamma", "customers"]
    assert list(printed["bgnbd"]) == ["r", "alpha", "a", "b"]
    assert list(printed["gamma_gamma"]) == ["p", "q", "gamma"]
    assert printed["customers"] == 2357
    assert _within_1_percent(printed["bgnbd"], PUBLISHED_BGNBD) == {}
    assert _within_1_percent(printed["gamma_gamma"], PUBLISHED_GAMMA_GAMMA) == {}
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == PREDICTION_COLUMNS
    assert len(rows) == 2357
    first = rows[0]
    assert first["customer_id"] == "1" and first["frequency"] == "2"
    assert date.fromisoformat(first["expected_next_order_date"]) > CALIBRATION_END
    one_off = next(r for r in rows if r["frequency"] == "0")
    assert float(one_off["probability_alive"]) == 1.0 and one_off["expected_next_order_date"] == ""
    assert all(float(r["predicted_clv"]) >= 0 for r in rows)
    # Customer 1901 bought 22 times in five weeks, then nothing for 24 weeks: churned.
    churned = next(r for r in rows if r["customer_id"] == "1901")
    assert float(churned["probability_alive"]) < 1e-6 and float(churned["predicted_clv"]) < 0.01


def test_command_line_readable_summary(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert main(["fit", "--transactions", str(CDNOW), "--observation-end", "1997-09-30",
                 "--discount-rate", "0.2", "--horizon-months", "24"], out=out, err=err) == 0
    text = out.getvalue()
    assert "2,357 (946 with repeat purchases)" in text and "r=0.2426" in text and "24 months at 0.2/year" in text


def test_a_thin_history_fits_but_is_flagged(tmp_path):
    """40 customers, 21 of them repeat buyers: the fit converges (to extreme parameters),
    so the numbers come out, with a warning on stderr; stdout stays the plain JSON."""
    rng = random.Random(3)
    lines = ["customer_id,date,amount"]
    for customer in range(40):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(120))
        for k in range(rng.choice([1, 1, 1, 2, 3, 5])):
            lines.append(f"c{customer},{start + timedelta(days=k * rng.randrange(10, 40))},{rng.randrange(10, 60)}")
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["fit", "--transactions", str(path), "--json"], out=out, err=err) == 0
    assert list(json.loads(out.getvalue())) == ["bgnbd", "gamma_gamma", "customers"]
    assert err.getvalue() == ("warning: only 21 customers bought more than once: with fewer than 50 repeat "
                              "buyers the estimates are very uncertain\n")


def _run(tmp_path, content: str | None, *extra: str) -> tuple[int, str]:
    path = tmp_path / "orders.csv"
    if content is not None:
        path.write_text(content)
    err = io.StringIO()
    status = main(["fit", "--transactions", str(path), "--json", *extra], out=io.StringIO(), err=err)
    return status, err.getvalue()


@pytest.mark.parametrize("content, extra, message", [
    (None, (), "orders.csv: no such file"),
    ("", (), "orders.csv: the file is empty"),
    ("customer_id,date,amount\n", (), "orders.csv: no transactions in the file"),
    ("customer,date,amount\nc1,2024-01-01,5\n", (), "missing column(s) customer_id"),
    ("customer_id,when\nc1,2024-01-01\n", (), "missing column(s) date, amount"),
    ("customer_id,date,amount\nc1,2024-01-01,5\nc1,01/02/2024,5\n", (), "line 3: date '01/02/2024' is not YYYY-MM-DD"),
    ("customer_id,date,amount\nc1,2024-01-01,5\nc2,2024-01-02,-3\n", (), "line 3: amount '-3' is negative"),
    ("customer_id,date,amount\nc1,2024-01-01,five\n", (), "line 2: amount 'five' is not a number"),
    ("customer_id,date,amount\nc1,2024-01-01,nan\n", (), "line 2: amount 'nan' is not a finite number"),
    ("customer_id,date,amount\nc1,2024-01-01,5\nc2,2024-02-01,5\n", ("--observation-end", "2023-12-31"),
     "the observation end 2023-12-31 is before every transaction (the first is on 2024-01-01)"),
    ("customer_id,date,amount\na,2020-01-01,10\nb,2020-02-01,12\nb,2020-01-05,8\n", (),
     "the fit of (r, alpha, a, b) did not converge"),
    ("customer_id,date,amount\na,2020-01-01,10\nb,2020-02-01,12\n", (),
     "the BG/NBD fit needs at least one customer with a repeat purchase"),
])
def test_bad_input_gives_one_line_and_status_2(tmp_path, content, extra, message):
    status, err = _run(tmp_path, content, *extra)
    assert status == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_bad_option_values_exit_with_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--transactions", str(CDNOW), "--observation-end", "30/09/1997"])
    assert exit_.value.code == 2
    assert "'30/09/1997' is not a YYYY-MM-DD date" in capsys.readouterr().err
    status, err = _run(tmp_path, "customer_id,date,amount\nc1,2024-01-01,5\n", "--discount-rate", "-1")
    assert status == 2 and "--discount-rate must be greater than -1" in err


def test_error_exit_status_from_the_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ecrm.clv", "fit", "--transactions", str(tmp_path / "nope.csv")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.csv'}: no such file"


def test_no_django_in_the_package():
    code = "import sys, ecrm.clv.cli, ecrm.clv; assert not any(m.startswith('django') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def _paper_bgnbd_log_likelihood(params, x, t_x, T) -> float:
    """Equation (6) of FHL 2005 for one customer, written out with scipy's scalar functions."""
    from math import exp, log

    from scipy.special import beta, gamma

    r, alpha, a, b = params
    common = gamma(r + x) * alpha ** r / gamma(r)
    value = beta(a, b + x) / beta(a, b) * common / (alpha + T) ** (r + x)
    if x > 0:
        value += beta(a + 1, b + x - 1) / beta(a, b) * common / (alpha + t_x) ** (r + x)
    return log(value) if value > 0 else -exp(700)


def test_the_fits_likelihoods_per_distinct_value_equal_the_formulas_per_customer(cdnow):
    """The fit takes log-gamma and log-beta once per distinct x (and logs once per distinct
    t_x and T) and gathers them: every customer still gets the formula's value."""
    s = cdnow.summary
    params = cdnow.bgnbd.params
    fast = bgnbd.likelihood_of(s.frequency, s.recency, s.T)(params)
    assert len(np.unique(s.frequency)) < 40 < len(s)  # the distinct values are few
    for i in range(0, len(s), 97):
        assert fast[i] == pytest.approx(
            _paper_bgnbd_log_likelihood(params, s.frequency[i], s.recency[i], s.T[i]), rel=1e-9)
    p, q, g = cdnow.gamma_gamma.params
    keep = (s.frequency > 0) & (s.monetary > 0)
    x, z = s.frequency[keep], s.monetary[keep]
    spend = gamma_gamma.likelihood_of(x, z)((p, q, g))
    from scipy.special import gammaln
    for i in range(0, len(x), 41):
        px = p * x[i]
        direct = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g) + (px - 1) * np.log(z[i])
                  + px * np.log(x[i]) - (px + q) * np.log(g + x[i] * z[i]))
        assert spend[i] == direct  # the same operations in the same order: identical


def test_alike_customers_computed_once_get_each_their_own_prediction(cdnow):
    """Predictions are computed per distinct (x, t_x, T) and gathered back: in a shuffled
    crowd with many duplicates each customer's value equals that customer computed alone."""
    s, bg, gg = cdnow.summary, cdnow.bgnbd, cdnow.gamma_gamma
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(s), 400)  # duplicates on purpose
    x, t_x, T, z = s.frequency[pick], s.recency[pick], s.T[pick], s.monetary[pick]
    wait = bgnbd.weeks_to_next_purchase(bg.params, x, t_x, T)
    clv = customer_lifetime_value(bg, gg, x, t_x, T, z, horizon_months=12, discount_rate=0.1)
    for i in range(0, 400, 13):
        alone = slice(i, i + 1)
        assert np.array_equal(wait[alone], bgnbd.weeks_to_next_purchase(bg.params, x[alone], t_x[alone], T[alone]),
                              equal_nan=True)
        assert clv[i] == customer_lifetime_value(bg, gg, x[alone], t_x[alone], T[alone], z[alone])[0]


def test_weekly_expected_purchases_equal_the_sum_over_customers(cdnow, cdnow_purchases):
    s, params = cdnow.summary, cdnow.bgnbd.params
    weekly = diagnostics.weekly_cumulative(params, cdnow_purchases, s, CALIBRATION_END)
    origin = min(s.first_purchase)
    for week in (1, 10, 39):
        cut = origin + timedelta(days=7 * week - 1)
        elapsed = [(cut - first).days / 7.0 for first in s.first_purchase if first <= cut]
        assert weekly[week - 1]["expected"] == pytest.approx(float(sum(bgnbd.expected_purchases(params, e)
                                                                           for e in elapsed)), rel=1e-12)
