"""Maximum likelihood in log-parameter space, from several starting points."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


class FitError(RuntimeError):
    """The likelihood could not be maximised (no start converged to a finite optimum)."""


def maximise(loglik, starts, *, names: tuple[str, ...]) -> np.ndarray:
    """Maximise ``loglik(params)`` over positive params; returns the best params.

    Each start is optimised with Nelder-Mead on log-parameters and the best
    result polished with L-BFGS-B. A start counts only if the optimiser
    reports success and the log-likelihood is finite.
    """

    def objective(log_params):
        with np.errstate(all="ignore"):
            value = loglik(np.exp(log_params))
        return -value if np.isfinite(value) else np.inf

    best = None
    for start in starts:
        x0 = np.log(np.asarray(start, dtype=float))
        result = minimize(objective, x0, method="Nelder-Mead",
                          options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 20_000, "maxfev": 40_000})
        if not (result.success and np.isfinite(result.fun)):
            continue
        polished = minimize(objective, result.x, method="L-BFGS-B",
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2_000})
        if np.isfinite(polished.fun) and polished.fun <= result.fun:
            result = polished
        if best is None or result.fun < best.fun:
            best = result
    if best is None or not np.all(np.isfinite(best.x)) or np.any(np.abs(best.x) > 25):
        raise FitError(f"the fit of ({', '.join(names)}) did not converge")
    return np.exp(best.x)
