"""Score a CLV model's per-customer predictions against the truth of a simulated log.

A run with ``output.truth=true`` knows what a CLV model can only infer: who was still
alive at the calibration end, and each customer's purchase rate. :func:`score` compares
per-customer predictions with it:

- P(alive at the calibration end) against being alive then (``truth.parquet``: no
  drop-out, or a drop-out date on or after the calibration end): Brier score (mean squared
  error, 0-1, lower is better; ``brier_baseline`` is that of predicting everyone the
  share alive), log loss (nats), AUC (probability that a random alive customer gets a
  higher P(alive) than a random gone one; 0.5 is chance) and the mean predicted against
  the share alive;
- expected purchase occasions in the holdout against those in the log: mean absolute
  error, correlation, and predicted over actual totals; and against the *oracle* (true
  rate lambda times the true weeks alive in the holdout), which takes out the Poisson
  noise a model cannot predict.

:func:`score_pymc` takes a fitted pymc-marketing model (``BetaGeoModel``,
``ParetoNBDModel``, ...: anything with ``expected_probability_alive`` and
``expected_purchases``) and its RFM data frame, whose ``customer_id`` must be the log's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def alive_at(truth: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """Whether each customer (index: customer_id) was alive at the start of day ``end``."""
    t = truth.set_index("customer_id")
    return t["dropout_date"].isna() | (t["dropout_date"] >= pd.Timestamp(end))


def oracle_purchases(truth: pd.DataFrame, end: pd.Timestamp, weeks: float) -> pd.Series:
    """lambda times the weeks alive in the ``weeks`` after ``end``: the expected holdout
    purchase occasions given the true rate and the true drop-out (drop-out at the end of
    its week, as the truth's date says)."""
    t = truth.set_index("customer_id")
    stop = pd.Timestamp(end) + pd.Timedelta(weeks=weeks)
    left = t["dropout_date"].fillna(stop) + pd.Timedelta(days=1)
    alive_days = (left.clip(upper=stop) - pd.Timestamp(end)).dt.days.clip(lower=0)
    return t["purchase_rate"] * alive_days / 7


def score(
    truth: pd.DataFrame,
    p_alive: pd.Series,
    expected: pd.Series,
    actual: pd.Series,
    end: pd.Timestamp,
    weeks: float,
) -> tuple[dict[str, float], pd.DataFrame]:
    """Scores (see the module docstring) and the per-customer table they come from.
    ``p_alive``, ``expected`` (holdout purchases) and ``actual`` (holdout purchase
    occasions in the log) are indexed by customer id; customers absent from ``actual``
    made none."""
    ids = p_alive.index
    table = pd.DataFrame(
        {
            "p_alive": p_alive.astype(float),
            "alive": alive_at(truth, end).reindex(ids).astype(bool),
            "expected": expected.reindex(ids).astype(float),
            "actual": actual.reindex(ids, fill_value=0).astype(float),
            "oracle": oracle_purchases(truth, end, weeks).reindex(ids),
        }
    )
    if table[["alive", "oracle"]].isna().any().any():
        raise ValueError("customers of the predictions are missing from the truth")
    p = table["p_alive"].clip(1e-12, 1 - 1e-12)
    y = table["alive"].to_numpy(float)
    share = y.mean()
    gone = ~table["alive"]
    auc = np.nan
    if 0 < gone.sum() < len(table):
        u = stats.mannwhitneyu(p[~gone], p[gone], alternative="two-sided").statistic
        auc = float(u / ((~gone).sum() * gone.sum()))
    e, a, o = table["expected"], table["actual"], table["oracle"]
    scores = {
        "customers": float(len(table)),
        "brier": float(np.mean((p - y) ** 2)),
        "brier_baseline": float(share * (1 - share)),
        "log_loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))),
        "auc": auc,
        "mean_p_alive": float(p.mean()),
        "share_alive": float(share),
        "mae_actual": float((e - a).abs().mean()),
        "mae_oracle": float((e - o).abs().mean()),
        "corr_actual": float(np.corrcoef(e, a)[0, 1]),
        "corr_oracle": float(np.corrcoef(e, o)[0, 1]),
        "total_ratio": float(e.sum() / a.sum()) if a.sum() else np.nan,
    }
    return scores, table


def score_pymc(
    model, data: pd.DataFrame, truth: pd.DataFrame, log_occasions: pd.DataFrame, end, weeks
) -> tuple[dict[str, float], pd.DataFrame]:
    """:func:`score` for a fitted pymc-marketing model: P(alive) and expected purchases
    over ``weeks`` (posterior means) for the customers of ``data``; ``log_occasions`` has
    the log's purchase occasions (columns customer, day) from which the holdout's are
    counted."""
    ids = pd.Index(data["customer_id"].to_numpy())
    p = model.expected_probability_alive(data).mean(("chain", "draw")).values
    e = model.expected_purchases(data, future_t=weeks).mean(("chain", "draw")).values
    end = pd.Timestamp(end)
    stop = end + pd.Timedelta(weeks=weeks)
    occ = log_occasions[(log_occasions["day"] >= end) & (log_occasions["day"] < stop)]
    actual = occ.groupby("customer").size()
    return score(truth, pd.Series(p, ids), pd.Series(e, ids), actual, end, weeks)
