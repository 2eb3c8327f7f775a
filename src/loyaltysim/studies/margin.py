"""The break-even gross margin of a programme: the margin at which its profit effect is zero.

A firm knows its own margin; the model's default (unit cost EUR 3.50 on a EUR 5 list price:
a 30% gross margin) is only one point of the plausible 10-50%. Where the firm's price is
fixed, nothing a customer or rival does depends on the firm's unit cost, so the same runs
give the programme's effect at every margin exactly: a run's profit is

    profit(m) = revenue - (1 - m) * price * units - programme cost - acquisition cost,

linear in the gross margin ``m = 1 - unit_cost / price``. The paired effect of an arm over
the baseline in seed ``i`` is therefore ``d_i(m) = a_i + m * b_i`` with
``b_i = price * (units_arm - units_base)``: an arm that sells more units gains more from
each point of margin. The break-even margin is ``m* = -mean(a) / mean(b)``; its confidence
interval is Fieller's: the margins at which the effect's paired t interval (the one every
other difference in a comparison has) contains zero. When the slope cannot be told from
zero, the interval is unbounded and reported as not determined.

Where the firm's price adapts to its profit (``firm.pricing.policy=adaptive``), the unit
cost changes the prices and so the behaviour, and this identity does not hold: the break-even
is then reported as not available (re-run the arms at other unit costs to map it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

# summary columns the re-pricing reads (runs/runner.summarise writes them)
NEEDED = ("cumulative_profit_eur", "revenue_eur", "units", "cogs_eur", "price_start_eur")


@dataclass(frozen=True)
class BreakEven:
    """An arm's break-even gross margin against the baseline, for one firm.

    Attributes:
        arm, baseline: the arms compared (paired by seed).
        margin: the current gross margin of the runs (0-1, ``1 - unit_cost / price``).
        break_even: the gross margin (0-1 scale, may fall outside 0-1) at which the arm's
            mean profit effect is zero; NaN when not available.
        ci_low, ci_high: its confidence interval (Fieller), NaN when not determined.
        slope_eur: EUR of profit effect gained per unit (1.0 = 100 points) of gross margin;
            positive: the arm pays at margins above ``break_even``.
        seeds: paired seeds used.
        note: why the figure is missing or how to read it, in words.
    """

    arm: str
    baseline: str
    margin: float
    break_even: float
    ci_low: float
    ci_high: float
    slope_eur: float
    seeds: int
    note: str

    def sentence(self) -> str:
        """The break-even in words, for tables and answers ("pays above a 21% margin")."""
        if not np.isfinite(self.break_even):
            return self.note
        return words(self.break_even, self.ci_low, self.ci_high, self.slope_eur > 0)


def _pct(x: float) -> str:
    return f"{100 * x + 0.0:.0f}%".replace("-0%", "0%")


def _bound(x: float) -> str:
    """An interval's end as a margin a firm can have: below 0% or above 100% said so."""
    return "below 0%" if x < 0 else "above 100%" if x > 1 else _pct(x)


def words(point: float, lo: float, hi: float, pays_above: bool) -> str:
    """A break-even margin (0-1 scale) and its interval in words. A break-even outside 0-100%
    means the sign of the effect is the same at every margin a firm can have; an interval
    that is not bounded means the seeds cannot place the break-even at all."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return (
            "break-even margin not determined at these seeds (the effect barely changes "
            "with the margin)"
        )
    raw = f"break-even {_pct(point)}, 95% CI {_pct(lo)} to {_pct(hi)}"
    if pays_above and hi <= 0 or not pays_above and lo >= 1:
        return f"pays at every gross margin ({raw})"
    if pays_above and lo >= 1 or not pays_above and hi <= 0:
        return f"loses money at every gross margin ({raw})"
    ci = f" (95% CI {_bound(lo)} to {_bound(hi)})"
    side = "above" if pays_above else "below"
    return f"break-even gross margin {_pct(point)}{ci}: pays at margins {side} it"


def paired_parts(
    summary: pd.DataFrame, arm: str, baseline: str
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Per paired seed, the intercept ``a_i`` and slope ``b_i`` of the profit effect in the
    gross margin (EUR), with the runs' price (EUR/unit) and current margin (0-1).

    ``summary`` holds one firm's rows with columns ``arm``, ``seed`` and :data:`NEEDED`.
    Raises ValueError where the re-pricing does not hold (prices that moved, or arms with
    different prices or unit costs).
    """
    missing = [c for c in (*NEEDED, "arm", "seed") if c not in summary]
    if missing:
        raise ValueError(f"summary lacks {missing}: collect the sweep again")
    cur = summary[summary["arm"] == arm].set_index("seed")
    base = summary[summary["arm"] == baseline].set_index("seed")
    common = cur.index.intersection(base.index)
    cur, base = cur.loc[common], base.loc[common]
    both = pd.concat([cur, base])
    if "price_fixed" in both and not both["price_fixed"].astype(bool).all():
        raise ValueError("the firm's price moved during the runs (adaptive pricing)")
    price = both["price_start_eur"].to_numpy(float)
    units = both["units"].to_numpy(float)
    unit_cost = np.divide(
        both["cogs_eur"].to_numpy(float), units, out=np.full(units.size, np.nan), where=units > 0
    )
    unit_cost = unit_cost[np.isfinite(unit_cost)]
    if np.ptp(price) > 1e-9 or (unit_cost.size and np.ptp(unit_cost) > 1e-9 * unit_cost.max()):
        raise ValueError("the arms differ in price or unit cost")
    p = float(price[0])
    margin = 1.0 - float(unit_cost[0]) / p if unit_cost.size else np.nan
    d_profit = (cur["cumulative_profit_eur"] - base["cumulative_profit_eur"]).to_numpy(float)
    d_units = (cur["units"] - base["units"]).to_numpy(float)
    # profit at margin m: profit_now + (m - margin) * price * units
    b = p * d_units
    a = d_profit - margin * b
    return a, b, p, margin


