"""Maximum likelihood in log-parameter space, from several starting points."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

LOG_BOUND = 25.0  # parameters beyond exp(+-25) mean the data do not pin the model down
AGREE = 1e-9  # two starts whose mean log-likelihoods differ less than this found the same optimum
MIN_CURVATURE = 1e-6  # smallest Hessian eigenvalue (mean log-likelihood, log-parameters) of a real optimum
INVALID = 1e10  # objective outside the valid region: finite, so numerical gradients stay finite


class FitError(RuntimeError):
    """The likelihood could not be maximised (no start converged to a finite optimum)."""


def maximise(loglik, starts, *, names: tuple[str, ...], n: float) -> np.ndarray:
    """Maximise ``loglik(params)`` over positive params; returns the best params.

    The objective is the mean log-likelihood per customer (``n`` customers),
    so that tolerances mean the same for ten customers and a million. Each
    start is optimised on log-parameters with L-BFGS-B (numerical gradient);
    once two starts agree on the optimum the rest are skipped. If no start
    converges, Nelder-Mead is tried from each (polished by L-BFGS-B). A result
    counts only if the optimiser reports success, the log-likelihood is finite
    and no parameter ran off towards 0 or infinity (where rounding in
    ``gammaln`` differences can fake an ever better likelihood). Finally the
    optimum must be a proper maximum: the Hessian of the mean log-likelihood
    in log-parameters must have all eigenvalues above ``MIN_CURVATURE`` (a
    flat direction means the data cannot estimate the parameters; on CDNOW
    the smallest eigenvalue is 0.003 for BG/NBD and 0.0095 for Gamma-Gamma).
    """
    scale = 1.0 / max(float(n), 1.0)

    def objective(log_params):
        if np.any(np.abs(log_params) > LOG_BOUND + 5):
            return INVALID
        with np.errstate(all="ignore"):
            value = loglik(np.exp(log_params))
        return -value * scale if np.isfinite(value) else INVALID

    def acceptable(result):
        return (result.success and np.isfinite(result.fun) and result.fun < INVALID / 10
                and np.all(np.abs(result.x) <= LOG_BOUND))

    def lbfgs(x0):
        return minimize(objective, x0, method="L-BFGS-B",
                        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2_000})

    best = None
    for start in starts:
        result = lbfgs(np.log(np.asarray(start, dtype=float)))
        if not acceptable(result):
            continue
        if best is not None and abs(result.fun - best.fun) < AGREE:
            break
        if best is None or result.fun < best.fun:
            best = result
    if best is None:
        for start in starts:
            simplex = minimize(objective, np.log(np.asarray(start, dtype=float)), method="Nelder-Mead",
                               options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 4_000, "maxfev": 8_000})
            if not simplex.fun < INVALID / 10:
                continue
            candidates = [r for r in (simplex, lbfgs(simplex.x)) if acceptable(r)]
            for result in candidates:
                if best is None or result.fun < best.fun:
                    best = result
    if best is None:
        raise FitError(f"the fit of ({', '.join(names)}) did not converge")
    curvature = np.linalg.eigvalsh(_hessian(objective, best.x)).min()
    if not curvature > MIN_CURVATURE:
        raise FitError(f"the fit of ({', '.join(names)}) did not converge: the likelihood is flat at "
                       "its optimum (too few customers or repeat purchases to estimate the model)")
    return np.exp(best.x)


def _hessian(f, x, h: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x``."""
    k = len(x)
    steps = np.eye(k) * h
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            H[i, j] = H[j, i] = (f(x + steps[i] + steps[j]) - f(x + steps[i] - steps[j])
                                 - f(x - steps[i] + steps[j]) + f(x - steps[i] - steps[j])) / (4 * h * h)
    return H
