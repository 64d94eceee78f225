"""Customer lifetime value and churn: BG/NBD and Gamma-Gamma (Fader, Hardie & Lee).

Pure Python over plain data (numpy/scipy, no Django), so that
``python -m ecrm.clv fit --transactions FILE`` runs anywhere.

    from ecrm.clv import read_transactions, summarise, fit_models, predictions
    fitted = fit_models(summarise(read_transactions("orders.csv")))
    rows = predictions(fitted, horizon_months=12, discount_rate=0.1)

Modules: :mod:`.summary` (transactions to frequency/recency/T/monetary),
:mod:`.bgnbd`, :mod:`.gamma_gamma`, :mod:`.value` (CLV and per-customer
predictions), :mod:`.diagnostics` (holdout comparison), :mod:`.cli`.
"""

from ._fit import FitError
from .bgnbd import BGNBD
from .diagnostics import holdout
from .gamma_gamma import GammaGamma
from .summary import CLVInputError, CustomerSummary, Purchases, aggregate, read_transactions, summarise
from .value import Fitted, customer_lifetime_value, fit_models, predictions

__all__ = [
    "BGNBD", "CLVInputError", "CustomerSummary", "FitError", "Fitted", "GammaGamma", "Purchases",
    "aggregate", "customer_lifetime_value", "fit_models", "holdout", "predictions",
    "read_transactions", "summarise",
]
