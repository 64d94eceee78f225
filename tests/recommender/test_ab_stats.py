"""A/B intervals against published and hand-computed values (no database)."""

import pytest

from recommender import ab_stats
from recommender.ab_stats import Estimate


def _close(estimate, value, low, high, places=4):
    assert round(estimate.value, places) == pytest.approx(value, abs=10 ** -places)
    assert round(estimate.low, places) == pytest.approx(low, abs=10 ** -places)
    assert round(estimate.high, places) == pytest.approx(high, abs=10 ** -places)


@pytest.mark.parametrize("successes, n, low, high", [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table I, method 3 (Wilson).
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_the_published_values(successes, n, low, high):
    _close(ab_stats.wilson(successes, n), successes / n, low, high)


@pytest.mark.parametrize("first, second, low, high", [
    # Newcombe (1998), "Interval estimation for the difference between independent proportions",
    # Table II, method 10 (hybrid score). Differences are second minus first.
    ((48, 80), (56, 70), 0.0524, 0.3339), ((3, 10), (9, 10), 0.1705, 0.8090), ((2, 7), (6, 7), 0.0582, 0.8062),
    ((0, 29), (5, 56), -0.0381, 0.1926), ((0, 20), (0, 10), -0.1611, 0.2775), ((0, 20), (10, 10), 0.6791, 1.0),
])
def test_difference_of_rates_matches_newcombes_published_intervals(first, second, low, high):
    estimate = ab_stats.rate_difference(*first, *second)
    _close(estimate, second[0] / second[1] - first[0] / first[1], low, high)
    assert estimate.significant == (low > 0 or high < 0)


def test_mean_per_visitor_is_students_t_interval():
    # mean 6, sample variance (3·36 + 16 + 196) / 4 = 80, standard error √(80/5) = 4, t(0.975, 4) = 2.776445
    _close(ab_stats.mean([0, 0, 0, 10, 20]), 6.0, 6 - 2.776445 * 4, 6 + 2.776445 * 4)
    assert ab_stats.mean([]).value is None and ab_stats.mean([5.0]).low is None


def test_difference_of_means_is_welchs_interval():
    # equal variances (5/3) and sizes: df = 2(n - 1) = 6, t(0.975, 6) = 2.446912, se = √(2 · (5/3) / 4) = 0.912871
    estimate = ab_stats.mean_difference([1, 2, 3, 4], [3, 4, 5, 6])
    _close(estimate, 2.0, 2 - 2.446912 * 0.912871, 2 + 2.446912 * 0.912871)
    assert not estimate.significant
    assert ab_stats.mean_difference([0, 0, 0], [1, 1, 1]) == Estimate(1.0, 1.0, 1.0)  # no variance at all
    assert ab_stats.mean_difference([1], [1, 2]).value is None


def test_revenue_per_impression_uses_the_visitor_as_the_unit():
    # r = 30 / 10 = 3; residuals y - 3x = -3, 4, -9, 8 with variance 170/3; var(r) = (170/3) / (4 · 2.5²) = 2.266667
    se = 2.266667 ** 0.5
    _close(ab_stats.ratio([0, 10, 0, 20], [1, 2, 3, 4]), 3.0, 3 - 1.959964 * se, 3 + 1.959964 * se)
    # Two arms: the variances add.
    difference = ab_stats.ratio_difference(([0, 10, 0, 20], [1, 2, 3, 4]), ([0, 10, 0, 20], [1, 2, 3, 4]))
    _close(difference, 0.0, -1.959964 * (2 * 2.266667) ** 0.5, 1.959964 * (2 * 2.266667) ** 0.5)
    assert ab_stats.ratio([], []).value is None and ab_stats.ratio([4.0], [2]).value == 2.0


def test_significance_means_the_interval_excludes_zero():
    assert Estimate(0.1, 0.01, 0.2).significant and Estimate(-0.1, -0.2, -0.01).significant
    assert not Estimate(0.1, -0.01, 0.2).significant and not ab_stats.NONE.significant
