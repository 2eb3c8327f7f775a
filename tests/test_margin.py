"""The break-even gross margin (studies/margin.py): the re-pricing identity is checked against
runs actually played at other unit costs, and Fieller's interval against a brute-force
inversion of the paired t interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltysim import run
from loyaltysim.studies.margin import break_even, effect_at_margins, paired_parts

ARMS = ("none", "engagement")
SEEDS = (0, 1, 2, 3)
SMALL = ["customers.n=400", "market.horizon_weeks=30", "output.figure=false"]


def _summary(unit_cost: float, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = []
    for arm in ARMS:
        for seed in SEEDS:
            r = run(
                overrides=[*SMALL, f"firm/programme={arm}", f"firm.unit_cost={unit_cost}", *extra],
                seed=seed,
            )
            s = r.summary[r.summary["firm"] == "focal"].assign(arm=arm, seed=seed)
            rows.append(s)
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def at_30() -> pd.DataFrame:
    return _summary(3.5)


def test_re_pricing_matches_runs_played_at_other_unit_costs(at_30):
    # behaviour does not depend on the unit cost where prices are fixed: the same runs,
    # re-priced, must give what runs played at 2.5 and 4.5 EUR give, seed by seed
    for unit_cost in (2.5, 4.5):
        other = _summary(unit_cost)
        margin = 1 - unit_cost / 5.0
        eff = effect_at_margins(at_30, "engagement", "none", np.array([margin]))
        cur = other[other["arm"] == "engagement"].set_index("seed")["cumulative_profit_eur"]
        base = other[other["arm"] == "none"].set_index("seed")["cumulative_profit_eur"]
        played = float((cur - base).mean())
        assert eff["diff"].iloc[0] == pytest.approx(played, rel=1e-9, abs=1e-6)
        # and the break-even is the same whichever unit cost the runs were played at
        assert break_even(other, "engagement", "none").break_even == pytest.approx(
            break_even(at_30, "engagement", "none").break_even, rel=1e-9
        )


def test_margin_of_the_runs_is_read_from_them(at_30):
    a, b, price, margin = paired_parts(at_30, "engagement", "none")
    assert price == 5.0
    assert margin == pytest.approx(0.3)
    assert a.size == b.size == len(SEEDS)


def _ci_contains_zero(d: np.ndarray) -> bool:
    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return abs(d.mean()) <= half


def test_fieller_interval_is_where_the_paired_interval_contains_zero():
    rng = np.random.default_rng(5)
    n = 12
    units_base = rng.normal(10_000, 50, n)
    d_units = rng.normal(400, 60, n)
    d_profit = rng.normal(-300, 120, n)  # at the runs' margin of 30%
    base = pd.DataFrame(
        {
            "arm": "base",
            "seed": range(n),
            "cumulative_profit_eur": 1000.0,
            "revenue_eur": 5 * units_base,
            "units": units_base,
            "cogs_eur": 3.5 * units_base,
            "price_start_eur": 5.0,
            "price_fixed": True,
        }
    )
    arm = base.assign(
        arm="arm",
        cumulative_profit_eur=1000.0 + d_profit,
        units=units_base + d_units,
        cogs_eur=3.5 * (units_base + d_units),
        revenue_eur=5 * (units_base + d_units),
    )
    summary = pd.concat([base, arm], ignore_index=True)
    be = break_even(summary, "arm", "base")
    a, b, _, _ = paired_parts(summary, "arm", "base")
    # point estimate: the mean effect is zero there
    assert (a + be.break_even * b).mean() == pytest.approx(0, abs=1e-6)
    assert be.slope_eur > 0 and be.ci_low < be.break_even < be.ci_high
    grid = np.linspace(be.ci_low - 0.05, be.ci_high + 0.05, 401)
    inside = np.array([_ci_contains_zero(a + m * b) for m in grid])
    expected = (grid >= be.ci_low) & (grid <= be.ci_high)
    # the two agree except at most at the grid points that straddle each bound
    assert (inside != expected).sum() <= 2
    assert "pays at margins above" in be.sentence()


def test_no_break_even_where_the_price_adapts():
    s = _summary(
        3.5,
        (
            "firm.pricing.policy=adaptive",
            "firm.pricing.min_price=4",
            "firm.pricing.max_price=6",
        ),
    )
    be = break_even(s, "engagement", "none")
    assert not np.isfinite(be.break_even)
    assert "adaptive" in be.note


def test_break_even_words_stay_inside_the_margins_a_firm_can_have():
    from loyaltysim.studies.margin import words

    assert words(0.5, 0.48, 0.51, True) == (
        "break-even gross margin 50% (95% CI 48% to 51%): pays at margins above it"
    )
    # an interval reaching past 100% is said so, never as "1732%"
    assert "(95% CI 0% to above 100%)" in words(0.65, 0.0, 17.3, True)
    # the sign is the same at every margin
    assert words(-0.03, -0.04, -0.02, False).startswith("loses money at every gross margin")
    assert words(-0.03, -0.04, -0.02, True).startswith("pays at every gross margin")
    # an unbounded interval: no point estimate is given at all
    text = words(-54.85, np.nan, np.nan, True)
    assert "not determined" in text and "%" not in text
