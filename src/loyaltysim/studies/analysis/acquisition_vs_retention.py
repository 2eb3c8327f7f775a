"""Experiment 4, ``acquisition_vs_retention``: spending on acquisition vs on retention (S5),
and what five points more retention are worth (Reichheld & Sasser).

Factors: ``arm/acquisition`` (how the weekly budget is split between paid acquisition and
an engagement programme) and ``customers.dropout_b`` (the beta prior of the per-purchase
drop-out probability: a larger ``b`` means a lower drop-out, i.e. more retention).

- The budget baseline is the arm that spends most on paid acquisition (the largest
  ``firm.acquisition.weekly_budget_per_1000`` in its runs' resolved configs); the other arms move
  budget to retention. **S5**: each of them vs the baseline at the lower drop-out ``b``,
  cumulative profit (EUR, paired by seed) and the programme spend (EUR over the run);
  retention beating acquisition means higher profit.
- **+5 points of retention**: within each budget arm, the higher ``dropout_b`` vs the
  lower (the baseline), churn out of the category (pp per customer-year) and cumulative
  profit (% of the baseline's mean profit, with the 95% CI of the paired difference).
"""

from __future__ import annotations

from pathlib import Path

from ...runs.collect import Collected
from ..compare import compare
from .common import (
    AnalysisError,
    arm_mean,
    common_config_value,
    config_value,
    diff,
    fmt_diff,
    levels,
    margin_note,
    require_factor,
    run_configs,
    save,
    subset,
    verdict,
)

NUMBER = 4
TITLE = "Acquisition vs retention (S5)"
BUDGET = "arm/acquisition"
DROPOUT = "customers.dropout_b"


def budget_arms(collected: Collected, configs: dict[str, dict], sweep_dir: Path) -> list:
    """The budget arms, the baseline (most spent on acquisition) first, then the others
    in the sweep's order; ``configs`` are the runs' resolved configs (run_configs)."""
    arms = levels(collected, BUDGET, sweep_dir)
    by_run = collected.summary.drop_duplicates("run_id").set_index("run_id")[BUDGET]
    spend = {str(a): set() for a in arms}
    for run_id, cfg in configs.items():
        budget = config_value(cfg, "firm.acquisition.weekly_budget_per_1000")
        spend[str(by_run[run_id])].add(float(budget))
    top = max(max(s) for s in spend.values())
    base = [a for a in arms if top in spend[str(a)]]
    if len(base) != 1:
        raise AnalysisError(
            f"acquisition_vs_retention: expected one arm with the largest acquisition budget, "
            f"got {[str(a) for a in base]}"
        )
    return base + [a for a in arms if str(a) != str(base[0])]


def dropout_levels(collected: Collected) -> tuple:
    """(baseline, treatment): the lower and the higher ``dropout_b``."""
    values = sorted(dict.fromkeys(collected.summary[DROPOUT]), key=float)
    if len(values) != 2:
        raise AnalysisError(
            f"acquisition_vs_retention: expected two levels of {DROPOUT}, got {values}"
        )
    return values[0], values[1]


def _dropout_change(a: float, b_low: float, b_high: float) -> str:
    """How the mean per-purchase drop-out a / (a + b) changes from b_low to b_high, in words."""
    ratio = (a / (a + b_high)) / (a / (a + b_low))
    return "halving" if abs(ratio - 0.5) < 0.01 else f"multiplying by {ratio:.2f}"


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    for key in (BUDGET, DROPOUT):
        require_factor(collected, key, "acquisition_vs_retention")
    configs = run_configs(collected, sweep_dir)
    arms = budget_arms(collected, configs, sweep_dir)
    low, high = dropout_levels(collected)
    dropout_a = float(common_config_value(configs, "customers.dropout_a"))
    change = _dropout_change(dropout_a, float(low), float(high))
    lines = []
    base = subset(collected, **{DROPOUT: low})
    cmp = compare(base, baseline=str(arms[0]))
    save(base, cmp, out_dir / "budget")
    for arm in arms[1:]:
        p = diff(cmp, arm, "cumulative_profit_eur")
        cost = arm_mean(cmp, arm, "programme_cost_eur")
        lines.append(
            f"- **S5** moving acquisition budget to retention ({arm}: programme "
            f"spend {cost:,.0f} EUR over the run): cumulative profit "
            f"{fmt_diff(p, 'EUR', 0)}{margin_note(cmp, arm)}. Retention beats acquisition: "
            f"{verdict(p, 1)}."
        )
    rows = []
    for arm in arms:
        sub = subset(collected, **{BUDGET: arm})
        cmp = compare(sub, baseline=str(low))
        save(sub, cmp, out_dir / f"retention_{arm}")
        p = diff(cmp, high, "cumulative_profit_eur")
        churn = diff(cmp, high, "churn_out_per_year_pct")
        base_profit = arm_mean(cmp, low, "cumulative_profit_eur")
        rows.append(
            f"{arm}: churn out {churn['diff']:+.1f} pp/year, profit "
            f"{100 * p['diff'] / base_profit:+.1f}% (95% CI "
            f"{100 * p['ci_low'] / base_profit:+.1f}% to {100 * p['ci_high'] / base_profit:+.1f}%)"
        )
    lines.append(
        f"- **+5 points of retention** (Reichheld & Sasser): {change} every customer's "
        "per-purchase drop-out changes the focal firm's profit over the run by "
        + "; ".join(rows)
        + ". The literature's 25-85% concerns a firm's own "
        "defections over longer customer lifetimes than this run's horizon."
    )
    return lines
