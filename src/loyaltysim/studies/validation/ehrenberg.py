"""Ehrenberg's regularities, measured on the transaction log.

- Double jeopardy (Goodhardt, Ehrenberg & Chatfield 1984): over a window, a firm's
  penetration is the share of category buyers who bought it, its purchase frequency the
  purchases per buyer of it. Smaller firms have fewer buyers who buy them a little less
  often (Spearman correlation of frequency with penetration > 0), and frequency varies much
  less than penetration (coefficient of variation across firms) while penetrations are
  low; quantitatively, w(1 - b) is about constant (Ehrenberg, Goodhardt & Barwise 1990):
  the distance of each firm's frequency from that line.
- Polygamy: among customers with 4+ purchases in 52 weeks, the share who bought over 90% of
  them from one firm (few sole buyers), and the mean share of category requirements (SCR)
  at their main (most-bought) firm.
- Main-firm switching: of customers buying in both halves of a 52-week window, the share
  whose most-bought firm in the first 26 weeks is not a most-bought firm in the last 26
  (ties count as no switch); a persistence variant keeps customers with 3+ purchases in each
  half, whose main firm is less a matter of chance.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from . import check
from .common import Context, Measured, mean_ci, verdict

PLAIN = ("firm/programme=none",)  # three identical firms, no programmes
# Largest distance (%) of a firm's frequency from the double-jeopardy line w(1 - b) = w0
# over 52 weeks: our tolerance for "about constant" (Ehrenberg, Goodhardt & Barwise 1990)
LAW_TOLERANCE_PCT = 10.0


def counts(log: pd.DataFrame, first_week: int, last_week: int) -> pd.DataFrame:
    """Purchases per customer (rows) and firm (columns) in weeks first..last-1."""
    w = log[(log["week"] >= first_week) & (log["week"] < last_week)]
    return w.groupby(["customer_id", "firm"], observed=False).size().unstack(fill_value=0)


def firm_stats(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Over the customers who bought anything: the table of them, each firm's buyers, its
    penetration b (share of them who bought it) and its frequency w (purchases per buyer)."""
    active = table[table.sum(axis=1) > 0]
    buyers = (active > 0).sum(axis=0)
    return active, buyers, buyers / len(active), active.sum(axis=0) / buyers.clip(lower=1)


def jeopardy(table: pd.DataFrame) -> tuple[float, float, float]:
    _, _, pen, freq = firm_stats(table)
    with warnings.catch_warnings():  # equal firms: the correlation is undefined (NaN)
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho = stats.spearmanr(pen, freq).statistic
    return float(rho), float(pen.std() / pen.mean()), float(freq.std() / freq.mean())


def law_deviation(table: pd.DataFrame) -> float:
    """Largest distance (%) of a firm's purchase frequency w from the double-jeopardy line
    w = w0 / (1 - b) through the firms' mean w0 of w(1 - b), b being the penetration
    (Ehrenberg, Goodhardt & Barwise 1990: w(1 - b) is about constant across a category's
    brands). Small: the firms' frequencies differ as their sizes predict, no more (no
    niche or lock-in loyalty)."""
    _, _, pen, freq = firm_stats(table)
    w_times = freq * (1 - pen)
    return float(100 * np.max(np.abs(w_times / w_times.mean() - 1)))


def jeopardy_values(runs, weeks: int) -> tuple[dict[str, list[float]], dict]:
    """Per-seed double-jeopardy measures over the last 52 and 13 weeks of ``weeks``, and
    the first run's purchase tables (for the figure)."""
    values: dict[str, list[float]] = {}
    tables = {}

    def add(key: str, value: float) -> None:
        values.setdefault(key, []).append(float(value))

    for r in runs:
        for span in (52, 13):
            table = counts(r.log, weeks - span, weeks)
            tables.setdefault(span, table)
            rho, cv_pen, cv_freq = jeopardy(table)
            add(f"spearman_{span}w", rho)
            add(f"cv_penetration_{span}w", cv_pen)
            add(f"cv_frequency_{span}w", cv_freq)
            # CV(frequency) / CV(penetration): double jeopardy wants < 1 (low penetrations)
            with np.errstate(divide="ignore", invalid="ignore"):
                add(f"cv_ratio_{span}w", np.divide(cv_freq, cv_pen))
            add(f"law_deviation_pct_{span}w", law_deviation(table))
            active, buyers, _, freq = firm_stats(table)
            pct = 100 * buyers / len(active)
            for firm in active.columns:
                add(f"penetration_pct_{span}w_{firm}", pct[firm])
                add(f"frequency_{span}w_{firm}", freq[firm])
    return values, tables


