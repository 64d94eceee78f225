"""Customer lifetime value and per-customer predictions.

CLV over a horizon of H months with an annual discount rate d is the
discounted sum, month by month, of the BG/NBD expected purchases in that
month (differences of E[Y(t) | x, t_x, T], FHL 2005 equation 10) times the
Gamma-Gamma conditional expected spend per purchase (Fader & Hardie 2013):

    CLV = E[Z | x, zbar] * sum_{m=1..H} (E[Y(m w)] - E[Y((m-1) w)]) / (1 + d)^(m/12)

with w = 365.25 / 12 / 7 weeks per month. This is the formula of the
``lifetimes`` package (``customer_lifetime_value``) with monthly steps, but
with the rate given per year. Purchases are discounted at the end of the
month they fall in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from . import bgnbd, gamma_gamma
from .summary import CustomerSummary, add_weeks

WEEKS_PER_MONTH = 365.25 / 12 / 7
# Below this many repeat buyers the fits still converge, but their estimates swing
# widely from one month's data to the next (CDNOW's published fit had 946 of 2,357).
FEW_REPEAT_BUYERS = 50
PREDICTION_COLUMNS = (
    "customer_id", "frequency", "recency", "T", "monetary",
    "expected_purchases_90d", "expected_purchases_365d", "probability_alive",
    "expected_next_order_date", "predicted_clv",
)


def customer_lifetime_value(bg: bgnbd.BGNBD, gg: gamma_gamma.GammaGamma, x, t_x, T, zbar,
                            *, horizon_months: int = 12, discount_rate: float = 0.1) -> np.ndarray:
    """Discounted expected value of each customer's purchases in the next ``horizon_months``."""
    if horizon_months < 0:
        raise ValueError("horizon_months must not be negative")
    if discount_rate <= -1:
        raise ValueError("discount_rate must be greater than -1")
    x, t_x, T, zbar = (np.asarray(v, dtype=float) for v in (x, t_x, T, zbar))
    spend = gamma_gamma.conditional_expected_spend(gg.params, x, zbar)
    (xs, t_xs, Ts), back = bgnbd.distinct_customers(x, t_x, T)  # purchases: once per distinct row
    total = np.zeros_like(xs)
    previous = np.zeros_like(xs)
    for month in range(1, horizon_months + 1):
        t = np.full_like(xs, month * WEEKS_PER_MONTH)
        current = bgnbd.conditional_expected_purchases(bg.params, t, xs, t_xs, Ts)
        total += (current - previous) / (1 + discount_rate) ** (month / 12)
        previous = current
    return spend * total[back]


@dataclass(frozen=True)
class Fitted:
    """The two fitted models and the summary they were fitted on."""

    summary: CustomerSummary
    bgnbd: bgnbd.BGNBD
    gamma_gamma: gamma_gamma.GammaGamma

    def as_dict(self) -> dict:
        return {"bgnbd": self.bgnbd.as_dict(), "gamma_gamma": self.gamma_gamma.as_dict(),
                "customers": len(self.summary)}

    def warnings(self) -> list[str]:
        """Why these estimates deserve less trust than they look, in words for a marketer
        (a fit that fails raises instead; these are fits that succeed on thin data)."""
        found = []
        repeaters = int((self.summary.frequency > 0).sum())
        if repeaters < FEW_REPEAT_BUYERS:
            found.append(f"only {repeaters} customer{'s' if repeaters != 1 else ''} bought more than once: "
                         f"with fewer than {FEW_REPEAT_BUYERS} repeat buyers the estimates are very uncertain")
        if self.gamma_gamma.q <= 1:
            found.append(f"the spend model found no finite average order value (q = {self.gamma_gamma.q:.2f} "
                         "is not above 1): predicted lifetime values can be extreme")
        return found


def fit_models(summary: CustomerSummary) -> Fitted:
    """Fit BG/NBD on everyone and Gamma-Gamma on customers with repeat purchases."""
    bg = bgnbd.fit(summary.frequency, summary.recency, summary.T)
    gg = gamma_gamma.fit(summary.frequency, summary.monetary)
    return Fitted(summary, bg, gg)


def predictions(fitted: Fitted, *, horizon_months: int = 12, discount_rate: float = 0.1) -> list[dict]:
    """One dict per customer with the columns of :data:`PREDICTION_COLUMNS`.

    ``expected_next_order_date`` is the observation end plus the time at which
    one more purchase is expected (:func:`bgnbd.weeks_to_next_purchase`), or
    ``None`` when that is more than five years away (likely churned).
    """
    s, params = fitted.summary, fitted.bgnbd.params
    x, t_x, T = s.frequency, s.recency, s.T
    e90 = bgnbd.conditional_expected_purchases(params, np.full_like(x, 90 / 7), x, t_x, T)
    e365 = bgnbd.conditional_expected_purchases(params, np.full_like(x, 365 / 7), x, t_x, T)
    alive = bgnbd.probability_alive(params, x, t_x, T)
    wait = bgnbd.weeks_to_next_purchase(params, x, t_x, T)
    clv = customer_lifetime_value(fitted.bgnbd, fitted.gamma_gamma, x, t_x, T, s.monetary,
                                  horizon_months=horizon_months, discount_rate=discount_rate)
    rows = []
    for i, customer in enumerate(s.customer_ids):
        next_date: date | None = None if np.isnan(wait[i]) else add_weeks(s.observation_end, wait[i])
        rows.append({
            "customer_id": customer, "frequency": int(x[i]), "recency": float(t_x[i]),
            "T": float(T[i]), "monetary": float(s.monetary[i]),
            "expected_purchases_90d": float(e90[i]), "expected_purchases_365d": float(e365[i]),
            "probability_alive": float(alive[i]), "expected_next_order_date": next_date,
            "predicted_clv": float(clv[i]),
        })
    return rows
