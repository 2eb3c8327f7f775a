"""Experiment 5, ``personalisation``: contact at each personalisation quality (S7).

Factors: ``firm.programme.personalisation`` (the share of contacts that are well
personalised) and ``firm.programme.contacts_per_week``. Within each personalisation level,
the baseline is the level with no contact (0 a week) and the treatment the other level.

Outputs: ``contact_effect.{csv,md,png}``, one row per personalisation level: the paired
difference, contact minus no contact, in cumulative profit (EUR, with 95% CI and p), churn
to competitors (pp per customer-year, with 95% CI) and purchase share (pp, last 13 weeks).

**S7** (badly personalised contact is worse than none): the levels at which contact lowers
profit significantly (CI below 0) and those at which it raises it (CI above 0).
"""

from __future__ import annotations

from pathlib import Path

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
    """(baseline, treatment): no contact (0 a week) and the other contact rate."""
    values = sorted(dict.fromkeys(collected.summary[CONTACTS]), key=float)
    if len(values) != 2 or float(values[0]) != 0:
        raise AnalysisError(
            f"personalisation: expected {CONTACTS} to take 0 (no contact) and one rate, "
            f"got {values}"
        )
    return values[0], values[1]


def _how_often(per_week: float) -> str:
    """0.5 -> 'every two weeks'; 0.3 -> '0.3 times a week'."""
    weeks = 1 / per_week
    if abs(weeks - round(weeks)) < 1e-9 and round(weeks) in _WORDS:
        return _WORDS[round(weeks)]
    return f"{per_week:g} times a week"


def contact_effects(collected: Collected, none, contact) -> pd.DataFrame:
    """One row per personalisation level: contact minus no contact, paired by seed."""
    rows = []
    for level in sorted(collected.runs[QUALITY].unique()):
        sub = subset(collected, **{QUALITY: level})
        cmp = compare(sub, baseline=str(none))
        p = diff(cmp, contact, "cumulative_profit_eur")
        c = diff(cmp, contact, "churn_to_competitor_per_year_pct")
        s = diff(cmp, contact, "share_end_pct")
        rows.append(
            {
                "personalisation": level,
                "d_profit": p["diff"],
                "d_profit_lo": p["ci_low"],
                "d_profit_hi": p["ci_high"],
                "p_profit": p["p_value"],
                "d_churn_pp": c["diff"],
                "d_churn_lo": c["ci_low"],
                "d_churn_hi": c["ci_high"],
                "d_share_pp": s["diff"],
            }
        )
    return pd.DataFrame(rows)


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    for key in (QUALITY, CONTACTS):
        require_factor(collected, key, "personalisation")
    none, contact = contact_levels(collected)
    table = contact_effects(collected, none, contact)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "contact_effect.csv", index=False)
    md = [
        f"Effect of contacting members {_how_often(float(contact))} vs not contacting them, by "
        "personalisation quality (share of contacts well personalised); paired by seed, 95% CI.",
        "",
        "| personalisation | Δ cumulative profit (EUR) [95% CI] | Δ churn to competitors "
        "(pp/year) [95% CI] | Δ share (pp) |",
        "|---:|---|---|---:|",
    ]
    for _, r in table.iterrows():
        md.append(
            f"| {r.personalisation} | {r.d_profit:+,.0f} [{r.d_profit_lo:+,.0f}, "
            f"{r.d_profit_hi:+,.0f}] | {r.d_churn_pp:+.2f} [{r.d_churn_lo:+.2f}, "
            f"{r.d_churn_hi:+.2f}] | {r.d_share_pp:+.2f} |"
        )
    (out_dir / "contact_effect.md").write_text("\n".join(md) + "\n")
    _figure(table, out_dir / "contact_effect.png")
    hurts = [float(x) for x in table[table["d_profit_hi"] < 0]["personalisation"]]
    helps = [float(x) for x in table[table["d_profit_lo"] > 0]["personalisation"]]
    return [
        f"- **S7** (badly personalised contact is worse than none): contact lowers profit "
        f"significantly at personalisation {hurts or 'no level tested'} and raises it at "
        f"{helps or 'no level tested'} (`personalisation/contact_effect.md`)."
    ]


def _figure(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = table["personalisation"].astype(float)
    panels = [
        ("d_profit", "d_profit_lo", "d_profit_hi", "Δ cumulative profit (EUR)"),
        ("d_churn_pp", "d_churn_lo", "d_churn_hi", "Δ churn to competitors (pp/year)"),
    ]
    for ax, (col, lo, hi, label) in zip(axes, panels, strict=True):
        ax.errorbar(
            x,
            table[col],
            yerr=[table[col] - table[lo], table[hi] - table[col]],
            marker="o",
            capsize=4,
        )
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("personalisation quality (share of contacts well personalised)")
        ax.set_title(f"{label}: contact vs none (S7)", fontsize=9)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