@check(
    "double_jeopardy",
    "ehrenberg",
    "Goodhardt, Ehrenberg & Chatfield (1984); Ehrenberg's double jeopardy",
    "Spearman(frequency, penetration) > 0 over 13 and 52 weeks; CV(frequency) < CV(pen.) over "
    "13 weeks; over 52 weeks every firm's frequency within 10% of the line w(1 - b) = w0",
)
def _double_jeopardy(ctx: Context) -> Measured:
    n = ctx.pick(3000, 10000)
    weeks = 104
    runs = ctx.runs(
        ["validation=double_jeopardy", f"customers.n={n}", f"market.horizon_weeks={weeks}"],
        log=True,
    )
    values, tables = jeopardy_values(runs, weeks)
    ci = {k: mean_ci(v)["mean"] for k, v in values.items()}
    pen = [v for k, v in ci.items() if k.startswith("penetration_pct_52w_")]
    freq = [v for k, v in ci.items() if k.startswith("frequency_52w_")]
    ok = (
        all(ci[f"spearman_{s}w"] > 0 for s in (13, 52))
        and ci["cv_frequency_13w"] < ci["cv_penetration_13w"]
        and ci["law_deviation_pct_52w"] <= LAW_TOLERANCE_PCT
    )
    evidence = (
        f"Five unequal firms (firms=ladder), last 52 weeks of {weeks}: Spearman rank correlation "
        f"of purchase frequency with penetration {ci['spearman_52w']:.2f} (13 weeks: "
        f"{ci['spearman_13w']:.2f}). Over 13 weeks the CV across firms of penetration is "
        f"{ci['cv_penetration_13w']:.2f} against {ci['cv_frequency_13w']:.2f} for frequency. Over "
        f"52 weeks penetration runs from {min(pen):.0f}% to {max(pen):.0f}% "
        f"(x{max(pen) / min(pen):.2f}) and frequency from {min(freq):.1f} to {max(freq):.1f} "
        f"purchases per buyer (x{max(freq) / min(freq):.2f}; CV {ci['cv_penetration_52w']:.2f} vs "
        f"{ci['cv_frequency_52w']:.2f}); every firm's frequency is within "
        f"{ci['law_deviation_pct_52w']:.1f}% of the double-jeopardy line w(1 - b) = w0 "
        "(Ehrenberg, Goodhardt & Barwise 1990). The CV comparison is made over 13 weeks only: "
        "by that law d(ln w) = b/(1 - b) d(ln b), so once penetrations pass 50% (a year of a "
        "frequently bought category with few firms) frequency is predicted to vary as much as "
        "penetration. Double jeopardy is evidence that brand size works mainly through how many "
        "buy a firm, not how loyal its buyers are; per-firm values below."
    )

    def figure(fig):
        axes = fig.subplots(1, 2)
        for ax, span in zip(axes, (13, 52), strict=True):
            table, buyers, _, freq = firm_stats(tables[span])
            pen = 100 * buyers / len(table)
            ax.scatter(pen, freq)
            for name in table.columns:
                ax.annotate(str(name), (pen[name], freq[name]))
            w0 = float(np.mean(freq * (1 - pen / 100)))  # the double-jeopardy line
            b = np.linspace(0.9 * pen.min(), min(1.1 * pen.max(), 99), 50) / 100
            ax.plot(100 * b, w0 / (1 - b), "k--", lw=0.8, label="w(1 - b) = w0")
            ax.legend(loc="upper left")
            ax.set(xlabel="penetration (%)", ylabel="purchases per buyer", title=f"{span} weeks")
        fig.suptitle("Double jeopardy, five unequal firms (seed 0)")

    return Measured(values, "spearman_52w", verdict(ok), evidence, figure)


def main_share(log: pd.DataFrame, weeks: int) -> np.ndarray:
    """Share of purchases at the main firm over the last 52 weeks, customers with 4+."""
    table = counts(log, weeks - 52, weeks).to_numpy()
    heavy = table[table.sum(axis=1) >= 4]
    return heavy.max(axis=1) / heavy.sum(axis=1)


def polygamy_values(runs, weeks: int) -> dict[str, list[float]]:
    """Per seed: % of 4+ buyers with over 90% (and 100%) at one firm, mean SCR at the main."""
    sole, scr, sole100 = [], [], []
    for r in runs:
        top = main_share(r.log, weeks)
        sole.append(100 * float((top > 0.9).mean()))
        sole100.append(100 * float((top == 1).mean()))
        scr.append(100 * float(top.mean()))
    return {"sole_over_90_pct": sole, "sole_100_pct": sole100, "scr_main_pct": scr}


def _plain_runs(ctx: Context, weeks: int = 104):
    n = ctx.pick(3000, 10000)
    return ctx.runs([*PLAIN, f"customers.n={n}", f"market.horizon_weeks={weeks}"], log=True)


