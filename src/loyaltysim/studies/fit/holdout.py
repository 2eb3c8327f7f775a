"""The holdout check: the fitted cohort simulated against the weeks the fit did not see.

Two simulations of the calibration cohort (customers whose first purchase falls in the
calibration period), each replicated and averaged:

- ``simulated``: every customer from its own first purchase with the fitted BG/NBD
  parameters (no use of its history): the tracking plot of Fader, Hardie & Lee (2005,
  figure 2), in-sample over the calibration weeks and out of sample after;
- ``conditional``: forward from the calibration end, each customer drawn from the BG/NBD
  posterior given its calibration history (:func:`~.models.simulate_forward`); holdout
  weeks only.

Beside each, the closed-form expectation (FHL 2005 eqs. 7 and 10) as ``expected`` and
``expected_conditional``: the simulations must agree with them up to simulation noise.
Weeks run from the log's first day (week 1 = its first 7 days); a week's repeat
transactions are the cohort's purchase occasions after each customer's first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import models
from .logs import RFM

# customer-draws simulated a replication-set: at most this many customers x replications,
# so a million-customer log gets 2 replications, not 20 (simulation noise is then already
# below 0.1% of a week's total); smaller logs get every replication asked for
SIMULATED_DRAWS = 2_000_000


def replications_for(customers: int, asked: int) -> int:
    """The replications simulated for ``customers``: ``asked``, capped by SIMULATED_DRAWS."""
    return max(1, min(asked, SIMULATED_DRAWS // max(customers, 1)))


@dataclass
class Tracking:
    """``table``: week, actual, simulated, expected, conditional, expected_conditional and
    the cumulative of each (``*_cum``; the conditional ones from the calibration end);
    ``transactions``: one replication of the conditional holdout purchases (customer,
    date, amount when the log has amounts)."""

    table: pd.DataFrame
    transactions: pd.DataFrame
    calibration_weeks: float
    last_week: int
    replications: int = 0  # replications simulated (see replications_for)

    def errors(self) -> dict[str, float]:
        """Tracking errors at the last week, in percent of the actual."""
        t = self.table
        hold = t[t["week"] > self.calibration_weeks]
        end = t.iloc[-1]
        act_hold = hold["actual"].sum()
        out = {
            "cumulative_error_pct": 100 * (end["simulated_cum"] / end["actual_cum"] - 1),
            "holdout_error_pct": 100 * (hold["simulated"].sum() / act_hold - 1),
            "conditional_holdout_error_pct": 100 * (hold["conditional"].sum() / act_hold - 1),
            "weekly_mape_pct": 100
            * float(np.mean(np.abs(t["simulated"] - t["actual"]) / np.maximum(t["actual"], 1))),
            "conditional_weekly_mape_pct": 100
            * float(
                np.mean(
                    np.abs(hold["conditional"] - hold["actual"]) / np.maximum(hold["actual"], 1)
                )
            ),
        }
        return {k: float(v) for k, v in out.items()}


def weekly_counts(days: np.ndarray, weeks: int) -> np.ndarray:
    """Counts per week 1..weeks of events on ``days`` (days since the log's first day)."""
    w = np.floor(np.asarray(days, float) / 7).astype(np.int64)
    w = w[(w >= 0) & (w < weeks)]
    return np.bincount(w, minlength=weeks)


def track(
    occ: pd.DataFrame,
    summary: RFM,
    bgnbd: dict[str, float],
    gamma_gamma: dict[str, float] | None,
    last_day: pd.Timestamp,
    rng: np.random.Generator,
    replications: int = 20,
) -> Tracking:
    """Weekly repeat transactions of the cohort: actual against both simulations."""
    params = tuple(bgnbd[k] for k in models.BGNBD)
    t = summary.table
    start, end = summary.start, summary.end
    n_days = (last_day - start).days + 1
    weeks = int(np.ceil(n_days / 7))
    first_day = (t["first"] - start).dt.days.to_numpy().astype(float)
    end_day = float((end - start).days)
    x, tx, T = t["x"].to_numpy(float), t["tx"].to_numpy(float), t["T"].to_numpy(float)

    # each occasion's customer's first day (NaT outside the cohort, never later than it):
    # masks on the occasions, no copy of them
    first_of = occ["customer"].map(t["first"])
    repeat = (occ["day"] > first_of).to_numpy()
    actual = weekly_counts((occ["day"][repeat] - start).dt.days.to_numpy(), weeks)
    del first_of, repeat

    # a first purchase on day d is at d + 1/2; the log ends after last_day
    horizon = (n_days - first_day - 0.5) / 7.0
    sim = np.zeros(weeks)
    cond = np.zeros(weeks)
    keep = None
    replications = replications_for(x.size, replications)
    for rep in range(replications):
        idx, after = models.simulate_cohort(params, x.size, horizon, rng)
        sim += weekly_counts(first_day[idx] + 0.5 + 7 * after, weeks)
        idx_c, after_c = models.simulate_forward(params, x, tx, T, (n_days - end_day) / 7, rng)
        day_c = end_day + 7 * after_c
        cond += weekly_counts(day_c, weeks)
        if rep == 0:
            keep = (idx_c, day_c)
    sim /= replications
    cond /= replications

    # closed forms at each week's end: unconditional per customer from its first purchase
    # evaluated once per distinct first day and per distinct (x, t_x, T), weighted by the
    # customers sharing it: a million customers have a few thousand of each (whole days)
    ends = 7.0 * np.arange(1, weeks + 1)
    ends[-1] = n_days
    days, n_day = np.unique(first_day, return_counts=True)
    exp_cum = np.array(
        [n_day @ models.expected_repeat(params, np.clip((e - days - 0.5) / 7, 0, None))
         for e in ends]
    )  # fmt: skip
    hist, n_hist = np.unique(np.column_stack([x, tx, T]), axis=0, return_counts=True)
    hx, htx, hT = hist.T
    after_end = np.clip((ends - end_day) / 7, 0, None)
    cond_cum = np.array(
        [n_hist @ models.expected_future(params, hx, htx, hT, a) if a > 0 else 0.0
         for a in after_end]
    )  # fmt: skip
    week = np.arange(1, weeks + 1)
    holdout = week * 7 > end_day
    table = pd.DataFrame(
        {
            "week": week,
            "actual": actual,
            "simulated": sim,
            "expected": np.diff(exp_cum, prepend=0.0),
            "conditional": np.where(holdout, cond, np.nan),
            "expected_conditional": np.where(holdout, np.diff(cond_cum, prepend=0.0), np.nan),
        }
    )
    table["actual_cum"] = table["actual"].cumsum()
    table["simulated_cum"] = table["simulated"].cumsum()
    table["expected_cum"] = exp_cum
    hold_actual = np.where(holdout, actual, 0).cumsum()
    table["actual_holdout_cum"] = np.where(holdout, hold_actual, np.nan)
    table["conditional_cum"] = np.where(holdout, np.nancumsum(table["conditional"]), np.nan)
    table["expected_conditional_cum"] = np.where(holdout, cond_cum, np.nan)

    idx_c, day_c = keep
    customers = t.index.to_numpy()[idx_c]
    days = np.floor(day_c).astype(np.int64)
    tx_out = pd.DataFrame({"customer": customers, "date": start + pd.to_timedelta(days, unit="D")})
    if gamma_gamma is not None and "m" in t:
        p, q, g = (gamma_gamma[k] for k in models.GAMMA_GAMMA)
        m = t["m"].to_numpy()[idx_c]
        xr = x[idx_c]
        seen = np.isfinite(m) & (xr > 0)
        # nu | the customer's repeat spend ~ Gamma(q + p x, gamma + m x) (rate), prior if none
        shape = q + np.where(seen, p * xr, 0.0)
        rate = g + np.where(seen, np.nan_to_num(m) * xr, 0.0)
        nu = rng.gamma(shape, 1.0 / rate)
        tx_out["amount"] = rng.gamma(p, 1.0 / nu)
    tx_out = tx_out.sort_values(["date", "customer"], kind="stable").reset_index(drop=True)
    return Tracking(table, tx_out, end_day / 7, weeks, replications)


def figure(tracking: Tracking, first: pd.DataFrame, path) -> None:
    """tracking.png: weekly and cumulative repeat transactions, and the first-purchase curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = tracking.table
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    ax.plot(t["week"], t["actual"], "k-", label="actual")
    ax.plot(t["week"], t["simulated"], "C0--", label="simulated from first purchases")
    ax.plot(t["week"], t["conditional"], "C1:", label="simulated from calibration end")
    if "model" in t:
        ax.plot(t["week"], t["model"], "C2-", lw=0.8, alpha=0.7, label="the model, world file")
    ax.set(xlabel="week", ylabel="repeat transactions", title="weekly")
    ax = axes[1]
    ax.plot(t["week"], t["actual_cum"], "k-", label="actual")
    ax.plot(t["week"], t["simulated_cum"], "C0--", label="simulated from first purchases")
    offset = t["actual_cum"] - t["actual_holdout_cum"].fillna(t["actual_cum"])
    ax.plot(t["week"], t["conditional_cum"] + offset, "C1:", label="simulated from calibration end")
    if "model_cum" in t:
        ax.plot(t["week"], t["model_cum"], "C2-", lw=0.8, label="the model, world file")
    ax.set(xlabel="week", title="cumulative")
    for a in axes[:2]:
        a.axvline(tracking.calibration_weeks, color="grey", lw=0.8)
    axes[1].legend(fontsize=8)
    ax = axes[2]
    ax.step(first["week"], first["cumulative"], where="post", color="k")
    ax.set(xlabel="week", ylabel="customers", title="first purchases (cumulative)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
