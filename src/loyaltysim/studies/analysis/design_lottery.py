"""Experiment 7, ``design_lottery``: random discount-programme designs vs no programme (S9).

Factor: ``design`` (a design number; each draws its levers reproducibly, see
``loyaltysim.runs.designs``). The baseline is the design whose programme never starts (its
resolved ``firm.programme.start_week`` is at or after ``market.horizon_weeks``); every other
design is compared with it, seed by seed. The levers of each design are read from its runs'
resolved configs.

Outputs: ``designs.csv`` (per design: its levers, the mean profit gain in EUR with a 95% CI,
the purchases gained, whether it paid back, its reward rate: EUR returned per EUR spent),
``lottery.md`` (share not paid back with a binomial 95% CI, paid back by mode, per lever the
mean among winners and losers and its Spearman correlation with the gain) and
``lottery.png``.

**S9** (most programmes fail within two years; optimising transactions is the wrong
objective): the share of designs whose mean cumulative-profit gain over the baseline is not
positive at week 104 (two years; the run's last week if it is shorter), and the Spearman
correlation between purchases gained and profit gained.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ...runs.collect import Collected
from ..compare import mean_ci
from .common import AnalysisError, config_value, require_factor, run_configs

NUMBER = 7
TITLE = "Programme design lottery (S9)"
FACTOR = "design"
PAYBACK_WEEK = 104  # two years: the horizon of the claim (S9)
LEVERS = (
    "mode",
    "rebate_rate",
    "point_value_eur",
    "redemption_threshold",
    "breakage",
    "signup_prob",
    "joining_gift_eur",
)
COMPARED = ("reward_rate", "signup_prob", "joining_gift_eur", "redemption_threshold", "breakage")


def design_levers(collected: Collected, sweep_dir: Path) -> tuple[object, pd.DataFrame]:
    """(baseline design, one row of levers per other design) from the runs' configs."""
    never, params = set(), {}
    for cfg in run_configs(collected, sweep_dir).values():
        design = config_value(cfg, FACTOR)
        start = config_value(cfg, "firm.programme.start_week")
        if start >= config_value(cfg, "market.horizon_weeks"):
            never.add(design)
        elif design not in params:
            params[design] = {k: config_value(cfg, f"firm.programme.{k}") for k in LEVERS}
    if len(never) != 1:
        raise AnalysisError(
            f"design_lottery: expected one design whose programme never starts (the "
            f"baseline), got {sorted(never)}"
        )
    designs = pd.DataFrame.from_dict(params, orient="index").sort_index()
    designs.index.name = FACTOR
    return never.pop(), designs


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    require_factor(collected, FACTOR, "design_lottery")
    base, designs = design_levers(collected, sweep_dir)
    focal = collected.runs[collected.runs["firm"] == "focal"]
    at = min(PAYBACK_WEEK, int(focal["week"].max()))
    profit = focal[focal["week"] == at].pivot_table(
        index=FACTOR, columns="seed", values="cumulative_profit"
    )
    purchases = focal[focal["week"] <= at].groupby([FACTOR, "seed"])["purchases"].sum().unstack()
    gain = profit.drop(index=base) - profit.loc[base]
    purchases_gain = purchases.drop(index=base) - purchases.loc[base]
    designs["profit_gain_eur"] = gain.mean(axis=1)
    cis = [mean_ci(row)[1:] for row in gain.to_numpy()]
    designs["profit_gain_ci_low"] = [c[0] for c in cis]
    designs["profit_gain_ci_high"] = [c[1] for c in cis]
    designs["purchases_gain"] = purchases_gain.mean(axis=1)
    designs["paid_back"] = designs["profit_gain_eur"] > 0
    # what a member gets back per euro spent, comparable across rebate and points designs
    designs["reward_rate"] = np.where(
        designs["mode"] == "rebate",
        designs["rebate_rate"],
        designs["point_value_eur"] * (1 - designs["breakage"]),
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    designs.sort_values("profit_gain_eur", ascending=False).to_csv(out_dir / "designs.csv")
    n = len(designs)
    failed = int((~designs["paid_back"]).sum())
    ci = stats.binomtest(failed, n).proportion_ci(0.95)
    rows = [
        "| lever | paid back (mean) | not paid back (mean) | Spearman ρ with profit gain | p |",
        "|---|---:|---:|---:|---:|",
    ]
    for lever in COMPARED:
        rho, p = stats.spearmanr(designs[lever], designs["profit_gain_eur"])
        w = designs.loc[designs["paid_back"], lever].mean()
        lz = designs.loc[~designs["paid_back"], lever].mean()
        rows.append(f"| {lever} | {w:.3f} | {lz:.3f} | {rho:+.2f} | {p:.2g} |")
    mode = designs.groupby("mode")["paid_back"].mean().mul(100)
    rho_tx, p_tx = stats.spearmanr(designs["purchases_gain"], designs["profit_gain_eur"])
    text = [
        f"{n} random discount-programme designs against no programme, {gain.shape[1]} "
        f"seeds each; gain = the focal firm's cumulative profit at week {at} minus the same "
        "seeds without a programme.",
        "",
        f"Not paid back at week {at}: **{100 * failed / n:.0f}%** of designs (95% CI "
        f"{100 * ci.low:.0f}-{100 * ci.high:.0f}%). Paid back, by mode: "
        + ", ".join(f"{k} {v:.0f}%" for k, v in mode.items())
        + ".",
        "",
        *rows,
        "",
        "More transactions are not more profit: Spearman ρ between purchases gained and "
        f"profit gained = {rho_tx:+.2f} (p = {p_tx:.2g}).",
        "",
    ]
    (out_dir / "lottery.md").write_text("\n".join(text) + "\n")
    # S9's figure, read across the worlds (studies/worlds/claims.py: SHARES)
    pd.DataFrame(
        [
            {
                "statistic": "not_paid_back",
                "pct": 100 * failed / n,
                "pct_lo": 100 * ci.low,
                "pct_hi": 100 * ci.high,
                "designs": n,
                "week": at,
                "spearman_purchases_profit": rho_tx,
            }
        ]
    ).to_csv(out_dir / "summary.csv", index=False)
    _figure(designs, out_dir / "lottery.png", at)
    return [
        f"- **S9** (most programmes fail within two years; optimising transactions is "
        f"the wrong objective): {100 * failed / n:.0f}% of {n} random discount designs "
        f"had not paid back at week {at} (95% CI {100 * ci.low:.0f}-{100 * ci.high:.0f}%; "
        f"the claim cites 77%: `docs/claims.md`). Purchases gained vs profit gained: Spearman ρ = "
        f"{rho_tx:+.2f} (p = {p_tx:.2g}). What separates winners from losers: "
        "`design_lottery/lottery.md`."
    ]


def _figure(designs: pd.DataFrame, path: Path, at: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for mode, df in designs.groupby("mode"):
        axes[0].scatter(100 * df["reward_rate"], df["profit_gain_eur"] / 1e3, label=mode, s=18)
        axes[1].scatter(df["purchases_gain"], df["profit_gain_eur"] / 1e3, label=mode, s=18)
    axes[0].set_xlabel("reward per euro spent (%)")
    axes[1].set_xlabel(f"purchases gained by week {at}")
    for ax in axes:
        ax.axhline(0, color="black", lw=0.8)
        ax.set_ylabel(f"profit gain at week {at} (kEUR)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("Design lottery (S9): profit gain vs generosity", fontsize=9)
    axes[1].set_title("Transactions gained vs profit gained", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
