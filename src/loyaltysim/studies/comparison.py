"""The statistics of a comparison of sweep arms: means with 95% confidence intervals, paired
differences against a baseline arm (common random numbers: arms share seeds), payback.

Rendering (Markdown, figures) and the ``loyaltysim-compare`` command are in
:mod:`loyaltysim.studies.compare`, which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..runs.collect import Collected, UsageError
from .arms import (  # noqa: F401  (select is re-exported with the comparison's names)
    labels_in_words,
    override_keys,
    override_value,
    pairing_units,
    select,
    shown,
    varying_within,
)
from .margin import BreakEven, break_even

# summary column -> (label, unit of the value, unit of a difference)
METRICS = {
    "cumulative_profit_eur": ("Cumulative profit", "EUR", "EUR"),
    "programme_cost_eur": ("Programme cost", "EUR", "EUR"),
    "share_end_pct": ("Purchase share, last 13 weeks", "%", "pp"),
    "repeat_rate_pct": ("Repeat-purchase rate, last 13 weeks", "%", "pp"),
    "churn_to_competitor_per_year_pct": ("Churn to competitors", "%/year", "pp/year"),
    "churn_out_per_year_pct": ("Churn out of the category", "%/year", "pp/year"),
    "customers_end": ("Customers at the end", "customers", "customers"),
    "active_loyal_end": ("Active loyal customers at the end", "customers", "customers"),
    "passive_loyal_end": ("Passive loyal customers at the end", "customers", "customers"),
    "members_end": ("Programme members at the end", "customers", "customers"),
}


@dataclass
class Comparison:
    arms: pd.DataFrame  # arm, metric, n, mean, ci_low, ci_high
    # arm, metric, n_pairs, diff, ci_low, ci_high, p_value; the difference as % of the
    # baseline's mean and per 1,000 customers of the market, with their CIs
    differences: pd.DataFrame
    payback: pd.DataFrame  # arm, payback_week, paid_back_at_pct, horizon_paid_back_pct
    baseline: str
    firm: str
    # arm -> how figures and tables show it, in words ("programme ends week 78", not "78")
    labels: dict[str, str] = field(default_factory=dict)
    # override keys that vary within an arm and were pooled on purpose (``pool=True``)
    pooled: list[str] = field(default_factory=list)
    # arm -> its break-even gross margin against the baseline (studies/margin.py)
    margins: dict[str, BreakEven] = field(default_factory=dict)

    def label(self, arm: str) -> str:
        return self.labels.get(arm, arm)

    def pairing(self) -> str:
        """How many seeds each arm shares with the baseline (the paired replications)."""
        if self.differences.empty:
            return "one arm only: nothing to pair with a baseline"
        n = self.differences.groupby("arm", sort=False)["n_pairs"].max()
        return "paired by seed with the baseline: " + ", ".join(
            f"{self.label(arm)} {int(k)} seeds" for arm, k in n.items()
        )


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-based confidence interval of the mean."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if x.size < 2:
        return m, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return m, m - half, m + half


def label_arms(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    if not by:
        return pd.Series("all", index=frame.index)
    # map(str), not astype(str): pandas 3 keeps None as missing under astype(str)
    if len(by) == 1:
        return frame[by[0]].map(str)
    return (
        frame[list(by)]
        .map(str)
        .apply(lambda r: " · ".join(f"{k}={v}" for k, v in zip(by, r, strict=True)), axis=1)
    )


def compare(
    collected: Collected,
    by: Sequence[str] | None = None,
    baseline: str | None = None,
    firm: str = "focal",
    payback_at_week: int = 104,
    pool: bool = False,
) -> Comparison:
    """Arms, paired differences against ``baseline`` and payback for ``firm``.

    An arm is one combination of the ``by`` keys. When another override key (not the seed)
    varies within an arm, the arm would mix different markets and its "seeds" would not be
    replications: that is refused with a :class:`UsageError` unless ``pool`` is true (then
    the pooled keys are recorded in ``Comparison.pooled``). Select runs first with
    :func:`select` to compare within one value of such a key.
    """
    if collected.summary.empty:
        raise UsageError("no finished runs to compare (see collected/failures.csv)")
    by = list(by) if by is not None else collected.factors
    keys = override_keys(collected)
    unknown = [k for k in by if k not in keys]
    if unknown:
        raise UsageError(
            f"--by {unknown[0]!r} is not an override key of the sweep; keys: "
            + (", ".join(keys) or "(none besides seed)")
        )
    if payback_at_week < 0:
        raise UsageError(f"--payback-week {payback_at_week} is negative; allowed: a week >= 0")
    summary = collected.summary[collected.summary["firm"] == firm].copy()
    if summary.empty:
        raise UsageError(
            f"--firm {firm!r} is not in the sweep; firms: "
            + ", ".join(sorted(collected.summary["firm"].unique()))
        )
    summary["arm"] = label_arms(summary, by)
    pooled = varying_within(summary, [k for k in keys if k not in by])
    if pooled and not pool:
        first = pooled[0]
        values = ", ".join(dict.fromkeys(summary[first].map(shown)))
        raise UsageError(
            f"--by {' '.join(by) or '(nothing)'} would pool runs that differ in "
            f"{', '.join(pooled)} ({first}: {values}); pick one with --where {first}=VALUE, "
            f"add it to --by, or pass --pool to pool them"
        )
    if pooled:  # pair each pooled run with the baseline's run of the same seed and values
        summary["seed"] = pairing_units(summary, pooled)
    arms = list(dict.fromkeys(summary["arm"]))
    labels = labels_in_words(summary, by, arms)
    if baseline is None:
        baseline = arms[0]
    if baseline not in arms and len(by) == 1 and baseline.startswith(f"{by[0]}="):
        baseline = baseline[len(by[0]) + 1 :]  # --baseline key=value, as the arms are shown
    if baseline not in arms and len(by) == 1 and str(override_value(baseline)) in arms:
        baseline = str(override_value(baseline))  # typed as in an override: null for None
    if baseline not in arms and baseline in labels.values():  # the arm as shown in words
        baseline = next(a for a, text in labels.items() if text == baseline)
    if baseline not in arms:
        raise UsageError(f"--baseline {baseline!r} is not an arm; arms: {', '.join(arms)}")
    arm_rows, diff_rows = [], []
    base = summary[summary["arm"] == baseline].set_index("seed")
    for arm in arms:
        cur = summary[summary["arm"] == arm].set_index("seed")
        for metric in METRICS:
            m, lo, hi = mean_ci(cur[metric].to_numpy())
            arm_rows.append(
                {
                    "arm": arm,
                    "metric": metric,
                    "n": len(cur),
                    "mean": m,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
            if arm == baseline:
                continue
            diff_rows.append(
                {
                    "arm": arm,
                    "metric": metric,
                    **_relative(_difference(cur[metric], base[metric]), base, metric),
                }
            )
    runs = collected.runs[collected.runs["firm"] == firm].copy()
    runs["arm"] = label_arms(runs, by)
    if pooled:
        runs["seed"] = pairing_units(runs, pooled)
    payback = _payback(runs, arms, baseline, payback_at_week)
    diff_cols = ["arm", "metric", "n_pairs", "paired", "diff", "ci_low", "ci_high", "p_value"]
    diff_cols += [
        f"{name}{end}"
        for name in ("pct_of_baseline", "per_1000")
        for end in ("", "_ci_low", "_ci_high")
    ]
    return Comparison(
        pd.DataFrame(arm_rows),
        pd.DataFrame(diff_rows, columns=diff_cols),
        payback,
        baseline,
        firm,
        labels,
        pooled if pool else [],
        {a: break_even(summary, a, baseline) for a in arms if a != baseline},
    )


def _relative(diff: dict[str, float], base: pd.DataFrame, metric: str) -> dict[str, float]:
    """Add the difference as % of the baseline's mean (where that mean is positive) and, for
    money and customer counts, per 1,000 customers of the market (``customers.n``)."""
    mean = float(base[metric].mean())
    scale = 100.0 / mean if mean > 0 else np.nan
    size = float(base["market_customers"].mean()) if "market_customers" in base else np.nan
    per = 1000.0 / size if METRICS[metric][1] in ("EUR", "customers") and size > 0 else np.nan
    out = dict(diff)
    for name, factor in (("pct_of_baseline", scale), ("per_1000", per)):
        out[name] = diff["diff"] * factor
        out[f"{name}_ci_low"] = diff["ci_low"] * factor
        out[f"{name}_ci_high"] = diff["ci_high"] * factor
    return out


def _difference(arm: pd.Series, base: pd.Series) -> dict[str, float]:
    common = arm.index.intersection(base.index)
    if len(common) >= 2:
        d = (arm.loc[common] - base.loc[common]).to_numpy(float)
        m, lo, hi = mean_ci(d)
        p = (
            stats.ttest_rel(arm.loc[common], base.loc[common]).pvalue
            if np.ptp(d) > 0
            else (0.0 if m != 0 else 1.0)
        )
        return {
            "n_pairs": len(common),
            "paired": True,
            "diff": m,
            "ci_low": lo,
            "ci_high": hi,
            "p_value": float(p),
        }
    a, b = arm.to_numpy(float), base.to_numpy(float)
    res = stats.ttest_ind(a, b, equal_var=False)
    ci = res.confidence_interval(0.95)
    return {
        "n_pairs": 0,
        "paired": False,
        "diff": a.mean() - b.mean(),
        "ci_low": ci.low,
        "ci_high": ci.high,
        "p_value": float(res.pvalue),
    }


def _payback(runs: pd.DataFrame, arms: list[str], baseline: str, at_week: int) -> pd.DataFrame:
    """Week from which the mean paired cumulative-profit gain over the baseline stays >= 0,
    and the share of seeds whose gain is positive at ``at_week`` and at the horizon."""
    wide = runs.pivot_table(index=["arm", "seed"], columns="week", values="cumulative_profit")
    rows = []
    base = wide.loc[baseline]
    for arm in arms:
        if arm == baseline:
            continue
        gain = wide.loc[arm] - base.reindex(wide.loc[arm].index)
        gain = gain.dropna(how="all")
        mean = gain.mean(axis=0)
        negative = np.flatnonzero(mean.to_numpy() < 0)
        if negative.size == 0:
            week = float(mean.index[0])
        elif negative[-1] == mean.size - 1:
            week = np.nan
        else:
            week = float(mean.index[negative[-1] + 1])
        at = min(at_week, int(mean.index.max()))
        col = mean.index[mean.index <= at].max()
        rows.append(
            {
                "arm": arm,
                "payback_week": week,
                f"paid_back_week{at}_pct": 100 * float((gain[col] > 0).mean()),
                "paid_back_horizon_pct": 100 * float((gain[mean.index.max()] > 0).mean()),
                "seeds": len(gain),
            }
        )
    return pd.DataFrame(rows)


def headline(
    collected: Collected, cmp: Comparison, arm_of: pd.Series, customers: float
) -> pd.DataFrame:
    """Per arm, what a manager asks first: profit change in % of the baseline's profit and
    in EUR per 1,000 customers (95% CIs, paired by seed), share change in pp, payback week,
    and in how many seeds the arm made more profit than the baseline.

    ``arm_of`` maps each row of ``collected.summary`` to its arm (as ``compare`` labels it);
    ``customers`` is the market size the per-1,000 figures divide by.
    """
    summary = collected.summary.assign(arm=arm_of)
    summary = summary[summary["firm"] == cmp.firm]
    base = summary[summary["arm"] == cmp.baseline].set_index("seed")
    base_profit = base["cumulative_profit_eur"].mean()
    payback = cmp.payback.set_index("arm") if not cmp.payback.empty else pd.DataFrame()
    first = collected.runs["week"].min() if len(collected.runs) else np.nan
    rows = []
    for arm in dict.fromkeys(cmp.arms["arm"]):
        if arm == cmp.baseline:
            continue
        cur = summary[summary["arm"] == arm].set_index("seed")
        common = cur.index.intersection(base.index)
        gain = cur.loc[common, "cumulative_profit_eur"] - base.loc[common, "cumulative_profit_eur"]
        d, lo, hi = mean_ci(gain.to_numpy())
        s, s_lo, s_hi = mean_ci(
            (cur.loc[common, "share_end_pct"] - base.loc[common, "share_end_pct"]).to_numpy()
        )
        scale = 100 / base_profit if base_profit > 0 else np.nan  # % of a positive profit only
        per = 1000 / customers if customers > 0 else np.nan
        rows.append(
            {
                "arm": arm,
                "seeds": len(common),
                "profit_diff_eur": d,
                "profit_diff_ci_low": lo,
                "profit_diff_ci_high": hi,
                "profit_pct": d * scale,
                "profit_pct_ci_low": lo * scale,
                "profit_pct_ci_high": hi * scale,
                "profit_per_1000_eur": d * per,
                "profit_per_1000_ci_low": lo * per,
                "profit_per_1000_ci_high": hi * per,
                "share_pp": s,
                "share_pp_ci_low": s_lo,
                "share_pp_ci_high": s_hi,
                "payback_week": payback["payback_week"].get(arm, np.nan)
                if len(payback)
                else np.nan,
                "better_seeds": int((gain > 0).sum()),
                # paying back from a later week means its gain was below zero before
                "costs_up_front": bool(payback["payback_week"].get(arm, np.nan) > first)
                if len(payback)
                else False,
                **_break_even_columns(
                    cmp.margins.get(arm) or break_even(summary, arm, cmp.baseline)
                ),
            }
        )
    return pd.DataFrame(rows)


def _break_even_columns(be: BreakEven) -> dict[str, object]:
    """The arm's break-even gross margin (%, with its CI) and the runs' own margin: the
    verdict at one margin is not a finding when the margin can reverse it."""
    return {
        "margin_pct": 100 * be.margin,
        "break_even_margin_pct": 100 * be.break_even,
        "break_even_ci_low_pct": 100 * be.ci_low,
        "break_even_ci_high_pct": 100 * be.ci_high,
        "pays_above_break_even": bool(be.slope_eur > 0) if np.isfinite(be.slope_eur) else None,
        "break_even_note": be.note,
    }
