"""The Gamma-Gamma model of spend per purchase.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer
Base Analysis", Journal of Marketing Research 42(4), 415-430, section
"Modeling the Monetary Value", and Fader & Hardie (2013), "The Gamma-Gamma
Model of Monetary Value" (note). A customer's purchase amounts are
Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers. The model is fitted
on customers with at least one repeat purchase, using x (number of repeat
purchases) and z-bar (their mean amount).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from ._fit import FitError, maximise

STARTS = ((1.0, 1.0, 1.0), (5.0, 3.0, 20.0), (2.0, 5.0, 100.0), (10.0, 2.0, 5.0))


def log_likelihood(params, x, zbar) -> np.ndarray:
    """Per-customer log-likelihood of the observed mean z-bar given x (Fader & Hardie 2013).

    f(zbar | p, q, gamma; x) = G(px+q) / (G(px) G(q)) * gamma^q zbar^(px-1) x^(px)
                               / (gamma + x zbar)^(px+q)
    """
    return likelihood_of(x, zbar)(params)


def likelihood_of(x, zbar):
    """``log_likelihood`` of these customers as a function of the parameters, for the fit:
    the log-gamma terms are taken once per distinct x and the logarithms of the data once,
    the same numbers (added in the same order) as the per-customer formula."""
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    xu, xi = np.unique(x, return_inverse=True)
    log_zbar, log_x = np.log(zbar), np.log(x)

    def loglik(params) -> np.ndarray:
        p, q, gamma = params
        px, pxu = p * x, p * xu
        per_x = (gammaln(pxu + q) - gammaln(pxu) - gammaln(q) + q * np.log(gamma))[xi]
        return per_x + (px - 1) * log_zbar + px * log_x - (px + q) * np.log(gamma + x * zbar)

    return loglik


def conditional_expected_spend(params, x, zbar) -> np.ndarray:
    """E[Z | p, q, gamma; x, zbar], the conditional expectation of the note and of FHL 2005.

    E = (q-1)/(px+q-1) * gamma p/(q-1) + px/(px+q-1) * zbar = p (gamma + x zbar) / (px+q-1):
    a weighted mean of the population mean gamma p/(q-1) and the customer's
    own mean. Customers without repeat purchases (x = 0) get the population
    mean. Where px + q <= 1 the expectation is infinite and NaN is returned.
    """
    p, q, gamma = params
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    denominator = p * x + q - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, p * (gamma + x * zbar) / denominator, np.nan)


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    @property
    def params(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.gamma)

    @property
    def population_mean(self) -> float:
        """Mean spend per purchase across customers, gamma p / (q - 1) (inf if q <= 1)."""
        return self.gamma * self.p / (self.q - 1) if self.q > 1 else float("inf")

    def as_dict(self) -> dict[str, float]:
        return {"p": float(self.p), "q": float(self.q), "gamma": float(self.gamma)}


def fit(x, zbar, starts=STARTS) -> GammaGamma:
    """Maximum-likelihood (p, q, gamma) on customers with x > 0 and zbar > 0."""
    x, zbar = np.asarray(x, dtype=float), np.asarray(zbar, dtype=float)
    keep = (x > 0) & (zbar > 0)
    if not np.any(keep):
        raise FitError("the Gamma-Gamma fit needs at least one customer with a repeat purchase of positive amount")
    xs = x[keep]
    terms = likelihood_of(xs, zbar[keep])

    def loglik(params):
        return float(np.sum(terms(params)))

    return GammaGamma(*map(float, maximise(loglik, starts, names=("p", "q", "gamma"), n=len(xs))))
