"""Experiment 5, ``personalisation``: contact at each personalisation quality and rate (S7).

Factors: ``firm.programme.personalisation`` (the share of contacts that are well
personalised) and ``firm.programme.contacts_per_week``. Within each personalisation level,
the baseline is no contact (0 a week) and every other rate a treatment.

Outputs: ``contact_effect.{csv,md,png}``, one row per personalisation level and contact
rate: the paired difference, contact minus no contact, in cumulative profit (EUR, with 95%
CI and p), churn to competitors (pp per customer-year, with 95% CI) and purchase share (pp,
last 13 weeks).

**S7** (badly personalised contact is worse than none; wrong timing too): the levels at
which every rate tested lowers profit significantly (CI below 0) and those at which some
rate raises it (CI above 0); and, per level, the rate with the highest mean profit effect,
said to be interior when no contact and a higher rate tested both earn less (contact fatigue
and opt-outs make more contact backfire: :mod:`loyaltysim.model.programmes.engagement`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...runs.collect import Collected
from ..compare import compare
from .common import AnalysisError, diff, require_factor, subset

NUMBER = 5
TITLE = "Personalisation quality (S7)"
QUALITY = "firm.programme.personalisation"
CONTACTS = "firm.programme.contacts_per_week"
_WORDS = {1: "every week", 2: "every two weeks", 3: "every three weeks", 4: "every four weeks"}


def contact_levels(collected: Collected) -> tuple:
    """(baseline, rates): no contact (0 a week) and the other contact rates, ascending."""
    values = sorted(dict.fromkeys(collected.summary[CONTACTS]), key=float)
    if len(values) < 2 or float(values[0]) != 0:
        raise AnalysisError(
            f"personalisation: expected {CONTACTS} to take 0 (no contact) and at least one "
            f"rate, got {values}"
        )
    return values[0], values[1:]


def _how_often(per_week: float) -> str:
    """0.5 -> 'every two weeks'; 0.3 -> '0.3 times a week'."""
    weeks = 1 / per_week
    if abs(weeks - round(weeks)) < 1e-9 and round(weeks) in _WORDS:
        return _WORDS[round(weeks)]
    return f"{per_week:g} times a week"


PROFIT_SCALED = (
    "pct_of_baseline",
    "pct_of_baseline_ci_low",
    "pct_of_baseline_ci_high",
    "per_1000",
    "per_1000_ci_low",
    "per_1000_ci_high",
)


def contact_effects(collected: Collected, none, rates) -> pd.DataFrame:
    """One row per personalisation level and contact rate: contact minus no contact,
    paired by seed."""
    rows = []
    for level in sorted(collected.runs[QUALITY].unique()):
        sub = subset(collected, **{QUALITY: level})
        cmp = compare(sub, baseline=str(none))
        for rate in rates:
            p = diff(cmp, rate, "cumulative_profit_eur")
            c = diff(cmp, rate, "churn_to_competitor_per_year_pct")
            s = diff(cmp, rate, "share_end_pct")
            m = cmp.margins.get(str(rate))
            rows.append(
                {
                    "personalisation": level,
                    "contacts_per_week": float(rate),
                    "d_profit": p["diff"],
                    "d_profit_lo": p["ci_low"],
                    "d_profit_hi": p["ci_high"],
                    "p_profit": p["p_value"],
                    "d_churn_pp": c["diff"],
                    "d_churn_lo": c["ci_low"],
                    "d_churn_hi": c["ci_high"],
                    "d_share_pp": s["diff"],
                    # the profit effect as % of no contact's and per 1,000 customers, as
                    # every paired comparison gives it (read across the worlds: S7's claims)
                    **{k: p[k] for k in PROFIT_SCALED},
                    # the gross margin (0-1) at which contacting breaks even with no contact
                    "break_even": m.break_even if m else np.nan,
                    "break_even_ci_low": m.ci_low if m else np.nan,
                    "break_even_ci_high": m.ci_high if m else np.nan,
                    "break_even_words": m.sentence() if m else "",
                    "margin": m.margin if m else np.nan,
                }
            )
    return pd.DataFrame(rows)


def interior_at_best_level(table: pd.DataFrame) -> tuple[bool, float]:
    """At the highest personalisation tested: whether its most profitable rate (by the point
    estimates) beats no contact and lies below the highest rate tested, i.e. more contact
    is not always better (S7's timing claim); and that rate (NaN: none beats no contact)."""
    t = table[table["personalisation"] == table["personalisation"].max()]
    top = t.loc[t["d_profit"].idxmax()]
    if top["d_profit"] <= 0:
        return False, float("nan")
    return bool(top["contacts_per_week"] < t["contacts_per_week"].max()), float(
        top["contacts_per_week"]
    )


def best_rates(table: pd.DataFrame) -> list[str]:
    """Per personalisation level, the rate with the highest mean profit effect (none: no
    rate beats no contact), marked interior when it is below the highest rate tested (no
    contact, the rate 0, and a higher rate both earn less)."""
    out = []
    for level, t in table.groupby("personalisation", sort=True):
        t = t.sort_values("contacts_per_week")
        top = t.loc[t["d_profit"].idxmax()]
        rate = top["contacts_per_week"]
        if top["d_profit"] <= 0:
            out.append(f"{level}: none (no rate beats no contact)")
            continue
        inner = rate < t["contacts_per_week"].iloc[-1]  # and above 0: it beats no contact
        out.append(f"{level}: {_how_often(rate)}" + (" (interior)" if inner else ""))
    return out


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    for key in (QUALITY, CONTACTS):
        require_factor(collected, key, "personalisation")
    none, rates = contact_levels(collected)
    table = contact_effects(collected, none, rates)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "contact_effect.csv", index=False)
    interior, best = interior_at_best_level(table)
    # S7's timing claim, read across the worlds (studies/worlds/claims.py: FLAGS)
    pd.DataFrame(
        [{"statistic": "interior_optimum", "value": interior, "best_rate": best,
          "personalisation": float(table["personalisation"].max())}]
    ).to_csv(out_dir / "summary.csv", index=False)  # fmt: skip
    md = [
        "Effect of contacting members at each rate vs not contacting them, by "
        "personalisation quality (share of contacts well personalised); paired by seed, 95% CI.",
        "",
        "| personalisation | contacts | Δ cumulative profit (EUR) [95% CI] | Δ churn to "
        "competitors (pp/year) [95% CI] | Δ share (pp) |",
        "|---:|---|---|---|---:|",
    ]
    for _, r in table.iterrows():
        md.append(
            f"| {r.personalisation} | {_how_often(r.contacts_per_week)} | {r.d_profit:+,.0f} "
            f"[{r.d_profit_lo:+,.0f}, {r.d_profit_hi:+,.0f}] | {r.d_churn_pp:+.2f} "
            f"[{r.d_churn_lo:+.2f}, {r.d_churn_hi:+.2f}] | {r.d_share_pp:+.2f} |"
        )
    (out_dir / "contact_effect.md").write_text("\n".join(md) + "\n")
    _figure(table, out_dir / "contact_effect.png")
    by_level = table.groupby("personalisation", sort=True)
    hurts = [float(q) for q, t in by_level if (t["d_profit_hi"] < 0).all()]
    helps = [float(q) for q, t in by_level if (t["d_profit_lo"] > 0).any()]
    levels = sorted(table["personalisation"].unique())
    first = float(table["contacts_per_week"].min())
    margins = [
        f"{_how_often(first)} at personalisation {q}: "
        + str(table[(table.personalisation == q) & (table.contacts_per_week == first)]
              .iloc[0]["break_even_words"])
        for q in (levels[0], levels[-1])
    ]  # fmt: skip
    return [
        f"- **S7** (badly personalised contact is worse than none): contact at every rate "
        f"tested lowers profit significantly at personalisation {hurts or 'no level tested'}, "
        f"and some rate raises it at {helps or 'no level tested'} (at the runs' "
        f"{100 * float(table['margin'].iloc[0]):.0f}% gross margin; break-even gross "
        f"margin, contact {'; '.join(margins)}) (`personalisation/contact_effect.md`).",
        f"- **S7** (wrong timing: more contact is not always better): the most profitable "
        f"rate at each personalisation is {'; '.join(best_rates(table))} "
        f"(`personalisation/contact_effect.md`).",
    ]


def _figure(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = [("contacts_per_week", "personalisation", "personalisation quality (share of "
               "contacts well personalised)"),
              ("personalisation", "contacts_per_week", "contacts a week")]  # fmt: skip
    for ax, (series, x_col, label) in zip(axes, panels, strict=True):
        for value, t in table.groupby(series, sort=True):
            t = t.sort_values(x_col)
            ax.errorbar(
                t[x_col].astype(float),
                t["d_profit"],
                yerr=[t["d_profit"] - t["d_profit_lo"], t["d_profit_hi"] - t["d_profit"]],
                marker="o",
                capsize=3,
                label=f"{series.replace('_', ' ')} {value:g}",
            )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel(label)
        ax.set_title("Δ cumulative profit (EUR): contact vs none (S7)", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
