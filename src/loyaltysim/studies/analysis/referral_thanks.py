"""Experiment 6, ``referral_thanks``: thanking referrers vs a referral rebate of the same
value (S8).

Factor: ``arm/referral`` with the levels ``nothing`` (no response, the baseline),
``thanks`` (a thank-you) and ``rebate`` (a discount on the next purchase), the option names
of ``conf/arm/referral/``. Paired by seed, for the focal firm: cumulative profit (EUR) and
active loyal customers at the end (customers) of each response vs nothing, and thanks
minus rebate in cumulative profit (EUR). Also the mean number of recommendations per run
in each arm (recommendations of the focal firm over the run).

**S8** (thanking referrers beats a future-purchase discount): thanks minus rebate,
cumulative profit; expected higher.
"""

from __future__ import annotations

from pathlib import Path

from ...runs.collect import Collected
from ..compare import compare
from .common import (
    common_config_value,
    diff,
    fmt_diff,
    levels,
    margin_note,
    require_factor,
    require_level,
    run_configs,
    save,
    subset,
    verdict,
)

NUMBER = 6
TITLE = "Thanks vs rebates for referrals (S8)"
ARM = "arm/referral"


def referral_rebate_eur(rebate_arm: Collected, sweep_dir: Path) -> float:
    """The rebate arm's reward for a recommendation in EUR (points x value of a point)."""
    configs = run_configs(rebate_arm, sweep_dir)
    points = float(common_config_value(configs, "firm.programme.referral_reward_points"))
    return points * float(common_config_value(configs, "firm.programme.point_value_eur"))


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    require_factor(collected, ARM, "referral_thanks")
    arms = levels(collected, ARM, sweep_dir)
    nothing, thanks, rebate = (
        require_level(arms, name, ARM, "referral_thanks")
        for name in ("nothing", "thanks", "rebate")
    )
    rebate_eur = referral_rebate_eur(subset(collected, **{ARM: rebate}), sweep_dir)
    cmp = compare(collected, baseline=str(nothing))
    save(collected, cmp, out_dir)
    runs = collected.runs[collected.runs["firm"] == "focal"]
    refs = runs.groupby([ARM, "seed"])["referrals"].sum().groupby(level=0).mean()
    t = diff(cmp, thanks, "cumulative_profit_eur")
    r = diff(cmp, rebate, "cumulative_profit_eur")
    ta = diff(cmp, thanks, "active_loyal_end")
    ra = diff(cmp, rebate, "active_loyal_end")
    between = compare(collected, baseline=str(rebate))
    tr = diff(between, thanks, "cumulative_profit_eur")
    return [
        f"- **S8** (thanking referrers beats a future-purchase discount): against no "
        f"response, thanks changes cumulative profit by {fmt_diff(t, 'EUR', 0)} and active "
        f"loyal customers by {ta['diff']:+,.0f}; the EUR {rebate_eur:g} referral rebate by "
        f"{fmt_diff(r, 'EUR', 0)} and {ra['diff']:+,.0f}. Thanks minus rebate: "
        f"{fmt_diff(tr, 'EUR', 0)}{margin_note(between, thanks)}; thanks better: "
        f"{verdict(tr, 1)}. Recommendations per "
        "run: " + ", ".join(f"{k} {v:,.0f}" for k, v in refs.items()) + ".",
    ]
