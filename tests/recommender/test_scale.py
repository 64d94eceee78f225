"""The pieces that keep training fast and small at scale give the same answers as the
plain computations they replace."""

import numpy as np
import scipy.sparse as sp

from recommender.itemitem import factor_neighbours
from recommender.rankers.neighbours import cosine_topk, ease_weights, spd_inverse


def test_cholesky_inverse_equals_numpy_inverse():
    rng = np.random.default_rng(1)
    A = rng.random((300, 250))
    G = A.T @ A + 0.5 * np.eye(250)
    P = spd_inverse(G.copy(), block=64)
    assert np.allclose(P, np.linalg.inv(G), rtol=1e-9, atol=1e-12) and np.allclose(P, P.T)


def test_ease_weights_are_the_closed_form_and_row_major():
    X = sp.random(400, 120, density=0.05, format="csr", random_state=2, dtype=np.float32)
    X.data[:] = 1.0
    G = (X.T @ X).toarray().astype(np.float64) + 30.0 * np.eye(120)
    P = np.linalg.inv(G)
    B = P / (-np.diag(P))[None, :]
    B[np.diag_indices_from(B)] = 0.0
    W = ease_weights(X, 30.0)
    assert np.allclose(W, B, atol=1e-6)
    # Scoring multiplies sparse rows by W: a Fortran-ordered W would be copied on every call.
    assert W.flags.c_contiguous


def test_cosine_in_small_blocks_equals_one_block():
    X = sp.random(300, 500, density=0.03, format="csr", random_state=3, dtype=np.float32)
    small, whole = cosine_topk(X, 10, cells=16 * 500), cosine_topk(X, 10, cells=10 ** 9)
    assert (small != whole).nnz == 0 and np.diff(small.indptr).max() <= 10


def test_an_item_without_factors_has_no_factor_neighbours():
    V = np.random.default_rng(4).random((50, 8)).astype(np.float32)
    V[7] = 0.0  # e.g. a catalogue product nobody has interacted with
    S = factor_neighbours(V, 5, block=16)
    assert S.indptr[8] == S.indptr[7]
    assert (np.diff(S.indptr)[np.arange(50) != 7] == 5).all() and 7 not in S.indices


def test_top_k_settled_in_single_precision_equals_the_float64_ranking():
    """topk finds each row's k-th score in the scores' precision and sorts only what can
    reach the top; rows with ties at the edge take the float64 path. Either way the chosen
    items are the float64 ranking's (score + TIE_EPS * tiebreak), excluded ones never."""
    from recommender.rankers.base import TIE_EPS, topk

    rng = np.random.default_rng(0)
    for trial in range(120):
        n, m = int(rng.integers(1, 30)), int(rng.integers(1, 200))
        k = int(min(rng.integers(1, 40), m))
        scores = [rng.random((n, m)).astype(np.float32),  # distinct scores
                  ((rng.random((n, m)) < 0.05) * rng.integers(1, 3, (n, m))).astype(np.float32),  # mostly zero
                  (rng.random((n, m)) * 1e-6).astype(np.float32),  # closer together than TIE_EPS matters
                  np.round(rng.random((n, m)), 1)][trial % 4]  # float64 with many ties
        tiebreak = rng.random(m) * (rng.random(m) > 0.3)
        exclude = sp.random(n, m, density=0.1, format="csr", random_state=trial) if trial % 3 == 0 else None
        full = scores.astype(np.float64) + TIE_EPS * tiebreak[None, :]
        if exclude is not None:
            full[exclude.nonzero()] = -np.inf
        items, _ = topk(scores, k, tiebreak, exclude)
        got = np.where(items >= 0, np.take_along_axis(full, np.maximum(items, 0), axis=1), -np.inf)
        want = -np.sort(-full, axis=1)[:, :k]
        assert np.array_equal(got, want)
        assert all(len(set(row[row >= 0])) == len(row[row >= 0]) for row in items)
