"""Compare the arms of a sweep: means with 95% confidence intervals, paired differences
against a baseline arm, payback, as a Markdown table, a CSV and figures.

    loyaltysim-compare outputs/multirun/... --baseline none
    loyaltysim-compare SWEEP --by firm/programme --baseline none --firm focal

Arms are the combinations of the sweep's factors (every override that varies, except the
seed), or of the keys given with ``--by``. Replications are the seeds. Differences against
the baseline are paired by seed: the arms share random numbers, so the paired difference
is far tighter than the spread of either arm. The p-value is a two-sided paired t-test
(``scipy.stats.ttest_rel``), or Welch's t-test when the arms share fewer than two seeds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from .collect import Collected, UsageError, collect  # noqa: E402

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
FIGURE_METRICS = (
    "cumulative_profit_eur",
    "share_end_pct",
    "repeat_rate_pct",
    "churn_to_competitor_per_year_pct",
)
SERIES = {
    "cumulative_profit": ("Cumulative profit (kEUR)", 1e-3),
    "share": ("Purchase share (%)", 100.0),
    "repeat_rate": ("Repeat-purchase rate (%)", 100.0),
    "active_loyal": ("Active loyal customers", 1.0),
}


@dataclass
class Comparison:
    arms: pd.DataFrame  # arm, metric, n, mean, ci_low, ci_high
    differences: pd.DataFrame  # arm, metric, n_pairs, diff, ci_low, ci_high, p_value
    payback: pd.DataFrame  # arm, payback_week, paid_back_at_pct, horizon_paid_back_pct
    baseline: str
    firm: str

    def pairing(self) -> str:
        """How many seeds each arm shares with the baseline (the paired replications)."""
        if self.differences.empty:
            return "one arm only: nothing to pair with a baseline"
        n = self.differences.groupby("arm", sort=False)["n_pairs"].max()
        return "paired by seed with the baseline: " + ", ".join(
            f"{arm} {int(k)} seeds" for arm, k in n.items()
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
) -> Comparison:
    """Arms, paired differences against ``baseline`` and payback for ``firm``."""
    if collected.summary.empty:
        raise UsageError("no finished runs to compare (see collected/failures.csv)")
    by = list(by) if by is not None else collected.factors
    columns = list(collected.summary.columns)
    keys = columns[2 : columns.index("firm")]  # collect puts the override keys there
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
    arms = list(dict.fromkeys(summary["arm"]))
    if baseline is None:
        baseline = arms[0]
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
                {"arm": arm, "metric": metric, **_difference(cur[metric], base[metric])}
            )
    runs = collected.runs[collected.runs["firm"] == firm].copy()
    runs["arm"] = label_arms(runs, by)
    payback = _payback(runs, arms, baseline, payback_at_week)
    diff_cols = ["arm", "metric", "n_pairs", "paired", "diff", "ci_low", "ci_high", "p_value"]
    return Comparison(
        pd.DataFrame(arm_rows), pd.DataFrame(diff_rows, columns=diff_cols), payback, baseline, firm
    )


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


def _fmt(v: float, unit: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    return f"{v:,.0f}" if unit in ("EUR", "customers") else f"{v:.2f}"


def to_markdown(cmp: Comparison) -> str:
    """The comparison as a Markdown report: one table per metric, units in the headers."""
    lines = [
        f"Firm: **{cmp.firm}**. Baseline arm: **{cmp.baseline}**. Means over seeds with 95% "
        "confidence intervals; differences are paired by seed (common random numbers), "
        "p from a two-sided paired t-test.",
        "",
        cmp.pairing()[0].upper() + cmp.pairing()[1:] + ".",
        "",
    ]
    for metric, (label, unit, dunit) in METRICS.items():
        arms = cmp.arms[cmp.arms["metric"] == metric]
        diffs = cmp.differences[cmp.differences["metric"] == metric].set_index("arm")
        lines += [
            f"### {label} ({unit})",
            "",
            f"| arm | n | mean | 95% CI | Δ vs {cmp.baseline} ({dunit}) | 95% CI of Δ | p |",
            "|---|---:|---:|---|---:|---|---:|",
        ]
        for _, r in arms.iterrows():
            ci = f"[{_fmt(r.ci_low, unit)}, {_fmt(r.ci_high, unit)}]"
            if r.arm in diffs.index:
                d = diffs.loc[r.arm]
                delta = _fmt(d["diff"], dunit)
                dci = f"[{_fmt(d['ci_low'], dunit)}, {_fmt(d['ci_high'], dunit)}]"
                p = f"{d['p_value']:.3g}"
            else:
                delta, dci, p = "(baseline)", "", ""
            lines.append(
                f"| {r.arm} | {r.n} | {_fmt(r['mean'], unit)} | {ci} | {delta} | {dci} | {p} |"
            )
        lines.append("")
    if not cmp.payback.empty:
        cols = [c for c in cmp.payback.columns if c != "arm"]
        lines += [
            "### Payback against the baseline",
            "",
            "Payback week: first week from which the mean cumulative-profit gain over the "
            "baseline stays at or above zero (n/a: not by the horizon). Paid-back shares: "
            "seeds whose gain is positive then.",
            "",
            "| arm | " + " | ".join(cols) + " |",
            "|---|" + "---:|" * len(cols),
        ]
        for _, r in cmp.payback.iterrows():
            vals = [("n/a" if not np.isfinite(r[c]) else f"{r[c]:.0f}") for c in cols]
            lines.append(f"| {r.arm} | " + " | ".join(vals) + " |")
        lines.append("")
    return "\n".join(lines)


def figures(collected: Collected, cmp: Comparison, by: Sequence[str], out: Path) -> list[Path]:
    """Time series with 95% bands per arm, and bars of differences with error bars."""
    runs = collected.runs[collected.runs["firm"] == cmp.firm].copy()
    runs["arm"] = label_arms(runs, by)
    arms = list(dict.fromkeys(cmp.arms["arm"]))
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, (col, (label, scale)) in zip(axes.ravel(), SERIES.items(), strict=True):
        for i, arm in enumerate(arms):
            wide = (
                runs[runs["arm"] == arm].pivot_table(index="week", columns="seed", values=col)
                * scale
            )
            if col in ("share", "repeat_rate"):
                wide = wide.rolling(4, min_periods=1).mean()
            n = wide.shape[1]
            mean = wide.mean(axis=1)
            half = (
                (stats.t.ppf(0.975, n - 1) * wide.std(axis=1, ddof=1) / np.sqrt(n))
                if n > 1
                else 0 * mean
            )
            ax.plot(mean.index, mean, color=f"C{i}", label=arm)
            ax.fill_between(mean.index, mean - half, mean + half, color=f"C{i}", alpha=0.2)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("week")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"{cmp.firm}: mean over seeds with 95% confidence bands", fontsize=11)
    fig.tight_layout()
    ts = out / "timeseries.png"
    fig.savefig(ts, dpi=110)
    plt.close(fig)

    others = [a for a in arms if a != cmp.baseline]
    if not others:  # one arm: no differences to draw
        return [ts]
    fig, axes = plt.subplots(1, len(FIGURE_METRICS), figsize=(3.4 * len(FIGURE_METRICS), 3.8))
    for ax, metric in zip(axes, FIGURE_METRICS, strict=True):
        label, _, dunit = METRICS[metric]
        d = cmp.differences[cmp.differences["metric"] == metric].set_index("arm").reindex(others)
        err = np.vstack([d["diff"] - d["ci_low"], d["ci_high"] - d["diff"]])
        colours = [f"C{arms.index(a)}" for a in others]
        ax.bar(range(len(others)), d["diff"], yerr=np.nan_to_num(err), color=colours, capsize=4)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(range(len(others)), others, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"Δ {label}\n({dunit}, vs {cmp.baseline})", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    bars = out / "differences.png"
    fig.savefig(bars, dpi=110)
    plt.close(fig)
    return [ts, bars]


def write(collected: Collected, cmp: Comparison, by: Sequence[str], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = out / "comparison.md"
    md.write_text(to_markdown(cmp) + "\n")
    table = cmp.arms.merge(
        cmp.differences, on=["arm", "metric"], how="left", suffixes=("", "_diff")
    )
    table.insert(2, "unit", table["metric"].map(lambda m: METRICS[m][1]))
    table.to_csv(out / "comparison.csv", index=False)
    cmp.payback.to_csv(out / "payback.csv", index=False)
    return [md, out / "comparison.csv", out / "payback.csv", *figures(collected, cmp, by, out)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Compare the arms of a loyaltysim sweep.")
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument(
        "--by", nargs="*", help="override keys that define the arms (default: all that vary)"
    )
    ap.add_argument("--baseline", help="the arm to difference against (default: the first)")
    ap.add_argument("--firm", default="focal")
    ap.add_argument("--payback-week", type=int, default=104)
    ap.add_argument("--out", type=Path, help="output folder (default: <sweep>/comparison)")
    args = ap.parse_args(argv)
    try:
        collected = collect(args.sweep_dir)
        by = args.by if args.by is not None else collected.factors
        cmp = compare(collected, by, args.baseline, args.firm, args.payback_week)
    except UsageError as err:
        print(f"loyaltysim-compare: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    paths = write(collected, cmp, by, args.out or args.sweep_dir / "comparison")
    print(to_markdown(cmp))
    if len(collected.failures):
        print(
            f"note: {len(collected.failures)} failed or corrupt runs left out "
            "(collected/failures.csv)",
            file=sys.stderr,
        )
    print(cmp.pairing())
    print("written: " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