@check(
    "polygamy",
    "ehrenberg",
    "Ehrenberg (polygamous loyalty; few sole buyers); target range from the literature (issue 8)",
    "share of 4+ buyers buying >90% from one firm within 10-40%",
)
def _polygamy(ctx: Context) -> Measured:
    weeks = 104
    runs = _plain_runs(ctx, weeks)
    values = polygamy_values(runs, weeks)
    sole, sole100, scr = (values[k] for k in ("sole_over_90_pct", "sole_100_pct", "scr_main_pct"))
    dist = main_share(runs[0].log, weeks)
    share = mean_ci(sole)["mean"]
    ok = 10 <= share <= 40
    evidence = (
        f"Three identical firms, no programmes, last 52 of {weeks} weeks: of customers with 4+ "
        f"purchases, {share:.1f}% bought over 90% from one firm ({mean_ci(sole100)['mean']:.1f}% "
        f"only from one); their mean share of category requirements at the main firm is "
        f"{mean_ci(scr)['mean']:.1f}%. Ehrenberg: buyers are polygamous, few are sole buyers; "
        "a high share is evidence of lock-in by the loyalty term, not of loyalty in the data."
    )

    def figure(fig):
        ax = fig.subplots()
        ax.hist(100 * dist, bins=np.linspace(33, 100, 23))
        ax.axvline(90, color="k", ls="--")
        ax.set(
            xlabel="share of requirements at the main firm (%)",
            ylabel="customers (4+ buys)",
            title="Polygamy: share at the main firm, 52 weeks (seed 0)",
        )

    return Measured(
        values,
        "sole_over_90_pct",
        verdict(ok),
        evidence,
        figure,
    )


def switching_share(log: pd.DataFrame, end: int, min_buys: int = 1) -> float:
    a = counts(log, end - 52, end - 26)
    b = counts(log, end - 26, end)
    both = a.index.intersection(b.index)
    a, b = a.loc[both].to_numpy(), b.loc[both].to_numpy()
    keep = (a.sum(axis=1) >= min_buys) & (b.sum(axis=1) >= min_buys)
    a, b = a[keep], b[keep]
    main_a = a == a.max(axis=1, keepdims=True)
    main_b = b == b.max(axis=1, keepdims=True)
    return 100 * float((~(main_a & main_b).any(axis=1)).mean())


def switching_values(runs, weeks: int) -> dict[str, list[float]]:
    """Per seed: % changing main firm over the last 52 weeks (1+ and 3+ purchases in each
    half) and the model's churn to a competitor per 100 customer-years."""
    base, persistent, churn = [], [], []
    for r in runs:
        base.append(switching_share(r.log, weeks, 1))
        persistent.append(switching_share(r.log, weeks, 3))
        m = r.metrics[r.metrics["week"] > weeks - 52]
        per_week = m.groupby("week")[["customers", "churn_to_competitor"]].sum()
        churn.append(100 * per_week["churn_to_competitor"].sum() / per_week["customers"].mean())
    return {
        "switching_pct": base,
        "switching_3plus_pct": persistent,
        "churn_to_competitor_per_100_cy": churn,
    }


@check(
    "main_firm_switching",
    "ehrenberg",
    "store-switching surveys: about 16% (UK) to 23% (Australia) a year",
    "share switching main firm over a year in 16-23%; pass within the tolerance 10-30%",
)
def _switching(ctx: Context) -> Measured:
    weeks = 104
    values = switching_values(_plain_runs(ctx, weeks), weeks)
    base, persistent, churn = (
        values[k]
        for k in ("switching_pct", "switching_3plus_pct", "churn_to_competitor_per_100_cy")
    )
    value = mean_ci(base)["mean"]
    ok = 10 <= value <= 30
    evidence = (
        f"Three identical firms, no programmes, last 52 of {weeks} weeks: {value:.1f}% of "
        f"customers buying in both halves changed main (most-bought) firm between the first "
        f"and last 26 weeks; {mean_ci(persistent)['mean']:.1f}% of those with 3+ purchases in "
        f"each half. The model's own churn_to_competitor counts "
        f"{mean_ci(churn)['mean']:.1f} home-firm changes per 100 customer-years. Evidence of "
        "how often customers really move their main firm, the survey's definition of switching."
    )

    def figure(fig):
        ax = fig.subplots()
        labels = [
            "main firm\n(1+ each half)",
            "main firm\n(3+ each half)",
            "churn_to_competitor\nper 100 cust.-yr",
        ]
        data = [base, persistent, churn]
        ax.bar(
            labels,
            [np.mean(d) for d in data],
            yerr=[mean_ci(d)["hi"] - mean_ci(d)["mean"] if len(d) > 1 else 0 for d in data],
            capsize=4,
        )
        ax.axhspan(16, 23, color="g", alpha=0.2, zorder=0, label="surveys 16-23%")
        ax.set(ylabel="% per year", title="Annual main-firm switching")
        ax.legend()

    return Measured(
        values,
        "switching_pct",
        verdict(ok),
        evidence,
        figure,
    )
