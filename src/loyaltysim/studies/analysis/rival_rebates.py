"""Experiment 8, ``rival_rebates``: rebate programmes and price competition in a duopoly
(Klemperer 1987; Caminal & Matutes 1990; Kim, Shi & Srinivasan 2001; S12).

Factors: ``firm/programme`` and ``competitor/programme``, each ``none`` or ``discount``.
The baseline is the arm in which neither firm runs a programme (both factors ``none``);
its label is built from the factor names as :func:`loyaltysim.studies.compare.compare` labels arms.
The rebate rate quoted is the discount programme's ``rebate_rate`` in the runs' configs.

Outputs: per firm (``focal/``, ``rival/``), the comparison of every arm with the baseline;
``prices_profits.{csv,md}``: per arm, each firm's mean price over the last 13 weeks
(EUR/unit), each firm's and the industry's cumulative profit (EUR), means over seeds, and
the change in industry profit against the baseline with its direction (softened:
profit up; intensified: profit down).

Claim: whether rebates soften or intensify competition, from the change in industry profit
(EUR) and in the mean final price (EUR/unit) when both firms run a rebate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...runs.collect import Collected
from ..compare import compare
from .common import (
    NO_PROGRAMME,
    AnalysisError,
    arm_label,
    common_config_value,
    levels,
    require_factor,
    require_level,
    run_configs,
    save,
    subset,
)

NUMBER = 8
TITLE = "Rebates and price competition"
FOCAL = "firm/programme"
RIVAL = "competitor/programme"
REBATE = "discount"  # the programme type both firms may run (a member rebate)
LAST_WEEKS = 13  # prices are averaged over the last quarter of the run


def prices_profits(collected: Collected) -> pd.DataFrame:
    """One row per arm: mean final prices (EUR/unit) and cumulative profits (EUR)."""
    runs = collected.runs
    last = runs[runs["week"] > runs["week"].max() - LAST_WEEKS]
    final = runs[runs["week"] == runs["week"].max()]
    rows = []
    for (fp, cp), df in last.groupby([FOCAL, RIVAL]):
        price = df.groupby(["seed", "firm"])["price"].mean().unstack()
        end = final[(final[FOCAL] == fp) & (final[RIVAL] == cp)]
        profit = end.pivot_table(index="seed", columns="firm", values="cumulative_profit")
        rows.append(
            {
                "focal_programme": fp,
                "rival_programme": cp,
                "focal_price": price["focal"].mean(),
                "rival_price": price["rival"].mean(),
                "focal_profit": profit["focal"].mean(),
                "rival_profit": profit["rival"].mean(),
                "industry_profit": profit.sum(axis=1).mean(),
            }
        )
    return pd.DataFrame(rows)


def _row(table: pd.DataFrame, focal, rival) -> pd.Series:
    rows = table[(table.focal_programme == focal) & (table.rival_programme == rival)]
    if rows.empty:
        raise AnalysisError(f"rival_rebates: no arm with {FOCAL}={focal}, {RIVAL}={rival}")
    return rows.iloc[0]


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    for key in (FOCAL, RIVAL):
        require_factor(collected, key, "rival_rebates")
        for name in (NO_PROGRAMME, REBATE):
            require_level(levels(collected, key, sweep_dir), name, key, "rival_rebates")
    if sorted(collected.factors) != sorted((FOCAL, RIVAL)):
        raise AnalysisError(
            f"rival_rebates: expected the factors {FOCAL} and {RIVAL}, got {collected.factors}"
        )
    neither = arm_label(**{f: NO_PROGRAMME for f in collected.factors})
    rate = common_config_value(
        run_configs(subset(collected, **{FOCAL: REBATE}), sweep_dir), "firm.programme.rebate_rate"
    )
    for firm in ("focal", "rival"):
        save(collected, compare(collected, baseline=neither, firm=firm), out_dir / firm)
    table = prices_profits(collected)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "prices_profits.csv", index=False)
    base = _row(table, NO_PROGRAMME, NO_PROGRAMME)
    base_price = (base.focal_price + base.rival_price) / 2
    md = [
        f"Final prices (mean of the last {LAST_WEEKS} weeks, EUR/unit) and cumulative profit "
        "(EUR), means over seeds; both firms price adaptively (S12).",
        "",
        "| focal | rival | focal price | rival price | focal profit | rival profit | "
        "industry profit | Δ industry profit vs neither | direction |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for _, r in table.iterrows():
        d = r.industry_profit - base.industry_profit
        price = (r.focal_price + r.rival_price) / 2
        if r.focal_programme == NO_PROGRAMME and r.rival_programme == NO_PROGRAMME:
            direction = "baseline"
        elif d > 0:
            direction = "softened: profit up" + (", prices up" if price > base_price else "")
        else:
            direction = "intensified: profit down" + (", prices down" if price < base_price else "")
        md.append(
            f"| {r.focal_programme} | {r.rival_programme} | {r.focal_price:.2f} | "
            f"{r.rival_price:.2f} | {r.focal_profit:,.0f} | {r.rival_profit:,.0f} | "
            f"{r.industry_profit:,.0f} | {d:+,.0f} | {direction} |"
        )
    (out_dir / "prices_profits.md").write_text("\n".join(md) + "\n")
    both = _row(table, REBATE, REBATE)
    return [
        f"- **Rebates and competition** (Klemperer; Caminal & Matutes; Kim, Shi & "
        f"Srinivasan): in a duopoly with adaptive pricing, both firms running a "
        f"{100 * rate:g}% rebate changes industry profit by "
        f"{both.industry_profit - base.industry_profit:+,.0f} EUR and the mean final price "
        f"from {base_price:.2f} to {(both.focal_price + both.rival_price) / 2:.2f} EUR/unit, "
        "compared with neither. Direction per setting: `rival_rebates/prices_profits.md`."
    ]
