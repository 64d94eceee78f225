"""Metrics against values computed by hand."""

import math

import pytest

from recommender.metrics import coverage, ndcg_at_k, recall_at_k, summarise


def test_ndcg_hand_computed():
    # Hits at ranks 2 and 4; k=3 sees only rank 2. IDCG@3 for 2 targets: 1 + 1/log2(3).
    assert ndcg_at_k([1, 2, 3, 4], {2, 4}, 3) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([2, 4, 9], {2, 4}, 3) == pytest.approx(1.0)
    assert ndcg_at_k([7, 8, 9], {2}, 3) == 0.0
    # More targets than k: the ideal fills all k slots.
    assert ndcg_at_k([1, 9], [1, 2, 3], 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert ndcg_at_k([1], [], 10) == 0.0


def test_recall_hand_computed():
    assert recall_at_k([1, 2, 3, 4], {2, 4}, 3) == 0.5
    assert recall_at_k([1, 2, 3, 4], {2, 4}, 4) == 1.0
    # Plain recall: with more targets than k, the denominator is still |targets|.
    assert recall_at_k([1, 2], [1, 2, 3, 4], 2) == 0.5


def test_coverage_and_summary():
    assert coverage([[0, 1], [1, 2]], 10, 2) == pytest.approx(0.3)
    assert coverage([[0, 1], [1, 2]], 10, 1) == pytest.approx(0.2)
    s = summarise([[1, 2], [3, 4]], [[1], [5]], 5, 2)
    assert s["ndcg"] == pytest.approx(0.5)
    assert s["recall"] == pytest.approx(0.5)
    assert s["coverage"] == pytest.approx(0.8)
    assert s["users"] == 2
