"""Direction checks with paired replications (common random numbers), never one lucky seed.

Each test runs both arms on the same seeds, so a paired difference removes most of the
noise; the claim is accepted when a one-sided paired t-test gives p < 0.01 across the
replications (stated tolerance), and the mean effect has the expected sign.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from conftest import small_config
from loyaltysim import run_one

SEEDS = range(10)


def focal(res, column: str, weeks: tuple[int, int]) -> float:
    m = res.metrics
    sel = (m["firm"] == "focal") & m["week"].between(*weeks)
    return float(m.loc[sel, column].mean())


def paired(arm_a, arm_b, column, weeks, **common):
    a, b = [], []
    for seed in SEEDS:
        a.append(focal(run_one(small_config(*arm_a, **common, seed=seed)), column, weeks))
        b.append(focal(run_one(small_config(*arm_b, **common, seed=seed)), column, weeks))
    return np.array(a), np.array(b)


def test_raising_price_lowers_share():
    base = ("customers.n=800", "market.horizon_weeks=26", "firm/programme=none")
    low, high = paired((*base, "firm.price=5.0"), (*base, "firm.price=5.5"), "share", (1, 26))
    diff = high - low
    assert diff.mean() < 0
    assert stats.ttest_1samp(diff, 0.0, alternative="less").pvalue < 0.01


def test_withdrawing_a_discount_programme_lowers_repeat_rate_afterwards():
    """S1: when the discounts end, the loyalty ends."""
    base = (
        "customers.n=1500",
        "market.horizon_weeks=60",
        "firm/programme=discount",
        "firm.programme.rebate_rate=0.10",
    )
    kept, withdrawn = paired(base, (*base, "firm.programme.end_week=30"), "repeat_rate", (31, 60))
    diff = withdrawn - kept
    assert diff.mean() < 0
    assert stats.ttest_1samp(diff, 0.0, alternative="less").pvalue < 0.01


def test_zero_rebate_discount_programme_equals_no_programme():
    """A discount programme that gives nothing changes nothing but its membership count."""
    a = run_one(small_config("firm/programme=none", seed=21)).metrics
    b = run_one(
        small_config("firm/programme=discount", "firm.programme.rebate_rate=0", seed=21)
    ).metrics
    membership = [
        "members",
        "loyal_members",
        "loyal_nonmembers",
        "disloyal_members",
        "disloyal_nonmembers",
    ]
    assert b["members"].sum() > 0
    np.testing.assert_array_equal(
        a.drop(columns=membership).to_numpy(), b.drop(columns=membership).to_numpy()
    )


def test_arms_that_differ_after_week_x_are_identical_up_to_x():
    """Common random numbers: a programme starting at week 15 leaves weeks 1-14 untouched."""
    a = run_one(small_config("firm/programme=none", seed=5)).metrics
    b = run_one(
        small_config("firm/programme=engagement", "firm.programme.start_week=15", seed=5)
    ).metrics
    early, late = a["week"] < 15, a["week"] >= 16
    np.testing.assert_array_equal(a[early].to_numpy(), b[early].to_numpy())
    assert not a[late].equals(b[late])