def break_even(summary: pd.DataFrame, arm: str, baseline: str, level: float = 0.95) -> BreakEven:
    """The break-even gross margin of ``arm`` against ``baseline`` with Fieller's interval.

    ``summary`` is one firm's rows of a collected sweep (one row per run) with an ``arm``
    column, as :func:`loyaltysim.studies.comparison.compare` labels them.
    """
    try:
        a, b, _, margin = paired_parts(summary, arm, baseline)
    except ValueError as exc:
        return BreakEven(
            arm,
            baseline,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            0,
            f"break-even margin not available: {exc}",
        )
    n = a.size
    if n < 2:
        return BreakEven(
            arm,
            baseline,
            margin,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            n,
            "break-even margin not available: fewer than 2 paired seeds",
        )
    ma, mb = float(a.mean()), float(b.mean())
    if mb == 0:
        note = "the arm sells the same units as the baseline: its effect does not depend on "
        note += "the margin"
        return BreakEven(arm, baseline, margin, np.nan, np.nan, np.nan, 0.0, n, note)
    cov = np.cov(np.vstack([a, b]), ddof=1)
    t2 = stats.t.ppf(0.5 + level / 2, n - 1) ** 2 / n
    qa = mb**2 - t2 * cov[1, 1]
    qb = 2 * (ma * mb - t2 * cov[0, 1])
    qc = ma**2 - t2 * cov[0, 0]
    disc = qb**2 - 4 * qa * qc
    lo = hi = np.nan
    if qa > 0 and disc >= 0:
        r = np.sqrt(disc)
        lo, hi = sorted(((-qb - r) / (2 * qa), (-qb + r) / (2 * qa)))
    return BreakEven(arm, baseline, margin, -ma / mb, lo, hi, mb, n, "")


def effect_at_margins(
    summary: pd.DataFrame, arm: str, baseline: str, margins: np.ndarray, level: float = 0.95
) -> pd.DataFrame:
    """The arm's mean paired profit effect (EUR) with its t interval at each gross margin
    in ``margins`` (0-1): the same runs re-priced. Columns margin, diff, ci_low, ci_high."""
    a, b, _, _ = paired_parts(summary, arm, baseline)
    rows = []
    for m in np.asarray(margins, float):
        d = a + m * b
        mean = float(d.mean())
        half = (
            stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
            if d.size > 1
            else np.nan
        )
        rows.append({"margin": m, "diff": mean, "ci_low": mean - half, "ci_high": mean + half})
    return pd.DataFrame(rows)


def plot_effect_by_margin(
    summary: pd.DataFrame,
    arms: list[str],
    baseline: str,
    labels: dict[str, str] | None = None,
    per_customers: float | None = None,
    path=None,
):
    """Figure: each arm's profit effect against the gross margin (10-50% plausible band
    shaded), with 95% bands, the runs' own margin marked; EUR per 1,000 customers when
    ``per_customers`` (the market size) is given. Returns the figure; saves it to ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    labels = labels or {}
    margins = np.linspace(0.0, 0.6, 61)
    scale = 1000.0 / per_customers if per_customers else 1.0
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.axvspan(10, 50, color="0.93", label="plausible margins (10-50%)")
    ax.axhline(0, color="0.3", lw=0.8)
    current = np.nan
    for arm in arms:
        if arm == baseline:
            continue
        try:
            eff = effect_at_margins(summary, arm, baseline, margins)
            current = paired_parts(summary, arm, baseline)[3]
        except ValueError:
            continue
        x = 100 * eff["margin"]
        (line,) = ax.plot(x, scale * eff["diff"], label=labels.get(arm, arm))
        ax.fill_between(
            x, scale * eff["ci_low"], scale * eff["ci_high"], color=line.get_color(), alpha=0.2
        )
    if np.isfinite(current):
        ax.axvline(100 * current, color="0.3", ls="--", lw=0.8, label="margin of the runs")
    ax.set_xlabel("gross margin, % of list price")
    unit = "EUR per 1,000 customers" if per_customers else "EUR"
    ax.set_ylabel(f"profit effect vs {labels.get(baseline, baseline)} ({unit})")
    ax.set_title("Profit effect of each programme against the firm's gross margin")
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
