"""Accounting identities and invariants, per firm and step, under random valid configs."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import small_config
from loyaltysim import PROGRAMMES, load_config, run_one
from loyaltysim.model.metrics import COUNT_COLUMNS

SCENARIO = (
    "firm/programme=discount",
    "competitor/programme=engagement",
    "competitor.poaching.rate=0.1",
    "competitor.poaching.target=own_buyers",
    "firm.pricing.policy=adaptive",
)


def check_identities(res) -> None:
    m = res.metrics
    # profit = revenue - unit costs - programme cost - acquisition cost
    np.testing.assert_allclose(m["gross_margin"], m["revenue"] - m["cogs"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        m["profit"],
        m["revenue"] - m["cogs"] - m["programme_cost"] - m["acquisition_cost"],
        rtol=1e-12,
        atol=1e-9,
    )
    for _, df in m.groupby("firm"):
        np.testing.assert_allclose(
            df["cumulative_profit"], df["profit"].cumsum(), rtol=1e-9, atol=1e-6
        )
        # customers conserved per firm: change = acquired + referred + switched in - out - left
        flow = (
            df["acquired"]
            + df["referred"]
            + df["switched_in"]
            - df["churn_to_competitor"]
            - df["churn_out"]
        )
        change = df["customers"].diff().iloc[1:]
        np.testing.assert_array_equal(change.to_numpy(), flow.iloc[1:].to_numpy())
    # and in total: arrivals - departures = change in population
    tot = m.groupby("step")[["customers", "acquired", "referred", "churn_out"]].sum()
    change = tot["customers"].diff().dropna()
    np.testing.assert_array_equal(
        change, (tot["acquired"] + tot["referred"] - tot["churn_out"]).iloc[1:]
    )
    # shares sum to one; counts are never negative; membership splits add up
    shares = m.groupby("step")["share"].sum()
    np.testing.assert_allclose(shares[m.groupby("step")["purchases"].sum() > 0], 1.0, rtol=1e-12)
    for col in COUNT_COLUMNS:
        assert (m[col] >= 0).all(), col
    for col in ("revenue", "cogs", "programme_cost", "acquisition_cost", "units"):
        assert (m[col] >= 0).all(), col
    assert ((m["repeat_rate"].dropna() >= 0) & (m["repeat_rate"].dropna() <= 1)).all()
    assert (m["active_loyal"] + m["passive_loyal"] <= m["customers"]).all()
    defected_loyal = m["defected_active_loyal"] + m["defected_passive_loyal"]
    assert (defected_loyal <= m["churn_to_competitor"]).all()
    assert (m["loyal_members"] + m["disloyal_members"] == m["members"]).all()
    # the customer table agrees with the final stock
    cust = res.customers
    final = m[m["step"] == m["step"].max()].set_index("firm")["customers"]
    active = cust[cust["status"] == "active"]["main_firm"].value_counts()
    assert active.reindex(final.index, fill_value=0).tolist() == final.tolist()


def test_identities_hold_in_a_busy_scenario():
    res = run_one(small_config(*SCENARIO, "customers.referral.rate=0.2", seed=4))
    assert res.metrics["referred"].sum() > 0 and res.metrics["acquired"].sum() > 0
    assert res.metrics["churn_to_competitor"].sum() > 0 and res.metrics["offers_sent"].sum() > 0
    check_identities(res)


def test_initial_customers_split_over_firms_sum_to_n():
    res = run_one(small_config("market.warmup_weeks=0", seed=9))
    first = res.metrics[res.metrics["step"] == 1]
    flows = first["acquired"] + first["referred"] - first["churn_out"]
    assert int(first["customers"].sum() - flows.sum()) == 400


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(5, 300),
    rivals=st.integers(0, 3),
    programme=st.sampled_from(sorted(PROGRAMMES)),
    rival_programme=st.sampled_from(sorted(PROGRAMMES)),
    mode=st.sampled_from(["rebate", "points"]),
    price=st.floats(1.0, 9.0),
    poach=st.floats(0.0, 1.0),
    target=st.sampled_from(["all", "deal_prone", "own_buyers"]),
    referral=st.floats(0.0, 1.0),
    step_weeks=st.sampled_from([1, 2]),
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants_under_random_valid_configs(
    n, rivals, programme, rival_programme, mode, price, poach, target, referral, step_weeks, seed
):
    overrides = [
        f"customers.n={n}",
        f"competitor.count={rivals}",
        f"firm/programme={programme}",
        f"competitor/programme={rival_programme}",
        f"firm.price={price}",
        f"competitor.poaching.rate={poach}",
        f"competitor.poaching.target={target}",
        f"customers.referral.rate={referral}",
        f"market.step_weeks={step_weeks}",
        "market.horizon_weeks=16",
        "output.figure=false",
    ]
    if programme == "discount":
        overrides += [f"firm.programme.mode={mode}", "firm.programme.redemption_threshold=30"]
    res = run_one(load_config(overrides, seed=seed))
    check_identities(res)
