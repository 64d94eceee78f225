"""Customer metrics by hand (no database): Pareto share, Lorenz curve, Gini, cohorts,
repeat purchase rate, new customers, AOV by month, price bands."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ecrm.customer_metrics import (Purchase, add_months, average_retention, cohort_retention, customer_summary,
                                   monthly_order_values, pareto, price_band_index, price_band_label)


def _p(n, person, month, day, total):
    return Purchase(n, person, datetime(2026, month, day, 12, tzinfo=timezone.utc), Decimal(total))


PURCHASES = [_p(1, "alice", 1, 10, "40"), _p(2, "alice", 2, 5, "60"), _p(3, "alice", 4, 1, "10"),
             _p(4, "bob", 1, 20, "25"), _p(5, "carol", 2, 3, "30"), _p(6, "carol", 3, 3, "50"),
             _p(7, "dave", 3, 15, "20")]


def test_top_fifth_of_customers_and_their_share():
    result = pareto({"a": Decimal(100), "b": Decimal(50), "c": Decimal(20), "d": Decimal(20), "e": Decimal(10)})
    assert (result["customers"], result["top_customers"], result["top_revenue"]) == (5, 1, 100.0)
    assert result["top_share"] == 0.5
    curve = {point["customers"]: point["revenue"] for point in result["curve"]}
    assert (curve[0], curve[20], curve[40], curve[100], curve[10]) == (0, 50, 75, 100, 25)


def test_top_fifth_rounds_up_and_gini_spans_equal_to_concentrated():
    assert pareto({"a": Decimal(1), "b": Decimal(1), "c": Decimal(1)})["top_customers"] == 1  # ceil(0.6)
    assert pareto({str(i): Decimal(3) for i in range(6)})["top_customers"] == 2  # ceil(1.2)
    assert pareto({str(i): Decimal(5) for i in range(4)})["gini"] == pytest.approx(0.0)
    assert pareto({"a": Decimal(9), "b": Decimal(0), "c": Decimal(0)})["gini"] == pytest.approx(2 / 3)
    assert pareto({})["top_share"] is None and pareto({})["curve"] == []


def test_cohort_retention_by_first_order_month():
    rows = cohort_retention(PURCHASES, first_month=date(2026, 1, 1), last_month=date(2026, 4, 1))
    table = {row["cohort"].month: (row["customers"], row["retained"], row["rates"]) for row in rows}
    assert table[1] == (2, [2, 1, 0, 1], [1.0, 0.5, 0.0, 0.5])  # alice and bob; alice in Feb and Apr
    assert table[2] == (1, [1, 1, 0], [1.0, 1.0, 0.0])  # carol, again in March
    assert table[3] == (1, [1, 0], [1.0, 0.0])
    assert table[4] == (0, [0], [None])
    assert average_retention(rows) == [1.0, 0.5, 0.0, 0.5]  # M1: (1 + 1 + 0) / (2 + 1 + 1)


def test_cohorts_before_the_window_are_left_out_but_their_first_order_counts():
    rows = cohort_retention(PURCHASES, first_month=date(2026, 2, 1), last_month=date(2026, 3, 1))
    assert [(row["cohort"].month, row["customers"]) for row in rows] == [(2, 1), (3, 1)]  # alice is January's


def test_summary_new_and_repeat_customers():
    since, until = datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc)
    summary = customer_summary(PURCHASES, since, until)
    assert (summary["orders"], summary["revenue"], summary["customers"]) == (4, Decimal("160"), 3)
    assert summary["average_order_value"] == Decimal("40")
    assert summary["new_customers"] == 2  # carol and dave; alice first ordered in January
    assert (summary["repeat_customers"], summary["repeat_rate"]) == (2, 2 / 3)  # alice (Jan + Feb), carol


def test_average_order_value_per_month():
    rows = monthly_order_values(PURCHASES, first_month=date(2025, 12, 1), last_month=date(2026, 2, 1))
    assert [(r["month"].month, r["orders"], r["revenue"], r["average_order_value"]) for r in rows] == [
        (12, 0, Decimal("0"), None), (1, 2, Decimal("65"), Decimal("32.5")), (2, 2, Decimal("90"), Decimal("45"))]
    assert add_months(date(2026, 1, 1), -2) == date(2025, 11, 1)


def test_price_bands():
    bands = [10, 25, 50]
    assert [price_band_index(bands, price) for price in (0, 9.99, 10, 49.99, 50, 500)] == [0, 0, 1, 2, 3, 3]
    assert [price_band_label(bands, i) for i in range(4)] == ["under 10", "10–25", "25–50", "50 and over"]
