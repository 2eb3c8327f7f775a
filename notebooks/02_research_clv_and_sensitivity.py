# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # From a run to a CLV model and a sensitivity analysis
#
# 1. Run a market with its transaction log (`output.transactions=true`).
# 2. Turn one firm's log into recency-frequency data in **weeks**, with the observation
#    period ending with the last simulated week (not at the last purchase): one call,
#    `loyaltysim.rfm_summary(run_folder, firm="focal")` (a sweep folder works too), and
#    fit a BG/NBD model: here with SciPy (always), and with pymc-marketing when the `clv`
#    extra is installed. Filter to one firm: a customer switching firms is not one dying.
# 3. Morris screening (SALib, the `sensitivity` extra) of a few uncertainties from
#    `loyaltysim.describe()`, each over its plausible range.

# %% tags=["parameters"]
CUSTOMERS = 500
WEEKS = 78
MORRIS_TRAJECTORIES = 4

# %%
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from loyaltysim import describe, load_config, rfm_summary, run_one, transactions

folder = Path(tempfile.mkdtemp()) / "run"
cfg = load_config(
    ["output.transactions=true"], customers__n=CUSTOMERS, market__horizon_weeks=WEEKS, seed=1
)
result = run_one(cfg, folder)
log = transactions(folder)  # every firm's purchases; date as datetime64[ns]
log.head()

# %%
tx = transactions(folder, firm="focal")
# customer_id, frequency (repeat-purchase weeks), recency and T (weeks), monetary_value
rfm = rfm_summary(folder, firm="focal")
rfm.describe().round(2)


# %%
def bgnbd_nll(log_params, x, t_x, T):
    """Negative log-likelihood of the BG/NBD model (Fader, Hardie & Lee 2005)."""
    r, alpha, a, b = np.exp(log_params)
    ln_a1 = (
        special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        + special.betaln(a, b + x) - special.betaln(a, b)
    )
    ln_a2 = -(r + x) * np.log(alpha + T)
    ln_a3 = (
        special.betaln(a + 1, b + x - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + t_x)
    )
    ll = ln_a1 + np.logaddexp(ln_a2, np.where(x > 0, ln_a3, -np.inf))
    return -ll.sum()


x, t_x, T = (rfm[c].to_numpy(float) for c in ("frequency", "recency", "T"))
start_params = np.log([1.0, 1.0, 1.0, 1.0])
fit = optimize.minimize(bgnbd_nll, start_params, args=(x, t_x, T), method="Nelder-Mead",
                        options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6})
bgnbd = dict(zip(["r", "alpha", "a", "b"], np.exp(fit.x), strict=True))
print("BG/NBD (SciPy, weeks):", {k: round(v, 3) for k, v in bgnbd.items()})

# %% [markdown]
# The same with pymc-marketing, when installed (`pip install -e '.[clv]'`): its
# `BetaGeoModel` takes the summary above as it is, which equals pymc-marketing's own
# `rfm_summary(tx, "customer_id", "date", "amount", time_unit="W",
# observation_period_end=<the last simulated day>)` (the tests check that).

# %%
try:
    from pymc_marketing.clv import BetaGeoModel
except ImportError:
    print("pymc-marketing is not installed (the clv extra): skipping this cell")
    pm_fit = None
else:
    model = BetaGeoModel(data=rfm[["customer_id", "frequency", "recency", "T"]])
    pm_fit = model.fit(method="map")
    print(model.fit_summary())

# %% [markdown]
# ## Which uncertainties move profit? Morris screening over the plausible ranges

# %%
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

KEYS = [
    "customers.memory.engagement_half_life_weeks",
    "customers.price_sensitivity_median",
    "customers.purchase_rate_mean",
    "customers.choice.taste_sigma",
]
rows = {r["key"]: r for r in describe() if r["kind"] == "uncertainty"}
problem = {
    "num_vars": len(KEYS),
    "names": KEYS,
    "bounds": [[rows[k]["plausible_lo"], rows[k]["plausible_hi"]] for k in KEYS],
}
X = morris_sample.sample(problem, N=MORRIS_TRAJECTORIES, num_levels=4, seed=3)


def profit(values) -> float:
    cfg = load_config(
        [f"{k}={float(v)!r}" for k, v in zip(KEYS, values, strict=True)],
        customers__n=300, market__horizon_weeks=52, market__warmup_weeks=20, seed=0,
    )
    summary = run_one(cfg).summary
    return float(summary.loc[summary["firm"] == "focal", "cumulative_profit_eur"].iloc[0])


Y = np.array([profit(row) for row in X])
screen = morris_analyze.analyze(problem, X, Y, num_levels=4, seed=3)
sensitivity = pd.DataFrame({"mu_star": screen["mu_star"], "sigma": screen["sigma"]}, index=KEYS)
sensitivity.sort_values("mu_star", ascending=False).round(1)
