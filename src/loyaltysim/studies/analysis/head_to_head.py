"""Experiment 1, ``head_to_head``: no programme vs discount vs engagement (S2, S3, S4).

The focal firm's programme type is the factor ``firm/programme``; the baseline is the level
``none`` (no programme) and the two treatments are the levels ``discount`` and
``engagement``. Every number is a difference from the baseline paired by seed, for the
focal firm over the run: cumulative profit and programme cost in EUR, purchase share in
percentage points (pp, last 13 weeks), churn to competitors and out of the category in pp
per customer-year, active loyal customers at the end (customers).

- **S2** (discounts eat profit): discount vs none, cumulative profit; expected lower.
- **S3/S4** (engagement drives loyalty and profit; loyal customers churn less): engagement
  vs none, cumulative profit (expected higher) and churn to competitors (expected lower).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...runs.collect import Collected
from ..compare import compare
from ..margin import break_even, plot_effect_by_margin
from .common import (
    NO_PROGRAMME,
    diff,
    fmt_diff,
    levels,
    require_factor,
    require_level,
    save,
    verdict,
)

NUMBER = 1
TITLE = "No programme vs discount vs engagement (S1-S4)"
FACTOR = "firm/programme"


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    require_factor(collected, FACTOR, "head_to_head")
    programmes = levels(collected, FACTOR, sweep_dir)
    base = require_level(programmes, NO_PROGRAMME, FACTOR, "head_to_head")
    discount = require_level(programmes, "discount", FACTOR, "head_to_head")
    engagement = require_level(programmes, "engagement", FACTOR, "head_to_head")
    cmp = compare(collected, baseline=str(base))
    save(collected, cmp, out_dir)
    d_profit = diff(cmp, discount, "cumulative_profit_eur")
    d_cost = diff(cmp, discount, "programme_cost_eur")
    d_share = diff(cmp, discount, "share_end_pct")
    e_profit = diff(cmp, engagement, "cumulative_profit_eur")
    e_churn = diff(cmp, engagement, "churn_to_competitor_per_year_pct")
    e_active = diff(cmp, engagement, "active_loyal_end")
    e_out = diff(cmp, engagement, "churn_out_per_year_pct")
    # S2 and S3 reverse inside the plausible margins (10-50%): state where, from the same runs
    focal = collected.summary[collected.summary["firm"] == cmp.firm]
    focal = focal.assign(arm=focal[FACTOR].astype(str))
    arms = [str(discount), str(engagement)]
    margins = {a: break_even(focal, a, str(base)) for a in arms}
    pd.DataFrame([vars(m) for m in margins.values()]).to_csv(
        out_dir / "break_even_margin.csv", index=False
    )
    plot_effect_by_margin(
        focal,
        arms,
        str(base),
        {a: f"{a} vs {base}" for a in arms},
        float(focal["market_customers"].iloc[0]),
        out_dir / "effect_by_margin.png",
    )
    at = f"at the default {100 * margins[arms[0]].margin:.0f}% gross margin"
    return [
        f"- **S2** (discounts eat profit): discount vs no programme, cumulative profit "
        f"{fmt_diff(d_profit, 'EUR', 0)}. The programme cost {d_cost['diff']:,.0f} EUR and "
        f"bought {d_share['diff']:+.2f} pp of purchase share. "
        f"{verdict(d_profit, -1).capitalize()} {at}; {margins[arms[0]].sentence()} "
        "(effect_by_margin.png).",
        f"- **S3/S4** (engagement drives loyalty and profit; loyal customers churn less): "
        f"engagement vs no programme, cumulative profit {fmt_diff(e_profit, 'EUR', 0)}, "
        f"churn to competitors {fmt_diff(e_churn, 'pp/year', 2)}, churn out of the category "
        f"{fmt_diff(e_out, 'pp/year', 2)}, active loyal customers {fmt_diff(e_active, '', 0)}. "
        f"Profit: {verdict(e_profit, 1)} {at}, {margins[arms[1]].sentence()}; churn to "
        f"competitors: {verdict(e_churn, -1)}.",
    ]
