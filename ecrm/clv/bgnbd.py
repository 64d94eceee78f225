"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

"Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD
Model", Marketing Science 24(2), 275-284. While alive a customer buys as a
Poisson process with rate lambda ~ Gamma(r, alpha); after each purchase they
drop out with probability p ~ Beta(a, b). Time is in weeks (see
:mod:`ecrm.clv.summary`); ``x`` is the number of repeat purchases, ``t_x``
the time of the last one and ``T`` the time of the observation end, all
measured from the customer's first purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1

from ._fit import FitError, maximise

STARTS = ((0.5, 5.0, 0.5, 2.0), (1.0, 1.0, 1.0, 1.0), (0.2, 20.0, 2.0, 5.0), (2.0, 50.0, 0.2, 0.5))


def log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer log-likelihood, equation (6) of the paper.

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

    computed in logs (appendix form A1 + ln(A2 + [x>0] A3)).
    """
    return likelihood_of(x, t_x, T)(params)


def likelihood_of(x, t_x, T):
    """``log_likelihood`` of these customers as a function of the parameters, for the fit,
    which evaluates it hundreds of times: the special functions (log-gamma, log-beta) and
    logarithms are taken once per distinct x, t_x and T (tens and hundreds of values, not
    one per customer), the same numbers the per-customer formula gives, then gathered."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    xu, xi = np.unique(x, return_inverse=True)
    tu, ti = np.unique(t_x, return_inverse=True)
    Tu, Ti = np.unique(T, return_inverse=True)
    repeat, repeat_u = x > 0, xu > 0
    rx_of = x  # r + x, per customer, each call

    def loglik(params) -> np.ndarray:
        r, alpha, a, b = params
        rx = r + rx_of
        beta_ab = betaln(a, b)
        a1 = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha))[xi]
        a2 = (betaln(a, b + xu) - beta_ab)[xi] - rx * np.log(alpha + Tu)[Ti]
        a3 = np.where(repeat,
                      (betaln(a + 1, np.where(repeat_u, b + xu - 1, b)) - beta_ab)[xi]
                      - rx * np.log(alpha + tu)[ti],
                      -np.inf)
        return a1 + np.logaddexp(a2, a3)

    return loglik


def expected_purchases(params, t) -> np.ndarray:
    """Unconditional E[X(t)] for a customer who made a first purchase at 0, equation (9).

    E[X(t)] = (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]
    """
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def _dropout_odds(params, x, t_x, T) -> np.ndarray:
    """[x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x): the denominator term of (10) and of P(alive)."""
    r, alpha, a, b = params
    repeat = x > 0
    log_odds = (np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0))
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(repeat, np.exp(log_odds), 0.0)


def probability_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    From the paper (section 5) and Fader, Hardie & Lee (2008), "Computing
    P(alive) Using the BG/NBD Model" (note). It is 1 for customers with no
    repeat purchase: in the BG/NBD model a customer can only drop out right
    after a purchase.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return 1.0 / (1.0 + _dropout_odds(params, x, t_x, T))


def conditional_expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` weeks, equation (10).

    E[Y(t)|x,t_x,T] = (a+b+x-1)/(a-1)
        * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
        / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    """
    r, alpha, a, b = params
    t, x, t_x, T = (np.asarray(v, dtype=float) for v in (t, x, t_x, T))
    z = t / (alpha + T + t)
    growth = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * growth / (1 + _dropout_odds(params, x, t_x, T))


def weeks_to_next_purchase(params, x, t_x, T, *, cap: float = 260.0, iterations: int = 60) -> np.ndarray:
    """Weeks after T until the expected number of further purchases reaches one.

    This is our definition of the "expected date of the next order": the
    smallest t with E[Y(t) | x, t_x, T] = 1 (equation 10; E[Y(t)] increases
    with t). It accounts for the chance that the customer has churned, so for
    customers unlikely to buy again within ``cap`` weeks it is NaN (no date).
    The simpler "mean waiting time while alive", E[1/lambda], is infinite
    whenever r + x <= 1, which is typical for one-off buyers, so it is not used.
    Solved for all customers at once by bisection on log(t).
    """
    (x, t_x, T), back = distinct_customers(x, t_x, T)
    reach = conditional_expected_purchases(params, np.full_like(x, cap), x, t_x, T)
    lo = np.full_like(x, np.log(1e-4))
    hi = np.full_like(x, np.log(cap))
    for _ in range(iterations):
        mid = (lo + hi) / 2
        above = conditional_expected_purchases(params, np.exp(mid), x, t_x, T) >= 1.0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    return np.where(reach >= 1.0, np.exp(hi), np.nan)[back]


def distinct_customers(x, t_x, T) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The distinct (x, t_x, T) rows and, per customer, the index of theirs: customers who
    look the same get the same predictions, so they are computed once (one-off buyers who
    started on the same day are all alike; about half of 100,000 customers are duplicates)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    rows, back = np.unique(np.column_stack([x, t_x, T]), axis=0, return_inverse=True)
    return tuple(rows.T), back.ravel()


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)

    def as_dict(self) -> dict[str, float]:
        return {"r": float(self.r), "alpha": float(self.alpha), "a": float(self.a), "b": float(self.b)}


def fit(x, t_x, T, starts=STARTS) -> BGNBD:
    """Maximum-likelihood (r, alpha, a, b) from the per-customer summary (equation 6)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) == 0:
        raise FitError("no customers to fit the BG/NBD model on")
    if not np.any(x > 0):
        raise FitError("the BG/NBD fit needs at least one customer with a repeat purchase")
    # Identical customers share a likelihood term: fit on the distinct rows, weighted.
    rows, counts = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    weights = counts.astype(float)
    terms = likelihood_of(*rows.T)

    def loglik(params):
        # Not np.dot: a BLAS call wakes its threads, which cost milliseconds a call on a
        # busy machine (most of the fit's time on 100,000 customers).
        return float(np.sum(weights * terms(params)))

    return BGNBD(*map(float, maximise(loglik, starts, names=("r", "alpha", "a", "b"), n=len(x))))
